// The write fast paths against the plain forms they replace: `msOf` (char-code ISO parse with a
// cached day) against `HDateTime.date`, `normalizeItemsFast` against a direct transcription of the
// spec 3.2 steps (sort by instant, stable; check; floor; clip; float32; last wins), and the
// sorted-set member text built from columns against `encodeMember`.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { HBool, HDateTime, HDict, HMarker, HNa, HNum, HRef, HRemove, HStr, type HVal } from 'haystack-core';
import { HisWriteError } from '../../src/folio/errors.js';
import { hisWriteCheck, type HisConfig } from '../../src/his/config.js';
import { colsToItems, floorTo, normNumber, normalizeItemsFast, type SItem, type SVal } from '../../src/his/normalize.js';
import { encodeMember, encodeMemberAt, NumText } from '../../src/his/codec.js';
import { ianaOf, msOf, toDateTime } from '../../src/his/tz.js';
import type { HisItem } from '../../src/folio/types.js';

const m = HMarker.make();
function cfgOf(kind: string, tz: string, precision?: HNum): HisConfig {
  const tags: Record<string, HVal> = { id: HRef.make('p1'), point: m, his: m, kind: HStr.make(kind), tz: HStr.make(tz) };
  if (precision) tags.hisTsPrecision = precision;
  return hisWriteCheck(HDict.make(tags));
}

/** Spec 3.2 as plainly as possible (the pre-fast-path implementation). */
function reference(cfg: HisConfig, items: HisItem[], clip?: { start: HDateTime; end: HDateTime }): SItem[] {
  const withMs = items.map((item) => ({ ms: item.ts.date.getTime(), item }));
  withMs.sort((a, b) => a.ms - b.ms);
  const lo = clip ? clip.start.date.getTime() : -Infinity;
  const hi = clip ? clip.end.date.getTime() : Infinity;
  const out: SItem[] = [];
  for (const { ms, item } of withMs) {
    const val = item.val as HVal;
    let v: SVal;
    if (val instanceof HRemove) v = null;
    else if (val instanceof HNa) v = val;
    else if (val instanceof HNum) v = normNumber(val.value);
    else v = (val as HBool).value;
    const f = floorTo(ms, cfg.precisionMs);
    if (f < lo || f >= hi) continue;
    if (out.length > 0 && out[out.length - 1]!.ms === f) out[out.length - 1] = { ms: f, v };
    else out.push({ ms: f, v });
  }
  return out;
}

const zones = ['UTC', 'Chicago', 'New_York', 'Kolkata', 'Sydney'];

