// What the history manager (src/his) may use of a folio: a narrow view, so history code never
// reaches into the record cache or the commit path directly.
import type { HDict, HRef, HVal } from 'haystack-core';
import type { Redis } from 'ioredis';
import type { ConnectionOptions } from '../storage/connection.js';
import type { FolioKeys } from '../storage/keys.js';
import type { FolioContext, FolioHooks } from './types.js';

export interface FolioInternals {
  readonly keys: FolioKeys;
  readonly idPrefix: string | undefined;
  /** the options every connection of this folio uses (url, TLS, auth, ioredis options) */
  readonly connection: ConnectionOptions;
  /** the folio's shared ioredis connection */
  readonly main: Redis;
  /** the folio's open options (for his options such as a forced backend) */
  readonly options: Readonly<Record<string, unknown>>;
  log(msg: string): void;
  hooks(): FolioHooks | undefined;
  /**
   * The record for a his read or write: UnknownRecError if missing or trash, PermissionError if
   * `cx` denies the read (or, with `write`, the write), ShutdownError after close,
   * ReadonlyReplicaError for a write on a replica.
   */
  readRecChecked(id: HRef | string, cx: FolioContext | undefined, write: boolean): HDict;
  /** Sets (or, with undefined, removes) transient tags on a record, bypassing the tag rules. */
  setTransientTags(id: string, tags: Record<string, HVal | undefined>): void;
  /** The absolute id of a Ref or id string. */
  absId(id: HRef | string): string;
  /** Registers a close action (for history connections); runs before the folio's own close. */
  onClose(f: () => Promise<void>): void;
  isClosed(): boolean;
  /** A value made once per folio and shared by all its views (e.g. the detected his backend). */
  shared<T>(key: string, make: () => T): T;
}
