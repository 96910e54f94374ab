// History rules without a server: config checks (spec 3.1), normalization (3.2), merge (3.3 and
// case 71, with a property test against a naive model), span selection (3.4), tz and codec.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { HBool, HCoord, HDateTime, HDict, HMarker, HNa, HNum, HRef, HRemove, HStr, type HVal } from 'haystack-core';
import { HisConfigError, HisWriteError } from '../../src/folio/errors.js';
import { hisReadCheck, hisWriteCheck, type HisConfig } from '../../src/his/config.js';
import { normalizeColumns, normalizeItems, type SItem } from '../../src/his/normalize.js';
import { hisWriteMerge } from '../../src/his/merge.js';
import { selectSpan } from '../../src/his/span.js';
import { decodeMember, encodeMember, toHisItem, tsCanHold } from '../../src/his/codec.js';
import { ianaOf, isoInZone, toDateTime } from '../../src/his/tz.js';

const m = HMarker.make();
function rec(tags: Record<string, HVal | string | undefined>): HDict {
  const obj: Record<string, HVal> = { id: HRef.make('p1') };
  for (const [k, v] of Object.entries(tags)) {
    if (v === undefined) continue;
    obj[k] = typeof v === 'string' ? HStr.make(v) : v;
  }
  return HDict.make(obj);
}
const base = { point: m, his: m, kind: 'Number', tz: 'Chicago' } as Record<string, HVal | string | undefined>;
function cfgOf(tags: Record<string, HVal | string | undefined> = {}): HisConfig {
  return hisWriteCheck(rec({ ...base, ...tags }));
}
function dt(text: string, tz = 'Chicago'): HDateTime {
  return HDateTime.make(`${text} ${tz}`);
}
function configErr(tags: Record<string, HVal | string | undefined>): string {
  try {
    hisWriteCheck(rec({ ...base, ...tags }));
  } catch (e) {
    expect(e).toBeInstanceOf(HisConfigError);
    return (e as Error).message;
  }
  throw new Error('expected HisConfigError');
}

describe('his config (spec 3.1)', () => {
  it('messages in order, with the id suffix', () => {
    expect(configErr({ point: undefined })).toBe("Rec missing 'point' tag [@p1]");
    expect(configErr({ his: undefined })).toBe("Rec missing 'his' tag [@p1]");
    expect(configErr({ aux: m })).toBe("Rec marked as 'aux' [@p1]");
    expect(configErr({ trash: m })).toBe("Rec marked as 'trash' [@p1]");
    expect(configErr({ kind: undefined })).toBe("Missing 'kind' tag [@p1]");
    expect(configErr({ kind: HNum.make(1) })).toBe("Invalid type for 'kind' tag: haystack::Number [@p1]");
    expect(configErr({ kind: 'bad' })).toBe("Invalid 'kind' tag: bad [@p1]");
    expect(configErr({ kind: 'Bad!' })).toBe("Invalid 'kind' tag: Bad! [@p1]");
    expect(configErr({ kind: 'Date' })).toBe("Unsupported 'kind' for his: Date [@p1]");
    expect(configErr({ tz: undefined })).toBe("Missing 'tz' tag [@p1]");
    expect(configErr({ tz: 'Bad' })).toBe("Invalid 'tz' tag: Bad [@p1]");
    expect(configErr({ tz: 'Bad!' })).toBe("Invalid 'tz' tag: Bad! [@p1]");
    expect(configErr({ unit: HNum.make(1) })).toMatch(/^Invalid type for 'unit' tag/);
    expect(configErr({ unit: 'bad!' })).toBe("Invalid 'unit' tag: bad! [@p1]");
    expect(configErr({ hisTsPrecision: 'x' })).toMatch(/^Invalid type for hisTsPrecision/);
    expect(configErr({ hisTsPrecision: HNum.make(5, 'min') })).toMatch(/^Unsupported hisTsPrecision/);
    // the first failing rule wins
    expect(configErr({ point: undefined, kind: 'bad', tz: 'Bad' })).toBe("Rec missing 'point' tag [@p1]");
  });

  it('accepts the his kinds, custom units and both precisions', () => {
    for (const kind of ['Number', 'Bool', 'Str', 'Coord']) expect(cfgOf({ kind }).kind).toBe(kind);
    expect(cfgOf({ unit: '_foo' }).unit).toBe('_foo');
    expect(cfgOf({ unit: 'kW' }).unit).toBe('kW');
    expect(cfgOf({ unit: '°F' }).unit).toBe('°F');
    expect(cfgOf().precisionMs).toBe(1000);
    expect(cfgOf({ hisTsPrecision: HNum.make(1, 'ms') }).precisionMs).toBe(1);
    expect(cfgOf({ hisTsPrecision: HNum.make(1, 's') }).precisionMs).toBe(1000);
    expect(cfgOf({ tz: 'New_York' }).iana).toBe('America/New_York');
    expect(cfgOf({ tz: 'UTC' }).iana).toBe('UTC');
  });

  it('read check: not a his point, aux', () => {
    expect(() => hisReadCheck(rec({ ...base, point: undefined }))).toThrow('Not tagged as his point [@p1]');
    expect(() => hisReadCheck(rec({ ...base, aux: m }))).toThrow('Cannot read aux point [@p1]');
  });
});

