// History conformance (spec section 3, cases 62-68, 71, 74, 75) on every backend: real Redis
// (sorted sets), the embedded engine (TimeSeries) and Redis Stack where available.
import { beforeEach, describe, expect, it } from 'vitest';
import { HCoord, HDateTime, HNa, HRemove, HStr } from 'haystack-core';
import { HisConfigError, HisWriteError, UnknownRecError, PermissionError } from '../../src/index.js';
import type { FolioHisEvent } from '../../src/folio/types.js';
import { addRec, catchErr, commit, freshFolio, m, none, reread, useFolio } from '../harness/folio.js';
import { hisBackends } from './hisBackends.js';
import { addPoint, at, bool, H, item, num, show, T0 } from './his-helpers.js';

for (const hb of hisBackends()) {
  describe.skipIf(!hb.backend.available)(`[${hb.label}] RedisHis conformance`, () => {
    const ctx = useFolio(hb.backend);
    beforeEach(async () => {
      await freshFolio(ctx);
    });

    it('detects the backend (MODULE LIST) and can be forced', async () => {
      expect(await ctx.folio.his.detectBackend()).toBe(hb.expect);
      expect(ctx.folio.his.backend).toBe(hb.expect);
      expect(ctx.folio.his.backendInfo?.how).toBe('MODULE LIST');
      const forced = await ctx.open({ hisBackend: 'zset' } as never);
      expect(await forced.his.detectBackend()).toBe('zset');
      expect(forced.his.backendInfo?.how).toBe('forced');
      const p = await addPoint(forced);
      await forced.his.write(p.get('id') as never, [item(T0, num(1))]);
      expect(await forced.his.layoutOf(p.get('id') as never)).toBe('zset');
    });

    it('case 62: HisConfigError for missing point/his/tz/kind, bad tz, bad kind', async () => {
      const f = ctx.folio;
      const cases: [Record<string, unknown>, string][] = [
        [{ point: none }, "Rec missing 'point' tag"],
        [{ his: none }, "Rec missing 'his' tag"],
        [{ tz: none }, "Missing 'tz' tag"],
        [{ kind: none }, "Missing 'kind' tag"],
        [{ tz: 'Bad!' }, "Invalid 'tz' tag: Bad!"],
        [{ kind: 'Bad!' }, "Invalid 'kind' tag: Bad!"],
      ];
      for (const [tags, msg] of cases) {
        const base: Record<string, unknown> = { point: m, his: m, kind: 'Number', tz: 'Chicago' };
        for (const [k, v] of Object.entries(tags)) {
          if (v === none) delete base[k];
          else base[k] = v;
        }
        const p = await addRec(f, base);
        const err = await catchErr(() => f.his.write(p.get('id') as never, [item(T0, num(1))]));
        expect(err).toBeInstanceOf(HisConfigError);
        expect(err.message).toBe(`${msg} [@${(p.get('id') as unknown as { value: string }).value}]`);
      }
    });

    it('case 63: HisWriteError for tz, kind and unit, with nothing written', async () => {
      const f = ctx.folio;
      const p = await addPoint(f);
      const id = p.get('id') as never;
      const bad = [
        [item(T0, num(9), 'UTC')],
        [item(T0, bool(true))],
        [item(T0, num(9, '%'))],
        // a good item before a bad one: still nothing written
        [item(T0, num(1)), item(T0 + H, num(2, '%'))],
        [item(T0, num(1)), item(Date.UTC(1949, 0, 1), num(2))],
      ];
      for (const items of bad) {
        const err = await catchErr(() => f.his.write(id, items));
        expect(err).toBeInstanceOf(HisWriteError);
      }
      expect((await catchErr(() => f.his.write(id, [item(T0, num(9), 'UTC')]))).message).toContain(
        'Mismatched timezone, rec tz "Chicago" != item tz "UTC"',
      );
      expect(await f.his.read(id)).toEqual([]);
      expect(await f.his.layoutOf(id)).toBeUndefined();
      expect((await reread(f, p)).has('hisSize')).toBe(false);
    });

    it('case 64: empty write resolves with count 0 (id checks still apply)', async () => {
      const f = ctx.folio;
      const notHis = await addRec(f, { dis: 'x' });
      expect(await f.his.write(notHis.get('id') as never, [])).toEqual({ count: 0 });
      expect(await catchErr(() => f.his.write('nosuch', []))).toBeInstanceOf(UnknownRecError);
    });

    it('case 65: four hourly items, read back, hisSize/hisStart/hisEnd in Chicago', async () => {
      const f = ctx.folio;
      const p = await addPoint(f, { unit: 'kW' });
      const id = p.get('id') as never;
      const items = [0, 1, 2, 3].map((h) => item(T0 + h * H, num(h + 0.5, 'kW')));
      const res = await f.his.write(id, items);
      expect(res.count).toBe(4);
      const back = await f.his.read(id);
      expect(show(back)).toEqual(['0=0.5kW', '3600000=1.5kW', '7200000=2.5kW', '10800000=3.5kW']);
      expect(back[0]?.ts.timezone).toBe('Chicago');
      const rec = await reread(f, p);
      expect(rec.get('hisSize')?.toZinc()).toBe('4');
      const start = rec.get('hisStart') as HDateTime;
      const end = rec.get('hisEnd') as HDateTime;
      expect(start.timezone).toBe('Chicago');
      expect(start.equals(items[0]?.ts)).toBe(true);
      expect(end.equals(items[3]?.ts)).toBe(true);
      expect(await f.his.layoutOf(id)).toBe(hb.expect === 'timeseries' ? 'ts' : 'zset');
    });

    it('case 66: append, unsorted earlier items, inserts between: full sorted set', async () => {
      const f = ctx.folio;
      const id = (await addPoint(f)).get('id') as never;
      await f.his.write(id, [item(T0 + 10 * H, num(10)), item(T0 + 11 * H, num(11))]);
      const r = await f.his.write(id, [item(T0 + 5 * H, num(5)), item(T0 + 1 * H, num(1)), item(T0 + 3 * H, num(3))]);
      expect(r.count).toBe(3);
      await f.his.write(id, [item(T0 + 4 * H, num(4)), item(T0 + 7 * H, num(7))]);
      const back = await f.his.read(id);
      expect(back.map((i) => i.val.toZinc())).toEqual(['1', '3', '4', '5', '7', '10', '11']);
    });

    it('case 67: point/trash/aux changes gate read and write', async () => {
      const f = ctx.folio;
      let p = await addPoint(f);
      const id = p.get('id') as never;
      await f.his.write(id, [item(T0, num(1))]);
      p = (await commit(f, p, { point: none }))!;
      expect(await catchErr(() => f.his.read(id))).toBeInstanceOf(HisConfigError);
      expect(await catchErr(() => f.his.write(id, [item(T0, num(1))]))).toBeInstanceOf(HisConfigError);
      p = (await commit(f, p, { point: m }))!;
      expect((await f.his.read(id)).length).toBe(1);
      p = (await commit(f, p, { trash: m }))!;
      expect(await catchErr(() => f.his.read(id))).toBeInstanceOf(UnknownRecError);
      expect(await catchErr(() => f.his.write(id, [item(T0, num(1))]))).toBeInstanceOf(UnknownRecError);
      p = (await commit(f, p, { trash: none }))!;
      p = (await commit(f, p, { aux: m }))!;
      expect(await catchErr(() => f.his.read(id))).toBeInstanceOf(HisConfigError);
      expect(await catchErr(() => f.his.write(id, [item(T0, num(1))]))).toBeInstanceOf(HisConfigError);
    });

    it('case 68: large integers exact, non-integers as float32, -0 as 0, precision floors', async () => {
      const f = ctx.folio;
      const id = (await addPoint(f)).get('id') as never;
      const vals = [16791115, -16791115, 0xab_ffff_ffff, -0xab_ffff_ffff, 1.1, -0];
      await f.his.write(id, vals.map((v, i) => item(T0 + i * 1000 + 999, num(v))));
      const back = await f.his.read(id);
      // (haystack-core caches unitless HNums and conflates 0 and -0, so -0 is checked in storage below)
      expect(back.map((i) => (i.val as unknown as { value: number }).value).slice(0, 5)).toEqual([16791115, -16791115, 0xab_ffff_ffff, -0xab_ffff_ffff, Math.fround(1.1)]);
      const rel = (id as unknown as { value: string }).value;
      const core = (f as unknown as { core: { main: import('ioredis').Redis; keys: import('../../src/storage/keys.js').FolioKeys } }).core;
      if (hb.expect === 'zset') expect((await core.main.zrange(core.keys.hisZset(rel), '-1', '-1'))[0]).toBe(`${T0 + 5000}|n:0`);
      else expect(await core.main.call('TS.RANGE', core.keys.hisTs(rel), String(T0 + 5000), '+')).toEqual([[T0 + 5000, '0']]);
      expect(back.map((i) => i.ts.date.getTime() - T0)).toEqual([0, 1000, 2000, 3000, 4000, 5000]);
      // the float32 is stored as its shortest text (1.1, not 1.100000023841858) and read back as float32
      if (hb.expect === 'zset') expect(await core.main.zrangebyscore(core.keys.hisZset(rel), T0 + 4000, T0 + 4000)).toEqual([`${T0 + 4000}|n:1.1`]);
      else expect(Number(((await core.main.call('TS.RANGE', core.keys.hisTs(rel), String(T0 + 4000), String(T0 + 4000))) as [number, string][])[0]?.[1])).toBe(1.1);
    });

    it('overwriting a timestamp leaves exactly one sample (hxRedis left two)', async () => {
      const f = ctx.folio;
      const p = await addPoint(f);
      const id = p.get('id') as never;
      await f.his.write(id, [item(T0, num(1)), item(T0 + H, num(2))]);
      await f.his.write(id, [item(T0, num(100))]);
      await f.his.write(id, [item(T0, num(100))]);
      await f.his.write(id, [item(T0 + 500, num(7))]); // floors to T0
      expect(show(await f.his.read(id))).toEqual(['0=7', '3600000=2']);
      const rel = (p.get('id') as unknown as { value: string }).value;
      const main = (f as unknown as { core: { main: import('ioredis').Redis } }).core.main;
      const keys = (f as unknown as { core: { keys: import('../../src/storage/keys.js').FolioKeys } }).core.keys;
      if (hb.expect === 'zset') expect(await main.zcard(keys.hisZset(rel))).toBe(2);
      else expect(await main.call('TS.RANGE', keys.hisTs(rel), '-', '+')).toEqual([[T0, '7'], [T0 + H, '2']]);
      expect((await reread(f, p)).get('hisSize')?.toZinc()).toBe('2');
    });

    it('case 71: removal items delete (merge against storage)', async () => {
      const f = ctx.folio;
      const p = await addPoint(f);
      const id = p.get('id') as never;
      await f.his.write(id, [1, 2, 3].map((k) => item(T0 + k * 60_000, num(k))));
      const res = await f.his.write(id, [item(T0 + 3 * 60_000, HRemove.make()), item(T0 + 4 * 60_000, HRemove.make()), item(T0 + 5 * 60_000, num(5))]);
      expect(res.count).toBe(3);
      expect(show(await f.his.read(id))).toEqual(['60000=1', '120000=2', '300000=5']);
      await f.his.write(id, [1, 2, 5].map((k) => item(T0 + k * 60_000, HRemove.make())));
      expect(await f.his.read(id)).toEqual([]);
      const rec = await reread(f, p);
      expect(rec.has('hisSize') || rec.has('hisStart') || rec.has('hisEnd')).toBe(false);
    });

    it('case 74: {count, span} of the submitted items; postHisWrite gets the same object', async () => {
      const events: FolioHisEvent[] = [];
      const f = await ctx.open({ hooks: { postHisWrite: (e: FolioHisEvent) => events.push(e) } });
      const id = (await addPoint(f)).get('id') as never;
      await f.his.write(id, [item(T0 - 5 * H, num(0))]);
      const ts1 = at(T0);
      const ts2 = at(T0 + H);
      const res = await f.his.write(id, [{ ts: ts2, val: num(2) }, { ts: ts1, val: num(1) }]);
      expect(res.count).toBe(2);
      expect(res.span?.start.equals(ts1)).toBe(true);
      expect(res.span?.end.equals(ts2)).toBe(true);
      expect(events.length).toBe(2);
      expect(events[1]?.result).toBe(res);
      expect((events[1]?.rec.get('id') as unknown as { value: string }).value).toBe((id as unknown as { value: string }).value);
    });

    it('span reads: previous item only with an in-span item, next two; limit; clipFuture', async () => {
      const f = ctx.folio;
      const id = (await addPoint(f)).get('id') as never;
      await f.his.write(id, [0, 1, 2, 3, 4, 5].map((h) => item(T0 + h * H, num(h))));
      const span = (a: number, b: number) => ({ start: at(T0 + a * H), end: at(T0 + b * H) });
      const vals = async (a: number, b: number, opts = {}) => (await f.his.read(id, span(a, b), opts)).map((i) => i.val.toZinc());
      expect(await vals(2, 4)).toEqual(['1', '2', '3', '4', '5']);
      expect(await vals(2.5, 2.7)).toEqual(['3', '4']);
      expect(await vals(-3, 0.5)).toEqual(['0', '1', '2']);
      expect(await vals(5, 9)).toEqual(['4', '5']);
      expect(await vals(7, 9)).toEqual([]);
      expect(await vals(0, 6, { limit: 3 })).toEqual(['0', '1', '2']);
      const future = Date.now() + 10 * H;
      await f.his.write(id, [{ ts: at(future), val: num(99) }]);
      expect((await f.his.read(id, undefined, { clipFuture: true })).length).toBe(6);
      expect((await f.his.read(id)).length).toBe(7);
    });

    it('clear and clearAll options', async () => {
      const f = ctx.folio;
      const id = (await addPoint(f)).get('id') as never;
      await f.his.write(id, [0, 1, 2, 3, 4].map((h) => item(T0 + h * H, num(h))));
      await f.his.write(id, [item(T0 + 2 * H + 60_000, num(22))], { clear: { start: at(T0 + H), end: at(T0 + 3 * H) } });
      expect((await f.his.read(id)).map((i) => i.val.toZinc())).toEqual(['0', '22', '3', '4']);
      await f.his.write(id, [item(T0 + 9 * H, num(9))], { clearAll: true });
      expect((await f.his.read(id)).map((i) => i.val.toZinc())).toEqual(['9']);
    });

    it('tz and unit changes apply to stored items; hisStart/hisEnd follow the tz', async () => {
      const f = ctx.folio;
      let p = await addPoint(f, { unit: '%' });
      const id = p.get('id') as never;
      await f.his.write(id, [item(T0, num(1, '%')), item(T0 + H, num(2))]);
      p = (await commit(f, p, { tz: 'New_York', unit: 'kW' }))!;
      const back = await f.his.read(id);
      expect(back.map((i) => i.ts.timezone)).toEqual(['New_York', 'New_York']);
      expect(back.map((i) => i.ts.date.getTime())).toEqual([T0, T0 + H]);
      expect(back.map((i) => i.val.toZinc())).toEqual(['1kW', '2kW']);
      expect(((await reread(f, p)).get('hisStart') as HDateTime).timezone).toBe('New_York');
      p = (await commit(f, p, { unit: none }))!;
      expect((await f.his.read(id)).map((i) => i.val.toZinc())).toEqual(['1', '2']);
      // items in the old tz are now rejected
      expect(await catchErr(() => f.his.write(id, [item(T0, num(1), 'Chicago')]))).toBeInstanceOf(HisWriteError);
    });

    it('routing: Str, Coord and NA points use the sorted set; Bool reads back as Bool', async () => {
      const f = ctx.folio;
      const s = (await addPoint(f, { kind: 'Str' })).get('id') as never;
      await f.his.write(s, [item(T0, HStr.make('a|b')), item(T0 + H, HNa.make()), item(T0 + 2 * H, HStr.make('Zürich ☃ 東京'))]);
      const strs = await f.his.read(s);
      expect(strs.map((i) => i.val.toZinc())).toEqual(['"a|b"', 'NA', '"Z\\u00fcrich \\u2603 \\u6771\\u4eac"']);
      expect((strs[2]?.val as HStr).value).toBe('Zürich ☃ 東京');
      expect(await f.his.layoutOf(s)).toBe('zset');
      const c = (await addPoint(f, { kind: 'Coord' })).get('id') as never;
      await f.his.write(c, [item(T0, HCoord.make({ latitude: 37.5, longitude: -77.25 }))]);
      expect((await f.his.read(c))[0]?.val.toZinc()).toBe('C(37.5,-77.25)');
      const b = (await addPoint(f, { kind: 'Bool' })).get('id') as never;
      await f.his.write(b, [item(T0, bool(true)), item(T0 + H, bool(false))]);
      expect((await f.his.read(b)).map((i) => i.val.toZinc())).toEqual(['T', 'F']);
      expect(await f.his.layoutOf(b)).toBe(hb.expect === 'timeseries' ? 'ts' : 'zset');
    });

    it('routing: a Number point never splits: NA, inf and pre-1970 move it to the sorted set whole', async () => {
      const f = ctx.folio;
      const id = (await addPoint(f)).get('id') as never;
      await f.his.write(id, [item(T0, num(1)), item(T0 + H, num(2.7))]);
      await f.his.write(id, [item(T0 + 2 * H, HNa.make()), item(T0 + 3 * H, num(Infinity)), item(T0 + 4 * H, num(NaN))]);
      expect(await f.his.layoutOf(id)).toBe('zset');
      const moved = await f.his.read(id);
      expect(moved.map((i) => i.val.toZinc())).toEqual(['1', String(Math.fround(2.7)), 'NA', 'INF', 'NaN']);
      // the moved float32 keeps its short stored text
      const core = (f as unknown as { core: { main: import('ioredis').Redis; keys: import('../../src/storage/keys.js').FolioKeys } }).core;
      const rel = (id as unknown as { value: string }).value;
      expect(await core.main.zrangebyscore(core.keys.hisZset(rel), T0 + H, T0 + H)).toEqual([`${T0 + H}|n:2.7`]);
      const old = (await addPoint(f)).get('id') as never;
      await f.his.write(old, [item(Date.UTC(1960, 0, 1), num(1)), item(T0, num(2))]);
      expect(await f.his.layoutOf(old)).toBe('zset');
      expect((await f.his.read(old)).map((i) => i.ts.date.getTime())).toEqual([Date.UTC(1960, 0, 1), T0]);
    });

    it('permissions: a context that denies writes gets PermissionError', async () => {
      const p = await addPoint(ctx.folio);
      const view = ctx.folio.withContext({ canRead: () => true, canWrite: () => false });
      expect(await catchErr(() => view.his.write(p.get('id') as never, [item(T0, num(1))]))).toBeInstanceOf(PermissionError);
      const hidden = ctx.folio.withContext({ canRead: () => false, canWrite: () => false });
      expect(await catchErr(() => hidden.his.read(p.get('id') as never))).toBeInstanceOf(PermissionError);
    });

    it('history persists across reopen; transient tags are recomputed on read', async () => {
      const p = await addPoint(ctx.folio);
      const id = p.get('id') as never;
      await ctx.folio.his.write(id, [item(T0, num(1)), item(T0 + H, num(2))]);
      const f2 = await ctx.reopen();
      expect((await f2.his.read(id)).length).toBe(2);
      expect((await reread(f2, p)).get('hisSize')?.toZinc()).toBe('2');
    });
  });
}
