// Public option and callback types of the Folio API (spec sections 0 and 1.10).
import type { HDateTime, HDict, HVal } from 'haystack-core';
import type { Diff } from './Diff.js';

/** Options of readAll, readAllList, readCount, readTrash and readAllEachWhile. */
export interface ReadOptions {
  /** at most this many matches; `<= 0` gives none without scanning */
  limit?: number;
  /** glob (`*`, `?`), `re:<regex>` or `f:<filter>`, over dis, Str tags and (8+ chars) the id */
  search?: string;
  /** natural sort by dis, applied after `limit` */
  sort?: boolean;
  /** copied into the grid meta */
  gridMeta?: HDict;
  /**
   * Diagnostic: ignore the tag indexes and scan every cached record (the benchmark's baseline;
   * results are the same, only slower).
   */
  forceScan?: boolean;
}

/** What a FolioContext is asked about a write. `diff` is undefined for his writes. */
export interface FolioWrite {
  oldRec: HDict | undefined;
  diff: Diff | undefined;
}

/** The security context of the caller (Haxall FolioContext). No context: everything is allowed. */
export interface FolioContext {
  canRead(rec: HDict): boolean;
  canWrite(write: FolioWrite): boolean;
  /** passed to the hooks as `cxInfo` */
  commitInfo?(): unknown;
}

export interface FolioCommitEvent {
  /** the caller's Diff in preCommit, the result Diff in postCommit */
  diff: Diff;
  /** the current rec (undefined for adds) */
  oldRec: HDict | undefined;
  cxInfo: unknown;
}

export interface HisItem {
  ts: HDateTime;
  val: HVal;
}

export interface HisWriteResult {
  count: number;
  span?: { start: HDateTime; end: HDateTime };
}

export interface FolioHisEvent {
  rec: HDict;
  result: HisWriteResult;
  cxInfo: unknown;
}

/** Hooks; an exception from preCommit cancels the whole batch. */
export interface FolioHooks {
  preCommit?(event: FolioCommitEvent): void;
  postCommit?(event: FolioCommitEvent): void;
  postHisWrite?(event: FolioHisEvent): void;
}