function writeErr(cfg: HisConfig, items: { ts: HDateTime; val: HVal }[]): string {
  try {
    normalizeItems(cfg, items);
  } catch (e) {
    expect(e).toBeInstanceOf(HisWriteError);
    return (e as Error).message;
  }
  throw new Error('expected HisWriteError');
}

describe('his write normalization (spec 3.2)', () => {
  const cfg = cfgOf();
  it('errors: tz, kind, unit, null, before 1950', () => {
    expect(writeErr(cfg, [{ ts: dt('2024-01-01T00:00:00Z', 'UTC'), val: HNum.make(9) }])).toBe(
      'Mismatched timezone, rec tz "Chicago" != item tz "UTC" [@p1]',
    );
    expect(writeErr(cfg, [{ ts: dt('2024-01-01T00:00:00-06:00'), val: HBool.make(true) }])).toBe(
      'Mismatched value type, rec kind "Number" != item type "sys::Bool" [@p1]',
    );
    expect(writeErr(cfg, [{ ts: dt('2024-01-01T00:00:00-06:00'), val: HNum.make(9, '%') }])).toBe(
      "Mismatched unit, rec unit 'null' != item unit '%' [@p1]",
    );
    expect(writeErr(cfgOf({ unit: '%' }), [{ ts: dt('2024-01-01T00:00:00-06:00'), val: HNum.make(9, 'kPa') }])).toBe(
      "Mismatched unit, rec unit '%' != item unit 'kPa' [@p1]",
    );
    expect(writeErr(cfg, [{ ts: dt('2024-01-01T00:00:00-06:00'), val: null as unknown as HVal }])).toBe(
      'Cannot write null val [@p1]',
    );
    expect(writeErr(cfg, [{ ts: dt('1949-12-31T23:59:59-06:00'), val: HNum.make(1) }])).toMatch(
      /^Timestamps before 1950 not supported: \{ts:1949-12-31T23:59:59-06:00 Chicago, val:1\}/,
    );
    // NA and removal are fine for any kind; 1950 itself is fine
    expect(
      normalizeItems(cfgOf({ kind: 'Bool' }), [
        { ts: dt('1950-01-01T00:00:00-06:00'), val: HNa.make() },
        { ts: dt('2024-01-01T00:00:00-06:00'), val: HRemove.make() },
      ]).map((i) => i.v === null),
    ).toEqual([false, true]);
  });

  it('sorts, floors to the precision, last wins (the spec example)', () => {
    const t = (s: string) => dt(`2024-01-01T00:00:${s}Z`, 'UTC');
    const c = cfgOf({ tz: 'UTC' });
    const items = [
      { ts: t('03.100'), val: HNum.make(6) },
      { ts: t('02.123'), val: HNum.make(1) },
      { ts: t('02.987'), val: HNum.make(2) },
      { ts: t('02.987'), val: HNum.make(3) },
      { ts: t('03.000'), val: HNum.make(4) },
      { ts: t('03.000'), val: HNum.make(5) },
    ];
    // sort is stable: 3.100 moves to the end, the rest keep their order
    const out = normalizeItems(c, items);
    const base = Date.UTC(2024, 0, 1);
    expect(out).toEqual([
      { ms: base + 2000, v: 3 },
      { ms: base + 3000, v: 6 },
    ]);
    const ms = normalizeItems(cfgOf({ tz: 'UTC', hisTsPrecision: HNum.make(1, 'ms') }), items);
    expect(ms.map((i) => i.ms - base)).toEqual([2123, 2987, 3000, 3100]);
  });

  it('float32 for non-integers, large integers exact, -0 -> 0, inf and NaN kept', () => {
    const ts = dt('2024-01-01T00:00:00-06:00');
    const one = (x: number) => normalizeItems(cfg, [{ ts, val: HNum.make(x) }])[0]?.v;
    expect(one(16791115)).toBe(16791115);
    expect(one(-16791115)).toBe(-16791115);
    expect(one(0xab_ffff_ffff)).toBe(0xab_ffff_ffff);
    expect(one(-0xab_ffff_ffff)).toBe(-0xab_ffff_ffff);
    expect(one(1.1)).toBe(Math.fround(1.1));
    expect(Object.is(one(-0), 0)).toBe(true);
    expect(one(Infinity)).toBe(Infinity);
    expect(one(-Infinity)).toBe(-Infinity);
    expect(one(NaN)).toBeNaN();
  });

  it('clip drops items outside [start, end)', () => {
    const items = [0, 1, 2, 3].map((h) => ({ ts: dt(`2024-01-01T0${h}:00:00-06:00`), val: HNum.make(h) }));
    const out = normalizeItems(cfg, items, { clip: { start: items[1]!.ts, end: items[3]!.ts } });
    expect(out.map((i) => i.v)).toEqual([1, 2]);
  });

  it('columns: same checks and normalization', () => {
    const c = cfgOf({ tz: 'UTC' });
    const base = Date.UTC(2024, 0, 1);
    const out = normalizeColumns(c, { ts: [base + 3100, base + 2123, base + 2987, base + 2987], val: [6, 1, 2, 3.3] });
    expect([...out.ts]).toEqual([base + 2000, base + 3000]);
    expect([...out.val]).toEqual([Math.fround(3.3), 6]);
    expect(() => normalizeColumns(c, { ts: [Date.UTC(1949, 11, 31)], val: [1] })).toThrow(/before 1950/);
    expect(() => normalizeColumns(c, { ts: [base], val: [] })).toThrow(HisWriteError);
    expect(() => normalizeColumns(cfgOf({ kind: 'Bool' }), { ts: [base], val: [2] })).toThrow(HisWriteError);
    expect(() => normalizeColumns(cfgOf({ kind: 'Str' }), { ts: [base], val: [1] })).toThrow(HisWriteError);
    // 1950 in the rec zone: 1950-01-01T00:00 Chicago is 06:00Z
    const chi = cfgOf();
    expect(() => normalizeColumns(chi, { ts: [Date.UTC(1950, 0, 1, 5)], val: [1] })).toThrow(/before 1950/);
    expect(normalizeColumns(chi, { ts: [Date.UTC(1950, 0, 1, 6)], val: [1] }).ts.length).toBe(1);
  });
});

