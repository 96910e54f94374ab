// History: per-sample TS.MADD errors, columnar writes, long streamed reads, rollups (server-side
// TS aggregation vs the fallback's own fold), concurrent writers at one timestamp.
import { beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { HisWriteError } from '../../src/index.js';
import type { FolioKeys } from '../../src/storage/keys.js';
import type { RedisFolio } from '../../src/index.js';
import { catchErr, freshFolio, useFolio } from '../harness/folio.js';
import { hisBackends } from './hisBackends.js';
import { addPoint, at, H, item, num, T0 } from './his-helpers.js';
import { numText } from '../../src/his/codec.js';

function core(f: RedisFolio): { main: Redis; keys: FolioKeys } {
  return (f as unknown as { core: { main: Redis; keys: FolioKeys } }).core;
}

for (const hb of hisBackends()) {
  describe.skipIf(!hb.backend.available)(`[${hb.label}] RedisHis bulk paths`, () => {
    const ctx = useFolio(hb.backend);
    beforeEach(async () => {
      await freshFolio(ctx);
    });

    it.runIf(hb.expect === 'timeseries')('per-sample TS.MADD errors fail the write and name the sample', async () => {
      const f = ctx.folio;
      const p = await addPoint(f);
      const id = p.get('id') as never;
      await f.his.write(id, [item(T0, num(1))]);
      // replace the series with one under the default BLOCK policy: a re-write of T0 is then rejected
      const { main, keys } = core(f);
      const rel = (p.get('id') as unknown as { value: string }).value;
      await main.del(keys.hisTs(rel));
      await main.call('TS.CREATE', keys.hisTs(rel));
      await main.call('TS.ADD', keys.hisTs(rel), String(T0), '1');
      const err = await catchErr(() => f.his.write(id, [item(T0, num(5)), item(T0 + H, num(6))]));
      expect(err).toBeInstanceOf(HisWriteError);
      expect(err.message).toMatch(/TS\.MADD rejected sample \{ts:2024-01-01T00:00:00-06:00 Chicago, val:5\}: .*(BLOCK|upsert)/i);
      expect(err.message).toContain(`[@${rel}]`);
      // TS.MADD is not atomic: the other sample is written (documented)
      expect(await main.call('TS.RANGE', keys.hisTs(rel), '-', '+')).toEqual([[T0, '1'], [T0 + H, '6']]);
    });

    it('columnar writes: same validation, sorted, deduplicated; many points at once', async () => {
      const f = ctx.folio;
      const a = (await addPoint(f, { unit: 'kW' })).get('id') as never;
      const b = (await addPoint(f, { kind: 'Bool' })).get('id') as never;
      const res = await f.his.writeColumns(a, { ts: [T0 + 2000, T0, T0 + 1000, T0 + 1500], val: [3, 1, 2.2, 2.5] });
      expect(res.count).toBe(3);
      expect(res.span?.start.equals(at(T0))).toBe(true);
      expect((await f.his.read(a)).map((i) => i.val.toZinc())).toEqual(['1kW', `${Math.fround(2.5)}kW`, '3kW']);
      const err = await catchErr(() => f.his.writeColumns(a, { ts: [T0, Date.UTC(1949, 0, 1)], val: [1, 2] }));
      expect(err).toBeInstanceOf(HisWriteError);
      expect((await f.his.read(a)).length).toBe(3);
      const many = await f.his.writeColumnsMany([
        { id: a, ts: Float64Array.from([T0 + 3000]), val: Float64Array.from([4]) },
        { id: b, ts: [T0, T0 + 1000], val: [1, 0] },
      ]);
      expect(many.map((r) => r.count)).toEqual([1, 2]);
      expect((await f.his.read(b)).map((i) => i.val.toZinc())).toEqual(['T', 'F']);
      // one bad batch: nothing of any batch is written
      expect(await catchErr(() => f.his.writeColumnsMany([{ id: a, ts: [T0 + 9000], val: [9] }, { id: b, ts: [T0], val: [7] }]))).toBeInstanceOf(HisWriteError);
      expect((await f.his.read(a)).length).toBe(4);
    });

    it('long reads stream in pages and only the asked range is fetched', async () => {
      const f = ctx.folio;
      const id = (await addPoint(f, { hisTsPrecision: num(1, 'ms') })).get('id') as never;
      const n = 25_000;
      const ts = new Float64Array(n);
      const val = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        ts[i] = T0 + i * 10;
        val[i] = i;
      }
      await f.his.writeColumns(id, { ts, val });
      let count = 0;
      let last = -1;
      for await (const it of f.his.readStream(id)) {
        const v = (it.val as unknown as { value: number }).value;
        expect(v).toBe(last + 1);
        last = v;
        count++;
      }
      expect(count).toBe(n);
      const span = await f.his.read(id, { start: at(T0 + 100_000), end: at(T0 + 200_000) });
      expect(span.length).toBe(1 + 10_000 + 2);
      expect((span[0]?.val as unknown as { value: number }).value).toBe(9999);
      expect((await f.his.read(id, undefined, { limit: 5 })).length).toBe(5);
    });

    it('rollups: avg/min/max/sum/count/first/last equal a fold of the raw items', async () => {
      const f = ctx.folio;
      const id = (await addPoint(f, { unit: 'kW' })).get('id') as never;
      const items = [];
      // tenths: not exact in float32, so the stored text (21.3) and the float32 read (21.299999237...) differ
      for (let i = 0; i < 200; i++) items.push(item(T0 + i * 7 * 60_000, num(Math.round(Math.sin(i) * 1000) / 10, 'kW')));
      await f.his.write(id, items);
      const span = { start: at(T0 + H), end: at(T0 + 20 * H) };
      const raw = (await f.his.read(id, span)).filter((i) => i.ts.date.getTime() >= T0 + H && i.ts.date.getTime() < T0 + 20 * H);
      for (const fold of ['avg', 'min', 'max', 'sum', 'count', 'first', 'last'] as const) {
        const got = await f.his.rollup(id, span, { fold, intervalMs: H });
        const buckets = new Map<number, number[]>();
        for (const it of raw) {
          const b = Math.floor(it.ts.date.getTime() / H) * H;
          // min/max/first/last are samples, read as float32; avg and sum fold the stored values
          // (what TS aggregation on the server sums), identically on both layouts
          const v = (it.val as unknown as { value: number }).value;
          buckets.set(b, [...(buckets.get(b) ?? []), fold === 'avg' || fold === 'sum' ? Number(numText(v)) : v]);
        }
        const want = [...buckets.entries()].map(([b, vs]) => {
          const v =
            fold === 'avg' ? vs.reduce((x, y) => x + y, 0) / vs.length
            : fold === 'min' ? Math.min(...vs)
            : fold === 'max' ? Math.max(...vs)
            : fold === 'sum' ? vs.reduce((x, y) => x + y, 0)
            : fold === 'count' ? vs.length
            : fold === 'first' ? (vs[0] as number)
            : (vs[vs.length - 1] as number);
          return `${b}=${v}`;
        });
        const gotText = got.map((i) => `${i.ts.date.getTime()}=${(i.val as unknown as { value: number }).value}`);
        expect(gotText.length, fold).toBe(want.length);
        gotText.forEach((g, k) => {
          const [gb, gv] = g.split('=');
          const [wb, wv] = (want[k] as string).split('=');
          expect(gb).toBe(wb);
          if (fold === 'avg' || fold === 'sum') expect(Number(gv)).toBeCloseTo(Number(wv), 9);
          else expect(Number(gv), fold).toBe(Number(wv));
        });
        expect(got[0]?.ts.timezone).toBe('Chicago');
        if (fold !== 'count') expect(got[0]?.val.toZinc()).toMatch(/kW$/);
      }
    });

    it('concurrent writers at one timestamp leave exactly one sample', async () => {
      const f = ctx.folio;
      const other = await ctx.open({ name: f.name });
      const p = await addPoint(f);
      const id = p.get('id') as never;
      await f.his.write(id, [item(T0 - H, num(0))]);
      await other.sync();
      const writes = [];
      for (let k = 0; k < 10; k++) writes.push((k % 2 ? f : other).his.write(id, [item(T0, num(k)), item(T0 + k * 1000 + 1000, num(k))]));
      await Promise.all(writes);
      const back = await f.his.read(id);
      expect(back.filter((i) => i.ts.date.getTime() === T0).length).toBe(1);
      expect(back.length).toBe(12);
    });
  });
}
