// The priority array of writable points (Haystack pointWrite, levels 1-17).
//
// Stored per point in the persistent tag `writeLevels`: a Dict `{l1: {val, who, expires?}, ...}`
// holding only the levels that are set. The effective level (the lowest set level) is published
// in the transientOnly tags `writeVal`, `writeLevel` and `curVal` (spec 2.2), committed with the
// transient flag; they are recomputed for every point when the server starts.
import { HBool, HDateTime, HDict, HGrid, HNum, HRemove, HStr, Kind, valueIsKind, type HVal } from 'haystack-core';
import { Diff } from '../folio/Diff.js';
import { ConcurrentChangeError } from '../folio/errors.js';
import type { RedisFolio } from '../folio/RedisFolio.js';
import { badRequest } from './errors.js';

export const WRITE_LEVELS_TAG = 'writeLevels';

const LEVEL_DIS: Record<number, string> = { 1: 'emergency', 8: 'manual', 16: 'def', 17: 'default' };

export interface LevelEntry {
  val: HVal;
  who?: string;
  expires?: number;
}

export function readLevels(rec: HDict, now = Date.now()): Map<number, LevelEntry> {
  const out = new Map<number, LevelEntry>();
  const arr = rec.get(WRITE_LEVELS_TAG);
  if (!valueIsKind<HDict>(arr, Kind.Dict)) return out;
  for (const key of arr.keys) {
    const m = /^l(\d+)$/.exec(key);
    const lvl = m ? Number(m[1]) : NaN;
    const entry = arr.get(key);
    if (!(lvl >= 1 && lvl <= 17) || !valueIsKind<HDict>(entry, Kind.Dict)) continue;
    const val = entry.get('val');
    if (val === undefined || val === null) continue;
    const exp = entry.get('expires');
    const expires = valueIsKind<HDateTime>(exp, Kind.DateTime) ? exp.date.getTime() : undefined;
    if (expires !== undefined && expires <= now) continue;
    const who = entry.get('who');
    out.set(lvl, { val, who: who ? who.toString() : undefined, expires });
  }
  return out;
}

export function effective(levels: Map<number, LevelEntry>): { level: number; val: HVal } | undefined {
  for (let l = 1; l <= 17; l++) {
    const e = levels.get(l);
    if (e) return { level: l, val: e.val };
  }
  return undefined;
}

/** The read form of pointWrite: 17 rows `level, levelDis, val, who`. */
export function priorityGrid(rec: HDict): HGrid {
  const levels = readLevels(rec);
  const rows: HDict[] = [];
  for (let l = 1; l <= 17; l++) {
    const e = levels.get(l);
    const row: Record<string, HVal> = {
      level: HNum.make(l),
      levelDis: HStr.make(LEVEL_DIS[l] ? `${l} (${LEVEL_DIS[l]})` : String(l)),
    };
    if (e) {
      row.val = e.val;
      if (e.who) row.who = HStr.make(e.who);
      if (e.expires !== undefined) row.expires = HDateTime.make(new Date(e.expires));
    }
    rows.push(HDict.make(row));
  }
  return HGrid.make({ columns: [{ name: 'level' }, { name: 'levelDis' }, { name: 'val' }, { name: 'who' }], rows });
}

const DURATION_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  sec: 1000,
  min: 60_000,
  h: 3600_000,
  hr: 3600_000,
  day: 86_400_000,
};

function durationMs(d: HVal | undefined | null): number | undefined {
  if (d === undefined || d === null) return undefined;
  if (!valueIsKind<HNum>(d, Kind.Number)) throw badRequest('pointWrite: duration must be a Number with a time unit');
  const ids = d.unit ? [d.unit.symbol, ...d.unit.ids] : ['s'];
  const unit = ids.find((u) => DURATION_MS[u] !== undefined);
  const mult = unit === undefined ? undefined : DURATION_MS[unit];
  if (mult === undefined) throw badRequest(`pointWrite: unsupported duration unit: ${ids[0] ?? '?'}`);
  if (!(d.value > 0)) throw badRequest('pointWrite: duration must be positive');
  return d.value * mult;
}

function checkKind(rec: HDict, val: HVal): void {
  const kind = rec.get('kind')?.toString();
  const ok =
    kind === 'Number'
      ? valueIsKind(val, Kind.Number)
      : kind === 'Bool'
        ? valueIsKind<HBool>(val, Kind.Bool)
        : kind === 'Str'
          ? valueIsKind(val, Kind.Str)
          : valueIsKind(val, Kind.Number) || valueIsKind(val, Kind.Bool) || valueIsKind(val, Kind.Str);
  if (!ok) throw badRequest(`pointWrite: value ${val.toZinc()} does not match the point kind ${kind ?? '(none)'}`);
}

export interface PointWriteArgs {
  level: number;
  val: HVal | undefined;
  who: string | undefined;
  duration: HVal | undefined | null;
}

/** Writes (or releases, with no val) one level; returns the updated record. */
export async function pointWrite(folio: RedisFolio, id: string, args: PointWriteArgs): Promise<HDict> {
  const { level } = args;
  if (!Number.isInteger(level) || level < 1 || level > 17) throw badRequest(`pointWrite: level must be 1-17, not ${level}`);
  const durMs = durationMs(args.duration);
  for (let attempt = 0; ; attempt++) {
    const rec = (await folio.readById(id)) as HDict;
    if (!rec.has('point') || !rec.has('writable')) throw badRequest(`pointWrite: not a writable point: @${id}`);
    if (args.val !== undefined) checkKind(rec, args.val);
    const levels = readLevels(rec);
    if (args.val === undefined) levels.delete(level);
    else levels.set(level, { val: args.val, who: args.who, expires: durMs === undefined ? undefined : Date.now() + durMs });
    const arr: Record<string, HVal> = {};
    for (const [l, e] of [...levels.entries()].sort((a, b) => a[0] - b[0])) {
      const entry: Record<string, HVal> = { val: e.val };
      if (e.who) entry.who = HStr.make(e.who);
      if (e.expires !== undefined) entry.expires = HDateTime.make(new Date(e.expires));
      arr[`l${l}`] = HDict.make(entry);
    }
    try {
      const [d] = await folio.commitAll([new Diff(rec, { [WRITE_LEVELS_TAG]: levels.size ? HDict.make(arr) : HRemove.make() })]);
      const newRec = d?.newRec ?? rec;
      return await publish(folio, newRec);
    } catch (e) {
      if (e instanceof ConcurrentChangeError && attempt < 5) continue;
      throw e;
    }
  }
}

/** Commits the transient writeVal/writeLevel/curVal of a point from its levels. */
export async function publish(folio: RedisFolio, rec: HDict): Promise<HDict> {
  const eff = effective(readLevels(rec));
  const changes: Record<string, HVal> = eff
    ? { writeVal: eff.val, writeLevel: HNum.make(eff.level), curVal: eff.val }
    : { writeVal: HRemove.make(), writeLevel: HNum.make(17), curVal: HRemove.make() };
  if (!eff && !rec.has('writeVal') && !rec.has('writeLevel')) return rec;
  const [d] = await folio.commitAll([new Diff(rec, changes, Diff.forceTransient)]);
  return d?.newRec ?? rec;
}

/** At start: publishes the effective value of every point that has a priority array. */
export async function publishAll(folio: RedisFolio): Promise<number> {
  const recs = await folio.readAllList(WRITE_LEVELS_TAG);
  for (const rec of recs) await publish(folio, rec);
  return recs.length;
}