const it3 = (ms: number, v: number | null): SItem => ({ ms, v });

describe('his merge (spec 3.3)', () => {
  it('case 71', () => {
    const cur = [it3(1, 1), it3(2, 2), it3(3, 3)];
    const changes = [it3(3, null), it3(4, null), it3(5, 5)];
    expect(hisWriteMerge(cur, changes)).toEqual([it3(1, 1), it3(2, 2), it3(5, 5)]);
  });

  it('matches a naive map model (property)', () => {
    const list = fc
      .uniqueArray(fc.record({ ms: fc.integer({ min: 0, max: 50 }), v: fc.option(fc.integer({ min: -5, max: 5 }), { nil: null }) }), {
        selector: (x) => x.ms,
        maxLength: 30,
      })
      .map((xs) => xs.sort((a, b) => a.ms - b.ms));
    fc.assert(
      fc.property(list, list, (curRaw, changes) => {
        const cur = curRaw.filter((x) => x.v !== null);
        const model = new Map<number, number | null>();
        for (const c of cur) model.set(c.ms, c.v);
        for (const c of changes) {
          if (c.v === null) model.delete(c.ms);
          else model.set(c.ms, c.v);
        }
        const expected = [...model.entries()].sort((a, b) => a[0] - b[0]).map(([ms, v]) => ({ ms, v }));
        expect(hisWriteMerge(cur, changes)).toEqual(expected);
      }),
    );
  });
});

