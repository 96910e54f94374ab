// Helpers of the history suites.
import { HBool, HDateTime, HDict, HNum, type HVal } from 'haystack-core';
import type { RedisFolio } from '../../src/index.js';
import { toDateTime, ianaOf } from '../../src/his/tz.js';
import { addRec, m } from '../harness/folio.js';
import type { HisItem } from '../../src/folio/types.js';

/** A his point: Number in Chicago unless overridden. */
export async function addPoint(f: RedisFolio, tags: Record<string, unknown> = {}): Promise<HDict> {
  return addRec(f, { dis: 'P', point: m, his: m, kind: 'Number', tz: 'Chicago', ...tags });
}

/** DateTime of epoch ms in a Haystack tz (default Chicago). */
export function at(ms: number, tz = 'Chicago'): HDateTime {
  return toDateTime(ms, tz, ianaOf(tz) as string);
}

export const H = 3_600_000;
/** 2024-01-01T00:00 Chicago */
export const T0 = Date.UTC(2024, 0, 1, 6);

export function item(ms: number, val: HVal, tz = 'Chicago'): HisItem {
  return { ts: at(ms, tz), val };
}
export function num(v: number, unit?: string): HNum {
  return unit === undefined ? HNum.make(v) : HNum.make(v, unit);
}
export function bool(v: boolean): HBool {
  return HBool.make(v);
}

/** `ms=val` strings of items, for comparisons. */
export function show(items: HisItem[]): string[] {
  return items.map((i) => `${i.ts.date.getTime() - T0}=${i.val.toZinc()}`);
}
