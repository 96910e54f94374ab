// Pure validation of ids, tag names, tag values and commit batches (spec 2.1, 2.3; Haxall FolioUtil).
import { HStr, HUri, HList, HDict, Kind, isHVal } from 'haystack-core';
import type { HVal } from 'haystack-core';
import { ArgError, DiffError, InvalidRecIdError, InvalidTagNameError, InvalidTagValError } from './errors.js';
import type { Diff } from './Diff.js';

/** Max length of a rec id and of a tag name. */
export const MAX_ID_LEN = 60;
/** Max length of a tag name. */
export const MAX_TAG_NAME_LEN = 60;
/** Max length of a Str value. */
export const MAX_STR_LEN = 32767;
/** Max length of a Uri value. */
export const MAX_URI_LEN = 1000;

// Haystack Ref.isId: a-z A-Z 0-9 _ : - . ~ and non-empty
const ID_RE = /^[A-Za-z0-9_:\-.~]+$/;

/** True if `id` only has the characters a Haystack Ref id may have (`Ref.isId`). */
export function isRefId(id: string): boolean {
  return ID_RE.test(id);
}

/** Haxall `Etc.isTagName`: first char a-z, or `_` followed by more chars; the rest alphanumeric or `_`. */
export function isTagName(name: string): boolean {
  if (name.length === 0) return false;
  const first = name.charCodeAt(0);
  if (first === 0x5f /* _ */) {
    if (name.length === 1) return false;
  } else if (first < 0x61 || first > 0x7a) {
    return false;
  }
  return /^[A-Za-z0-9_]*$/.test(name.slice(1));
}

/** Validate the id of an added rec (`FolioUtil.checkRecId`); throws InvalidRecIdError. */
export function checkRecId(id: string): void {
  // the Ref constructor rejects bad chars before FolioUtil runs; we report both as InvalidRecIdError
  if (!isRefId(id)) throw new InvalidRecIdError(`Invalid chars in id: ${JSON.stringify(id)}`);
  if (id.length >= 2 && id[1] === '.' && id[0] >= 'A' && id[0] <= 'Z') {
    throw new InvalidRecIdError(`Cannot use Niagara id: @${id}`);
  }
  if (id.length > MAX_ID_LEN) throw new InvalidRecIdError(`Id too long: @${id}`);
  if (id.includes(':')) throw new InvalidRecIdError(`Id cannot contain colon: @${id}`);
}

/** Validate a tag name (`FolioUtil.checkTagName`); throws InvalidTagNameError. */
export function checkTagName(name: string): void {
  if (typeof name !== 'string' || !isTagName(name)) {
    throw new InvalidTagNameError(`Invalid tag name: ${JSON.stringify(name)}`);
  }
  if (name.length > MAX_TAG_NAME_LEN) throw new InvalidTagNameError(`Tag name too long: ${name}`);
}

// Kinds a folio can store (Haxall Kind.isStorable): everything but NA. Span has no HVal in
// haystack-core, so it travels as an XStr and is covered by XStr.
const STORABLE = new Set<string>([
  Kind.Marker, Kind.Remove, Kind.Bool, Kind.Number, Kind.Str, Kind.Ref, Kind.Uri, Kind.Date, Kind.Time,
  Kind.DateTime, Kind.Coord, Kind.XStr, Kind.Bin, Kind.Symbol, Kind.List, Kind.Dict, Kind.Grid,
]);

/** Validate a tag value (`FolioUtil.checkTagVal`); throws InvalidTagValError. Lists and dicts are deep, grids not. */
export function checkTagVal(name: string, val: unknown): void {
  checkVal(name, val);
  if (name === 'name') {
    if (val instanceof HStr) {
      if (!isRefId(val.value)) throw new InvalidTagValError(`Invalid name: ${JSON.stringify(val.value)}`);
    } else if (!isKind(val, Kind.Remove)) {
      throw new InvalidTagValError(`Tag 'name' must be a Str`);
    }
  }
}

function checkVal(name: string, val: unknown): void {
  if (val === null || val === undefined) throw new InvalidTagValError(`Tag cannot be null: ${name}`);
  if (!isHVal(val)) throw new InvalidTagValError(`Unsupported value type for tag '${name}': ${typeName(val)}`);
  const kind = (val as HVal).getKind();
  if (!STORABLE.has(kind)) throw new InvalidTagValError(`Unsupported value type for tag '${name}': ${kind}`);
  if (val instanceof HStr) {
    if (val.value.length > MAX_STR_LEN) throw new InvalidTagValError(`Str too long for tag '${name}': ${val.value.length}`);
  } else if (val instanceof HUri) {
    if (val.value.length > MAX_URI_LEN) throw new InvalidTagValError(`Uri too long for tag '${name}': ${val.value.length}`);
  } else if (val instanceof HList) {
    for (const v of val) checkVal(name, v);
  } else if (val instanceof HDict) {
    for (const k of val.keys) checkVal(name, val.get(k));
  }
}

function isKind(val: unknown, kind: Kind): boolean {
  return isHVal(val) && (val as HVal).getKind() === kind;
}

function typeName(val: unknown): string {
  if (typeof val !== 'object' || val === null) return typeof val;
  return (val as object).constructor?.name ?? 'object';
}

/** Batch checks of `commitAll` (spec 2.3): non-empty, not mixed transient/persistent, no duplicate ids. */
export function checkDiffs(diffs: readonly Diff[]): void {
  if (diffs.length === 0) throw new DiffError('No diffs to commit');
  const transient = diffs[0].isTransient;
  const ids = new Set<string>();
  for (const diff of diffs) {
    if (diff.isTransient !== transient) throw new DiffError('Cannot mix transient and persistent diffs');
    const id = diff.id.value;
    if (ids.has(id)) throw new DiffError(`Duplicate diffs for ${id}`);
    ids.add(id);
  }
}

/** Validate a FolioConfig idPrefix: Ref id chars only and ending in `:`; throws ArgError. */
export function checkIdPrefix(prefix: string): void {
  if (!isRefId(prefix) || !prefix.endsWith(':')) throw new ArgError(`Invalid idPrefix: ${JSON.stringify(prefix)}`);
}

