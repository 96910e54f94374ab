// The Folio error classes (Haxall's Errs.fan and the haystack errors), with the names of spec section 0.
import type { HDict, HRef } from 'haystack-core';

/** Base of every error hxredis throws on purpose, so callers can tell ours from bugs. */
export class FolioError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Missing or trashed record on a checked read, or no match for `read(filter)`. */
export class UnknownRecError extends FolioError {}
/** The FolioContext denied a read or write. */
export class PermissionError extends FolioError {}
/** Any read or write after `close()`. */
export class ShutdownError extends FolioError {}
/** A write on a folio opened as a replica. */
export class ReadonlyReplicaError extends FolioError {}
export class InvalidRecIdError extends FolioError {}
export class InvalidTagNameError extends FolioError {}
export class InvalidTagValError extends FolioError {}
/** A malformed diff or batch, or a tag-rule violation. */
export class DiffError extends FolioError {}
/** Add of an existing id, update or remove of a missing rec, transient/persistent overlap. */
export class CommitError extends FolioError {}
/** `mod` mismatch without `force`. */
export class ConcurrentChangeError extends CommitError {}
/** A store that cannot be loaded (corrupt record, bad meta). */
export class LoadError extends CommitError {}
/** Malformed input text: a filter, a Ref id, a Zinc value. */
export class ParseError extends FolioError {}
/** Bad argument to an API call (for example an idPrefix that does not end in `:`). */
export class ArgError extends FolioError {}
/** The storage (Redis) could not be reached or answered with an error we cannot map. */
export class StorageError extends FolioError {}

/** An error about one record: the message is `"msg [@id]"`. */
export class RecError extends FolioError {
  readonly recId: string | undefined;
  constructor(rec: HDict | HRef | string | null | undefined, msg: string, options?: { cause?: unknown }) {
    const id = recIdOf(rec);
    super(id === undefined ? msg : `${msg} [@${id}]`, options);
    this.recId = id;
  }
}

/** The point is not configured for history. */
export class HisConfigError extends RecError {}
/** Bad history items. */
export class HisWriteError extends RecError {}

function recIdOf(rec: HDict | HRef | string | null | undefined): string | undefined {
  if (rec === null || rec === undefined) return undefined;
  if (typeof rec === 'string') return rec;
  if ('value' in rec && typeof (rec as HRef).value === 'string' && !('get' in rec)) return (rec as HRef).value;
  const id = (rec as HDict).get?.('id') as HRef | undefined;
  return id?.value;
}
