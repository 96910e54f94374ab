// Point configuration for history (spec 3.1): FolioUtil.hisWriteCheck, hisKind, hisTz, hisUnit,
// hisTsPrecision. Pure: no server. Every failure is a HisConfigError "msg [@id]".
import { HDict, HMarker, HNum, HStr, Kind, type HVal } from 'haystack-core';
import { HisConfigError } from '../folio/errors.js';
import { ianaOf } from './tz.js';
import { isKnownUnit } from './units.js';

export type HisKind = 'Number' | 'Bool' | 'Str' | 'Coord';

/** What a his read or write needs of a point rec. */
export interface HisConfig {
  rec: HDict;
  kind: HisKind;
  /** Haystack tz name, e.g. `Chicago` */
  tz: string;
  /** IANA zone, e.g. `America/Chicago` */
  iana: string;
  /** the rec unit, or undefined */
  unit: string | undefined;
  /** timestamp precision in ms: 1000 (default, `1sec`) or 1 (`1ms`) */
  precisionMs: number;
}

/** Haystack kind names (the values a `kind` tag may name). */
const KIND_NAMES = new Set([
  'Obj', 'Marker', 'NA', 'Remove', 'Bool', 'Number', 'Str', 'Uri', 'Ref', 'Symbol', 'Bin', 'Date', 'Time',
  'DateTime', 'Coord', 'XStr', 'List', 'Dict', 'Grid', 'Span',
]);
const HIS_KINDS = new Set<string>(['Number', 'Bool', 'Str', 'Coord']);

/** The Fantom type name of a value, as Haxall's messages print it (`sys::Bool`, `haystack::Number`). */
export function typeName(val: HVal | null | undefined): string {
  if (val === null || val === undefined) return 'null';
  const kind = val.getKind();
  switch (kind) {
    case Kind.Bool:
      return 'sys::Bool';
    case Kind.Str:
      return 'sys::Str';
    case Kind.Uri:
      return 'sys::Uri';
    case Kind.Date:
      return 'sys::Date';
    case Kind.Time:
      return 'sys::Time';
    case Kind.DateTime:
      return 'sys::DateTime';
    case Kind.List:
      return 'sys::List';
    case Kind.Number:
      return 'haystack::Number';
    case Kind.Marker:
      return 'haystack::Marker';
    case Kind.NA:
      return 'haystack::NA';
    case Kind.Remove:
      return 'haystack::Remove';
    case Kind.Ref:
      return 'haystack::Ref';
    case Kind.Coord:
      return 'haystack::Coord';
    case Kind.XStr:
      return 'haystack::XStr';
    case Kind.Dict:
      return 'haystack::Dict';
    case Kind.Grid:
      return 'haystack::Grid';
    case Kind.Symbol:
      return 'haystack::Symbol';
    default:
      return `haystack::${String(kind)}`;
  }
}

function isMarker(v: HVal | undefined): boolean {
  return v instanceof HMarker;
}

/** hisKind: Number, Bool, Str or Coord. */
export function hisKind(rec: HDict): HisKind {
  const v = rec.get('kind');
  if (v === undefined || v === null) throw new HisConfigError(rec, "Missing 'kind' tag");
  if (!(v instanceof HStr)) throw new HisConfigError(rec, `Invalid type for 'kind' tag: ${typeName(v)}`);
  const k = v.value;
  if (!KIND_NAMES.has(k)) throw new HisConfigError(rec, `Invalid 'kind' tag: ${k}`);
  if (!HIS_KINDS.has(k)) throw new HisConfigError(rec, `Unsupported 'kind' for his: ${k}`);
  return k as HisKind;
}

/** hisTz: the rec's tz name and its IANA zone. */
export function hisTz(rec: HDict): { tz: string; iana: string } {
  const v = rec.get('tz');
  if (v === undefined || v === null) throw new HisConfigError(rec, "Missing 'tz' tag");
  if (!(v instanceof HStr)) throw new HisConfigError(rec, `Invalid type for 'tz' tag: ${typeName(v)}`);
  const iana = ianaOf(v.value);
  if (!iana) throw new HisConfigError(rec, `Invalid 'tz' tag: ${v.value}`);
  return { tz: v.value, iana };
}

/** hisUnit: the rec's unit (optional). */
export function hisUnit(rec: HDict): string | undefined {
  const v = rec.get('unit');
  if (v === undefined || v === null) return undefined;
  if (!(v instanceof HStr)) throw new HisConfigError(rec, `Invalid type for 'unit' tag: ${typeName(v)}`);
  if (!isKnownUnit(v.value)) throw new HisConfigError(rec, `Invalid 'unit' tag: ${v.value}`);
  return v.value;
}

/** hisTsPrecision: 1000 ms (default, `1sec`) or 1 ms (`1ms`). */
export function hisTsPrecision(rec: HDict): number {
  const v = rec.get('hisTsPrecision');
  if (v === undefined || v === null) return 1000;
  if (!(v instanceof HNum)) throw new HisConfigError(rec, `Invalid type for hisTsPrecision: ${typeName(v)}`);
  const unit = v.unit?.symbol;
  if (v.value === 1 && (unit === 's' || unit === 'sec')) return 1000;
  if (v.value === 1 && unit === 'ms') return 1;
  throw new HisConfigError(rec, `Unsupported hisTsPrecision: ${v.toZinc()}`);
}

function configOf(rec: HDict): HisConfig {
  const kind = hisKind(rec);
  const { tz, iana } = hisTz(rec);
  const unit = hisUnit(rec);
  const precisionMs = hisTsPrecision(rec);
  return { rec, kind, tz, iana, unit, precisionMs };
}

/** FolioUtil.hisWriteCheck: the checks of spec 3.1 in order. */
export function hisWriteCheck(rec: HDict): HisConfig {
  if (!isMarker(rec.get('point'))) throw new HisConfigError(rec, "Rec missing 'point' tag");
  if (!isMarker(rec.get('his'))) throw new HisConfigError(rec, "Rec missing 'his' tag");
  if (rec.has('aux')) throw new HisConfigError(rec, "Rec marked as 'aux'");
  if (rec.has('trash')) throw new HisConfigError(rec, "Rec marked as 'trash'");
  return configOf(rec);
}

/** The read-side check (HxFolio doRead), then the config the read needs (kind, tz, unit). */
export function hisReadCheck(rec: HDict): HisConfig {
  if (!isMarker(rec.get('point')) || !isMarker(rec.get('his'))) throw new HisConfigError(rec, 'Not tagged as his point');
  if (rec.has('aux')) throw new HisConfigError(rec, 'Cannot read aux point');
  return configOf(rec);
}