describe('his write fast paths', () => {
  it('msOf equals HDateTime.date for instants in many zones, fractions and offsets', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1950, 0, 2), max: Date.UTC(2200, 0, 1) }), fc.constantFrom(...zones), (ms, tz) => {
        const d = toDateTime(ms, tz, ianaOf(tz) as string);
        expect(msOf(d)).toBe(d.date.getTime());
        expect(msOf(d)).toBe(ms);
      }),
      { numRuns: 2000 },
    );
    for (const text of ['2024-01-01T00:00:00.5Z UTC', '2024-01-01T00:00:00.12Z UTC', '2024-01-01T00:00:00.123456Z UTC', '2024-03-10T03:00:00-05:00 New_York']) {
      const d = HDateTime.make(text);
      expect(msOf(d)).toBe(d.date.getTime());
    }
  });

  it('normalizeItemsFast equals the plain normalization (unsorted, duplicates, NA, removals, precision, clip)', () => {
    const T0 = Date.UTC(2024, 0, 1);
    const arb = fc.record({
      kind: fc.constantFrom('Number', 'Bool'),
      tz: fc.constantFrom(...zones),
      precision: fc.constantFrom(undefined, HNum.make(1, 'ms'), HNum.make(1, 's')),
      clip: fc.option(fc.tuple(fc.integer({ min: 0, max: 200_000 }), fc.integer({ min: 0, max: 200_000 })), { nil: undefined }),
      rows: fc.array(
        fc.record({
          off: fc.integer({ min: 0, max: 200_000 }),
          v: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer({ min: -5, max: 5 }), fc.constant('na'), fc.constant('rm')),
        }),
        { maxLength: 40 },
      ),
    });
    fc.assert(
      fc.property(arb, ({ kind, tz, precision, clip, rows }) => {
        const cfg = cfgOf(kind, tz, precision);
        const at = (off: number) => toDateTime(T0 + off, tz, cfg.iana);
        const items: HisItem[] = rows.map(({ off, v }) => ({
          ts: at(off),
          val:
            v === 'na' ? HNa.make() : v === 'rm' ? HRemove.make() : kind === 'Bool' ? HBool.make((v as number) > 0) : HNum.make(v as number),
        }));
        const c = clip ? { start: at(Math.min(...clip)), end: at(Math.max(...clip)) } : undefined;
        const fast = normalizeItemsFast(cfg, items, { clip: c });
        const got = Array.isArray(fast) ? fast : colsToItems(cfg, fast);
        expect(got).toEqual(reference(cfg, items, c));
        // columns only when there is nothing but values
        if (!Array.isArray(fast)) expect(rows.every((r) => r.v !== 'na' && r.v !== 'rm')).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('bad items are rejected wherever they are', () => {
    const cfg = cfgOf('Number', 'UTC');
    const good = (i: number): HisItem => ({ ts: toDateTime(Date.UTC(2024, 0, 1) + i, 'UTC', 'UTC'), val: HNum.make(i) });
    const bad: HisItem[] = [
      { ts: toDateTime(Date.UTC(2024, 0, 1), 'Chicago', 'America/Chicago'), val: HNum.make(1) },
      { ts: toDateTime(Date.UTC(2024, 0, 1), 'UTC', 'UTC'), val: HBool.make(true) },
      { ts: toDateTime(Date.UTC(2024, 0, 1), 'UTC', 'UTC'), val: HNum.make(1, 'kW') },
      { ts: toDateTime(Date.UTC(1949, 0, 1), 'UTC', 'UTC'), val: HNum.make(1) },
      { ts: toDateTime(Date.UTC(2024, 0, 1), 'UTC', 'UTC'), val: null as unknown as HVal },
    ];
    for (const b of bad) {
      for (const pos of [0, 5, 10]) {
        const items = Array.from({ length: 10 }, (_, i) => good(i));
        items.splice(pos, 0, b);
        expect(() => normalizeItemsFast(cfg, items)).toThrow(HisWriteError);
      }
    }
  });

  it('member text from columns equals encodeMember', () => {
    const nums = new NumText();
    for (const v of [0, 1, -1, 20.3, Math.fround(20.3), 1e21, 1.5e-7, 0xab_ffff_ffff, Infinity, -Infinity, NaN]) {
      const ms = Date.UTC(2024, 0, 1) + 123;
      expect(`${String(ms)}|n:${nums.get(v)}`).toBe(encodeMember(ms, v));
      expect(encodeMemberAt(String(ms), v)).toBe(encodeMember(ms, v));
    }
    expect(`${String(5)}|b:1`).toBe(encodeMember(5, true));
  });
});

describe('stored number text', () => {
  it('a float32 is stored as a short text that reads back as the same float32; anything else exactly', async () => {
    const { numText, storedNum } = await import('../../src/his/codec.js');
    expect(numText(Math.fround(21.3))).toBe('21.3');
    expect(numText(Math.fround(0.1))).toBe('0.1');
    expect(numText(Math.fround(-1.1))).toBe('-1.1');
    fc.assert(
      fc.property(fc.double(), (x) => {
        const f = Math.fround(x);
        const t = numText(f);
        if (Number.isInteger(f) || !Number.isFinite(f)) expect(t).toBe(String(f));
        else {
          expect(storedNum(Number(t))).toBe(f);
          expect(Number.isInteger(Number(t))).toBe(false);
          expect(t.length).toBeLessThanOrEqual(String(f).length);
        }
        // a double that is no float32 keeps its exact text
        if (Math.fround(x) !== x) expect(numText(x)).toBe(String(x));
      }),
      { numRuns: 20_000 },
    );
    // integers (any size) read back exactly
    for (const n of [16791115, -16791115, 0xab_ffff_ffff, 2 ** 53 - 1]) expect(storedNum(Number(numText(n)))).toBe(n);
  });
});
