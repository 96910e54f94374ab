// Write validation and normalization (spec 3.2, FolioUtil.hisWriteCheck). Pure: no server.
//
// Items become `SItem`s: epoch ms plus a stored value. A stored value is a JS number (Number kind,
// unitless: the rec unit is applied on read), a boolean (Bool), an HVal (Str, Coord, NA) or null
// (a removal, `HRemove`).
import { HBool, HCoord, HDateTime, HNa, HNum, HRemove, HStr, valueToZinc, type HVal } from 'haystack-core';
import { HisWriteError } from '../folio/errors.js';
import type { HisItem } from '../folio/types.js';
import { typeName, type HisConfig } from './config.js';
import { msOf, offsetMs, yearOf } from './tz.js';

export type SVal = number | boolean | HStr | HCoord | HNa | null;
export interface SItem {
  ms: number;
  v: SVal;
}

export interface NormalizeOpts {
  /** drop items outside [start, end) */
  clip?: { start: HDateTime; end: HDateTime };
  /** accepted for parity: a unitless Number always takes the rec unit (HxFolio sets unitSet always) */
  unitSet?: boolean;
}

/** `{ts:..., val:...}` as in Haxall's messages. */
export function itemText(ts: HDateTime | string, val: unknown): string {
  const t = ts instanceof HDateTime ? ts.toZinc() : ts;
  let v: string;
  if (val === null || val === undefined) v = 'null';
  else if (typeof val === 'object' && 'toZinc' in val) v = valueToZinc(val as HVal);
  else v = String(val);
  return `{ts:${t}, val:${v}}`;
}

/** Float32 rounding of non-integers, -0 -> 0; ±inf and NaN kept (spec 3.2 step 3). */
export function normNumber(x: number): number {
  if (x === 0) return 0;
  if (Number.isInteger(x) || !Number.isFinite(x)) return x;
  return Math.fround(x);
}

export function floorTo(ms: number, precisionMs: number): number {
  return precisionMs === 1 ? Math.floor(ms) : Math.floor(ms / precisionMs) * precisionMs;
}

/** Drops all but the last item of each run of equal timestamps (items sorted). */
export function dedupLastWins<T extends { ms: number }>(items: T[]): T[] {
  const out: T[] = [];
  for (const it of items) {
    const last = out[out.length - 1];
    if (last !== undefined && last.ms === it.ms) out[out.length - 1] = it;
    else out.push(it);
  }
  return out;
}

function checkVal(cfg: HisConfig, item: HisItem): SVal {
  const val = item.val as HVal | null | undefined;
  if (val === null || val === undefined) throw new HisWriteError(cfg.rec, 'Cannot write null val');
  if (val instanceof HRemove) return null;
  if (val instanceof HNa) return val;
  switch (cfg.kind) {
    case 'Number':
      if (val instanceof HNum) {
        const u = val.unit?.symbol;
        if (u !== undefined && u !== cfg.unit) {
          throw new HisWriteError(cfg.rec, `Mismatched unit, rec unit '${cfg.unit ?? 'null'}' != item unit '${u}'`);
        }
        return normNumber(val.value);
      }
      break;
    case 'Bool':
      if (val instanceof HBool) return val.value;
      break;
    case 'Str':
      if (val instanceof HStr) return val;
      break;
    case 'Coord':
      if (val instanceof HCoord) return val;
      break;
  }
  throw new HisWriteError(cfg.rec, `Mismatched value type, rec kind "${cfg.kind}" != item type "${typeName(val)}"`);
}

/** Normalized samples of a numeric point (Number, Bool as 0/1): sorted, floored, deduplicated. */
export interface NumCols {
  ts: Float64Array;
  val: Float64Array;
}

/**
 * hisWriteCheck's item part: sort, check (tz, year >= 1950, null, kind, unit), floor to the
 * precision, clip, float32, last-wins for duplicate timestamps. Throws HisWriteError before
 * anything is written.
 */
export function normalizeItems(cfg: HisConfig, items: readonly HisItem[], opts: NormalizeOpts = {}): SItem[] {
  const r = normalizeItemsFast(cfg, items, opts);
  return Array.isArray(r) ? r : colsToItems(cfg, r);
}