describe('his span selection (spec 3.4)', () => {
  const items = [10, 20, 30, 40, 50, 60].map((ms) => ({ ms }));
  it('previous item only with an in-span item, then up to two after', () => {
    expect(selectSpan(items, 25, 45).map((i) => i.ms)).toEqual([20, 30, 40, 50, 60]);
    expect(selectSpan(items, 30, 31).map((i) => i.ms)).toEqual([20, 30, 40, 50]);
    // empty span: no previous item, still the next two
    expect(selectSpan(items, 31, 39).map((i) => i.ms)).toEqual([40, 50]);
    expect(selectSpan(items, 0, 15).map((i) => i.ms)).toEqual([10, 20, 30]);
    expect(selectSpan(items, 55, 100).map((i) => i.ms)).toEqual([50, 60]);
    expect(selectSpan(items, 100, 200)).toEqual([]);
  });
});

describe('his tz and codec', () => {
  it('maps Haystack names to IANA and converts instants, across DST', () => {
    expect(ianaOf('Chicago')).toBe('America/Chicago');
    expect(ianaOf('GMT+5')).toBe('Etc/GMT+5');
    expect(ianaOf('Nowhere')).toBeUndefined();
    const summer = Date.UTC(2024, 6, 1, 12);
    const winter = Date.UTC(2024, 0, 1, 12, 0, 0, 500);
    expect(isoInZone(summer, 'America/Chicago')).toBe('2024-07-01T07:00:00-05:00');
    expect(isoInZone(winter, 'America/Chicago')).toBe('2024-01-01T06:00:00.500-06:00');
    expect(isoInZone(summer, 'Asia/Kolkata')).toBe('2024-07-01T17:30:00+05:30');
    const t = toDateTime(summer, 'Chicago', 'America/Chicago');
    expect(t.timezone).toBe('Chicago');
    expect(t.date.getTime()).toBe(summer);
    expect(toDateTime(0, 'UTC', 'UTC').timezone).toBe('UTC');
    expect(toDateTime(0, 'UTC', 'UTC').date.getTime()).toBe(0);
    // pre-1970 and the hour after a DST change
    expect(toDateTime(Date.UTC(1955, 5, 1), 'New_York', 'America/New_York').date.getTime()).toBe(Date.UTC(1955, 5, 1));
    const dst = Date.UTC(2024, 2, 10, 8); // 03:00 CDT
    expect(isoInZone(dst, 'America/Chicago')).toBe('2024-03-10T03:00:00-05:00');
    expect(isoInZone(dst - 1, 'America/Chicago')).toBe('2024-03-10T01:59:59.999-06:00');
  });

  it('members round-trip every stored value; TS holds only finite numbers from 1970', () => {
    const vals = [1.5, -2, 0xab_ffff_ffff, Infinity, -Infinity, NaN, true, false, HStr.make('a|b\n"c"'), HCoord.make({ latitude: 37.5, longitude: -77.4 }), HNa.make()];
    for (const v of vals) {
      const back = decodeMember(encodeMember(-123000, v as never));
      expect(back.ms).toBe(-123000);
      if (typeof v === 'number' || typeof v === 'boolean') expect(back.v).toEqual(v);
      else expect((back.v as HVal).equals(v)).toBe(true);
    }
    expect(tsCanHold(0, 1)).toBe(true);
    expect(tsCanHold(-1, 1)).toBe(false);
    expect(tsCanHold(0, Infinity)).toBe(false);
    expect(tsCanHold(0, NaN)).toBe(false);
    expect(tsCanHold(0, HNa.make())).toBe(false);
    expect(tsCanHold(0, true)).toBe(true);
    const cfg = cfgOf({ kind: 'Bool' });
    expect(toHisItem(cfg, { ms: 0, v: 1 }).val.equals(HBool.make(true))).toBe(true);
    expect(toHisItem(cfgOf({ unit: 'kW' }), { ms: 0, v: 2 }).val.toZinc()).toBe('2kW');
  });
});
