// The pure parts of the read pipeline (spec 1.2, 4 "Read options"; Haxall FolioReader.fan).
import { HDict, HGrid } from 'haystack-core';
import type { FolioContext } from './types.js';

export interface FilterReaderOptions {
  /** at most this many hits; undefined means no limit, `<= 0` means none (nothing is run) */
  limit?: number;
  /** the caller's security context; denied recs are skipped silently */
  cx?: FolioContext;
  /** the compiled `search` option; recs it rejects are skipped */
  search?: (rec: HDict) => boolean;
}

/**
 * Haxall FolioFilterReader: feed it recs with `accept` until it returns false. Steps, in order:
 * stopped → skip if cx denies → skip if search fails → count++ and `hit` → stop at `limit`.
 */
export abstract class FilterReader {
  /** recs that passed cx and search (and were passed to `hit`) */
  count = 0;
  private stopped: boolean;
  private readonly limit: number;
  private readonly cx: FolioContext | undefined;
  private readonly search: ((rec: HDict) => boolean) | undefined;

  constructor(opts: FilterReaderOptions = {}) {
    this.limit = opts.limit ?? Number.POSITIVE_INFINITY;
    this.cx = opts.cx;
    this.search = opts.search;
    this.stopped = this.limit <= 0;
  }

  /** True once no more recs are wanted: the limit was hit, `hit` asked to stop, or `limit <= 0`. */
  get isDone(): boolean {
    return this.stopped;
  }

  /** Offer one rec; returns false when the caller should stop feeding recs. */
  accept(rec: HDict): boolean {
    if (this.stopped) return false;
    if (this.cx !== undefined && !this.cx.canRead(rec)) return true;
    if (this.search !== undefined && !this.search(rec)) return true;
    this.count++;
    if (this.hit(rec)) {
      this.stopped = true;
      return false;
    }
    if (this.count >= this.limit) {
      this.stopped = true;
      return false;
    }
    return true;
  }

  /** Handle one match; return true to stop the stream. */
  protected abstract hit(rec: HDict): boolean;
}

/** Haxall FolioCountReader. */
export class CountReader extends FilterReader {
  protected hit(): boolean {
    return false;
  }
}

/** Haxall FolioAccReader: collects matches in order. Sorting (after limit) is `sortByDis`. */
export class AccReader extends FilterReader {
  readonly recs: HDict[] = [];
  protected hit(rec: HDict): boolean {
    this.recs.push(rec);
    return false;
  }
}

/** Haxall FolioEachReader: calls `f` until it returns something other than undefined. */
export class EachReader<T> extends FilterReader {
  /** the first non-undefined value `f` returned */
  result: T | undefined;
  private readonly f: (rec: HDict) => T | undefined;
  constructor(opts: FilterReaderOptions, f: (rec: HDict) => T | undefined) {
    super(opts);
    this.f = f;
  }
  protected hit(rec: HDict): boolean {
    const r = this.f(rec);
    // null counts as "keep going" too: Axon callbacks return null for that
    if (r === undefined || r === null) return false;
    this.result = r;
    return true;
  }
}

/**
 * Natural, case-insensitive compare: runs of digits compare by numeric value, other text by
 * lower-cased code points. Ties fall back to a plain compare so that the order is total.
 */
export function compareDis(a: string, b: string): number {
  const ta = tokens(a);
  const tb = tokens(b);
  const n = Math.min(ta.length, tb.length);
  for (let i = 0; i < n; i++) {
    const x = ta[i];
    const y = tb[i];
    const xd = isDigit(x.charCodeAt(0));
    const yd = isDigit(y.charCodeAt(0));
    let c: number;
    if (xd && yd) c = compareDigits(x, y);
    else c = cmp(x.toLowerCase(), y.toLowerCase());
    if (c !== 0) return c;
  }
  if (ta.length !== tb.length) return ta.length < tb.length ? -1 : 1;
  // equal ignoring case and leading zeros: fewer leading zeros first, then upper case first
  for (let i = 0; i < n; i++) {
    if (ta[i].length !== tb[i].length) return ta[i].length < tb[i].length ? -1 : 1;
  }
  return cmp(a, b);
}

/** A copy of `recs` sorted by `compareDis` of their dis (stable). */
export function sortByDis<T>(recs: readonly T[], disOf: (rec: T) => string): T[] {
  const keyed = recs.map((rec) => ({ rec, dis: disOf(rec) }));
  keyed.sort((x, y) => compareDis(x.dis, y.dis));
  return keyed.map((k) => k.rec);
}

function tokens(s: string): string[] {
  return s.match(/\d+|\D+/g) ?? [];
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function compareDigits(x: string, y: string): number {
  const xs = x.replace(/^0+(?=\d)/, '');
  const ys = y.replace(/^0+(?=\d)/, '');
  if (xs.length !== ys.length) return xs.length < ys.length ? -1 : 1;
  return cmp(xs, ys);
}

function cmp(x: string, y: string): number {
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * A grid of `dicts` (Haxall Etc.makeDictsGrid): the union of their columns in first-seen order,
 * an all-null row for each undefined entry; if there are no defined dicts, no columns and 0 rows.
 */
export function makeDictsGrid(dicts: readonly (HDict | undefined | null)[], meta?: HDict): HGrid {
  const cols: string[] = [];
  const seen = new Set<string>();
  let any = false;
  for (const d of dicts) {
    if (d === undefined || d === null) continue;
    any = true;
    for (const k of d.keys) {
      if (!seen.has(k)) {
        seen.add(k);
        cols.push(k);
      }
    }
  }
  const rows = any ? dicts.map((d) => d ?? HDict.make({})) : [];
  return HGrid.make({
    meta: meta ?? HDict.make({}),
    columns: cols.map((name) => ({ name })),
    rows,
  });
}