/** Columns as SItems (Bool points: 0/1 as booleans). */
export function colsToItems(cfg: HisConfig, c: NumCols): SItem[] {
  const out: SItem[] = new Array(c.ts.length);
  const bool = cfg.kind === 'Bool';
  for (let i = 0; i < c.ts.length; i++) {
    const v = c.val[i] as number;
    out[i] = { ms: c.ts[i] as number, v: bool ? v !== 0 : v };
  }
  return out;
}

/**
 * `normalizeItems` in one pass without per-item objects: epoch ms read from the ISO text (`msOf`),
 * values checked in place. A Number or Bool write without NA or removals comes back as typed
 * columns (the form `writeColumns` produces); anything else as SItems. Every item is checked, in
 * input order, before the result exists.
 */
export function normalizeItemsFast(cfg: HisConfig, items: readonly HisItem[], opts: NormalizeOpts = {}): NumCols | SItem[] {
  const n = items.length;
  const numeric = cfg.kind === 'Number' || cfg.kind === 'Bool';
  const isNumber = cfg.kind === 'Number';
  const rawMs = new Float64Array(n);
  const nums = numeric ? new Float64Array(n) : undefined;
  let vals: SVal[] | undefined = numeric ? undefined : new Array<SVal>(n);
  const minMs = min1950Ms(cfg.iana) + 86_400_000; // margin: the exact check below decides near the edge
  const tz = cfg.tz;
  const unit = cfg.unit;
  let sorted = true;
  let prev = -Infinity;
  for (let i = 0; i < n; i++) {
    const item = items[i] as HisItem;
    const ts = item?.ts;
    if (!(ts instanceof HDateTime)) {
      throw new HisWriteError(cfg.rec, `Invalid his item ts: ${itemText(String(item?.ts), item?.val)}`);
    }
    const ms = msOf(ts);
    if (!Number.isFinite(ms)) throw new HisWriteError(cfg.rec, `Invalid his item ts: ${itemText(ts, item.val)}`);
    if (ts.timezone !== tz) {
      throw new HisWriteError(cfg.rec, `Mismatched timezone, rec tz ${JSON.stringify(tz)} != item tz ${JSON.stringify(ts.timezone)}`);
    }
    // item tz == rec tz here, so "year < 1950 in the item's zone" is "before local 1950-01-01 in the rec zone"
    if (ms < minMs && yearOf(ts) < 1950) {
      throw new HisWriteError(cfg.rec, `Timestamps before 1950 not supported: ${itemText(ts, item.val)}`);
    }
    rawMs[i] = ms;
    if (ms < prev) sorted = false;
    prev = ms;
    const val = item.val as unknown;
    if (nums !== undefined && vals === undefined) {
      if (isNumber && val instanceof HNum) {
        const u = val.unit?.symbol;
        if (u !== undefined && u !== unit) {
          throw new HisWriteError(cfg.rec, `Mismatched unit, rec unit '${unit ?? 'null'}' != item unit '${u}'`);
        }
        nums[i] = normNumber(val.value);
        continue;
      }
      if (!isNumber && val instanceof HBool) {
        nums[i] = val.value ? 1 : 0;
        continue;
      }
      // NA, a removal or a bad value: SItems from here on
      vals = new Array<SVal>(n);
      for (let k = 0; k < i; k++) vals[k] = isNumber ? (nums[k] as number) : nums[k] !== 0;
    }
    (vals as SVal[])[i] = checkVal(cfg, item);
  }

  let order: Uint32Array | undefined;
  if (!sorted) {
    // stable: equal timestamps keep their input order, so the last one wins below
    const idx = Array.from({ length: n }, (_, i) => i);
    idx.sort((a, b) => (rawMs[a] as number) - (rawMs[b] as number) || a - b);
    order = Uint32Array.from(idx);
  }
  const clipStart = opts.clip ? msOf(opts.clip.start) : -Infinity;
  const clipEnd = opts.clip ? msOf(opts.clip.end) : Infinity;
  const p = cfg.precisionMs;

  if (vals === undefined) {
    const outTs = new Float64Array(n);
    const outVal = new Float64Array(n);
    const src = nums as Float64Array;
    let k = 0;
    for (let j = 0; j < n; j++) {
      const i = order ? (order[j] as number) : j;
      const raw = rawMs[i] as number;
      const f = p === 1 ? Math.floor(raw) : Math.floor(raw / p) * p;
      if (f < clipStart || f >= clipEnd) continue;
      if (k > 0 && outTs[k - 1] === f) {
        outVal[k - 1] = src[i] as number;
        continue;
      }
      outTs[k] = f;
      outVal[k] = src[i] as number;
      k++;
    }
    return { ts: k === n ? outTs : outTs.subarray(0, k), val: k === n ? outVal : outVal.subarray(0, k) };
  }

  const out: SItem[] = [];
  for (let j = 0; j < n; j++) {
    const i = order ? (order[j] as number) : j;
    const f = floorTo(rawMs[i] as number, p);
    if (f < clipStart || f >= clipEnd) continue;
    const last = out[out.length - 1];
    if (last !== undefined && last.ms === f) out[out.length - 1] = { ms: f, v: vals[i] as SVal };
    else out.push({ ms: f, v: vals[i] as SVal });
  }
  return out;
}

/** Columns of a columnar write: epoch ms and numeric values (Bool points: 0 or 1). */
export interface HisColumns {
  ts: ArrayLike<number>;
  val: ArrayLike<number>;
}

/** Epoch ms of local 1950-01-01T00:00 in the rec zone: earlier timestamps are rejected. */
export function min1950Ms(iana: string): number {
  const utc = Date.UTC(1950, 0, 1);
  return utc - offsetMs(utc, iana);
}

/**
 * The columnar counterpart of normalizeItems for Number and Bool points: same checks and
 * normalization, no HDateTime objects. Returns sorted, deduplicated columns.
 */
export function normalizeColumns(
  cfg: HisConfig,
  cols: HisColumns,
  opts: { clip?: { start: number; end: number } } = {},
): { ts: Float64Array; val: Float64Array } {
  const n = cols.ts.length;
  if (cols.val.length !== n) {
    throw new HisWriteError(cfg.rec, `Column lengths differ: ${n} timestamps, ${cols.val.length} values`);
  }
  if (cfg.kind !== 'Number' && cfg.kind !== 'Bool') {
    throw new HisWriteError(cfg.rec, `Columnar writes need kind Number or Bool, rec kind "${cfg.kind}"`);
  }
  const minMs = min1950Ms(cfg.iana);
  const p = cfg.precisionMs;
  let sorted = true;
  let prev = -Infinity;
  const ts = new Float64Array(n);
  const val = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = cols.ts[i] as number;
    const v = cols.val[i] as number;
    if (typeof t !== 'number' || !Number.isFinite(t)) {
      throw new HisWriteError(cfg.rec, `Invalid his item ts: {ts:${String(t)}, val:${String(v)}} at index ${i}`);
    }
    if (typeof v !== 'number') throw new HisWriteError(cfg.rec, `Cannot write null val at index ${i}`);
    if (t < minMs) {
      throw new HisWriteError(cfg.rec, `Timestamps before 1950 not supported: {ts:${new Date(t).toISOString()}, val:${v}} at index ${i}`);
    }
    if (cfg.kind === 'Bool' && v !== 0 && v !== 1) {
      throw new HisWriteError(cfg.rec, `Mismatched value type, rec kind "Bool" != item value ${v} at index ${i} (use 0 or 1)`);
    }
    const f = p === 1 ? Math.floor(t) : Math.floor(t / p) * p;
    if (f < prev) sorted = false;
    prev = f;
    ts[i] = f;
    val[i] = normNumber(v);
  }
  let order: number[] | undefined;
  if (!sorted) {
    order = Array.from({ length: n }, (_, i) => i);
    order.sort((a, b) => (ts[a] as number) - (ts[b] as number) || a - b);
  }
  const clipStart = opts.clip?.start ?? -Infinity;
  const clipEnd = opts.clip?.end ?? Infinity;
  const outTs = new Float64Array(n);
  const outVal = new Float64Array(n);
  let k = 0;
  for (let j = 0; j < n; j++) {
    const i = order ? (order[j] as number) : j;
    const t = ts[i] as number;
    if (t < clipStart || t >= clipEnd) continue;
    if (k > 0 && outTs[k - 1] === t) {
      outVal[k - 1] = val[i] as number;
      continue;
    }
    outTs[k] = t;
    outVal[k] = val[i] as number;
    k++;
  }
  return { ts: outTs.subarray(0, k), val: outVal.subarray(0, k) };
}
