// Conformance: read options and trash (spec 5.2 cases 45-52; section 4 read options; section 2.7 trash).
import { beforeEach, describe, expect, it } from 'vitest';
import { HDict, HRef } from 'haystack-core';
import { Diff, DiffError, UnknownRecError } from '../../src/index.js';
import type { RedisFolio } from '../../src/index.js';
import { backends } from '../harness/backends.js';
import {
  addRec,
  catchErr,
  commit,
  curVer,
  describeErr,
  expectFailsCleanly,
  expectSameRec,
  freshFolio,
  idOf,
  idsInOrder,
  idsOf,
  m,
  n,
  none,
  ref,
  reread,
  s,
  useFolio,
} from '../harness/folio.js';

for (const backend of backends()) {
  describe.skipIf(!backend.available)(`[${backend.name}] RedisFolio read options and trash`, () => {
    const ctx = useFolio(backend);
    beforeEach(async () => {
      await freshFolio(ctx);
    });

    // A-D live with num 1-4; E and F trashed with num 5 and 6
    async function abcdef(f: RedisFolio): Promise<void> {
      // added out of dis order on purpose
      await addRec(f, { id: ref('C'), dis: 'C', num: n(3) });
      await addRec(f, { id: ref('A'), dis: 'A', num: n(1) });
      await addRec(f, { id: ref('D'), dis: 'D', num: n(4) });
      await addRec(f, { id: ref('B'), dis: 'B', num: n(2) });
      // E trashed by update, F added straight into the trash
      const e = await addRec(f, { id: ref('E'), dis: 'E', num: n(5) });
      await commit(f, e, { trash: m });
      await addRec(f, { id: ref('F'), dis: 'F', num: n(6), trash: m });
    }

    it('case 45: trash recs are never returned by readAllList / readCount, even with id==', async () => {
      const f = ctx.folio;
      await abcdef(f);
      expect(idsOf(await f.readAllList('num'))).toEqual(['A', 'B', 'C', 'D']);
      expect(await f.readCount('num')).toBe(4);
      expect(await f.readAllList('id==@E')).toEqual([]);
      expect(await f.readCount('id==@F')).toBe(0);
      expect(await f.read('id==@E', false)).toBeUndefined();
      expect((await f.readAll('num >= 5')).getRows().length).toBe(0);
      const seen: string[] = [];
      await f.readAllEachWhile('num', {}, (r) => void seen.push(idOf(r)));
      expect(seen.sort()).toEqual(['A', 'B', 'C', 'D']);
      expect(idsOf(await f.readByIdsList(['A', 'E'], false))).toEqual(['<null>', 'A']);
      expect((await f.readByIds(['E', 'F'], false)).getRows().length).toBe(0);
    });

    it('case 46: limit is a stable prefix; limit 0 gives nothing and never calls back', async () => {
      const f = ctx.folio;
      await abcdef(f);
      const all = idsInOrder(await f.readAllList('num'));
      expect(all.length).toBe(4);
      expect(idsInOrder(await f.readAllList('num', { limit: 2 }))).toEqual(all.slice(0, 2));
      expect(idsInOrder((await f.readAll('num', { limit: 2 })).getRows())).toEqual(all.slice(0, 2));
      expect(await f.readCount('num', { limit: 2 })).toBe(2);
      expect(await f.readAllList('num', { limit: 0 })).toEqual([]);
      expect(await f.readCount('num', { limit: 0 })).toBe(0);
      let called = 0;
      const r = await f.readAllEachWhile('num', { limit: 0 }, () => {
        called++;
        return 'x';
      });
      expect(r ?? undefined).toBeUndefined();
      expect(called).toBe(0);
    });

    it('case 47: sort orders by dis', async () => {
      const f = ctx.folio;
      await abcdef(f);
      expect(idsInOrder((await f.readAll('num', { sort: true })).getRows())).toEqual(['A', 'B', 'C', 'D']);
      expect(idsInOrder(await f.readAllList('num', { sort: true }))).toEqual(['A', 'B', 'C', 'D']);
    });

    it('case 48: readTrash gives only trash recs, with filter and limit', async () => {
      const f = ctx.folio;
      await abcdef(f);
      expect(idsOf((await f.readTrash('num')).getRows())).toEqual(['E', 'F']);
      expect(idsOf((await f.readTrash('num >= 6')).getRows())).toEqual(['F']);
      expect((await f.readTrash('num <= 3')).getRows().length).toBe(0);
      const one = (await f.readTrash('num', { limit: 1 })).getRows();
      expect(one.length).toBe(1);
      expect(['E', 'F']).toContain(idOf(one[0]));
      for (const r of (await f.readTrash('num')).getRows()) expect(r.has('trash')).toBe(true);
    });

    it('case 49: a trash option is ignored by readAll and readCount', async () => {
      const f = ctx.folio;
      await abcdef(f);
      const opts = { trash: true } as unknown as { limit?: number };
      expect(idsOf((await f.readAll('num', opts)).getRows())).toEqual(['A', 'B', 'C', 'D']);
      expect(await f.readCount('num', opts)).toBe(4);
    });

    it('case 50: readById hides trash; readByIdTrash finds it; unknown is UnknownRecError', async () => {
      const f = ctx.folio;
      await abcdef(f);
      expect(await f.readById('E', false)).toBeUndefined();
      const err = await catchErr(() => f.readById('E'));
      expect(err, describeErr(err)).toBeInstanceOf(UnknownRecError);
      const e = await f.readByIdTrash('E');
      expect(idOf(e!)).toBe('E');
      expect(e!.has('trash')).toBe(true);
      expect(e!.get('num')?.equals(n(5))).toBe(true);
      // readByIdTrash also finds live recs
      expect(idOf((await f.readByIdTrash('A'))!)).toBe('A');
      const err2 = await catchErr(() => f.readByIdTrash('unknown'));
      expect(err2, describeErr(err2)).toBeInstanceOf(UnknownRecError);
      expect(await f.readByIdTrash('unknown', false)).toBeUndefined();
    });

    it('case 51: trash and untrash in one batch; partition persists over reopen', async () => {
      const f = ctx.folio;
      const a = await addRec(f, { id: ref('A'), dis: 'A', num: n(1) });
      const b = await addRec(f, { id: ref('B'), dis: 'B', num: n(2) });
      const c = await addRec(f, { id: ref('C'), dis: 'C', num: n(3) });
      const d0 = await addRec(f, { id: ref('D'), dis: 'D', num: n(4) });
      const d = (await commit(f, d0, { trash: m }))!;
      void a;
      await f.commitAll([new Diff(b, { trash: m }), new Diff(c, { trash: m }), new Diff(d, { trash: none })]);
      const check = async (g: RedisFolio) => {
        expect(idsOf(await g.readAllList('num'))).toEqual(['A', 'D']);
        expect(idsOf((await g.readTrash('num')).getRows())).toEqual(['B', 'C']);
        for (const id of ['A', 'B', 'C', 'D']) expect(idOf((await g.readByIdTrash(id))!)).toBe(id);
        expect((await reread(g, 'D')).has('trash')).toBe(false);
      };
      await check(f);
      await check(await ctx.reopen());
    });

    it('case 52: commitRemoveTrash removes every trash rec and returns the count; empty trash is DiffError', async () => {
      const f = ctx.folio;
      await abcdef(f);
      const v = await curVer(f);
      expect(await f.commitRemoveTrash()).toBe(2);
      expect((await f.readTrash('id')).getRows().length).toBe(0);
      expect(await f.readByIdTrash('E', false)).toBeUndefined();
      expect(await f.readByIdTrash('F', false)).toBeUndefined();
      expect(await f.readCount('num')).toBe(4);
      expect(await curVer(f)).toBeGreaterThan(v);
      await expectFailsCleanly(f, () => f.commitRemoveTrash(), DiffError, 'No diffs to commit');
    });

    // ------------------------------------------------------------ section 4 read options

    async function many(f: RedisFolio, count: number): Promise<void> {
      const diffs: Diff[] = [];
      for (let i = 0; i < count; i++) {
        const k = (i * 7) % count; // scrambled dis order
        diffs.push(Diff.makeAdd({ dis: `Item ${k}`, idx: n(k), even: k % 2 === 0 }, ref(`r${i}`)));
      }
      await f.commitAll(diffs);
    }

    it('4: limit is a stable prefix for every size, also through readAllEachWhile and readCount', async () => {
      const f = ctx.folio;
      await many(f, 30);
      const all = idsInOrder(await f.readAllList('idx'));
      expect(all.length).toBe(30);
      expect(idsInOrder(await f.readAllList('idx'))).toEqual(all);
      for (const limit of [1, 2, 5, 17, 29, 30, 31, 1000]) {
        expect(idsInOrder(await f.readAllList('idx', { limit })), `limit ${limit}`).toEqual(all.slice(0, limit));
        expect(await f.readCount('idx', { limit }), `count limit ${limit}`).toBe(Math.min(30, limit));
        const seen: string[] = [];
        const r = await f.readAllEachWhile('idx', { limit }, (rec) => void seen.push(idOf(rec)));
        expect(r ?? undefined).toBeUndefined();
        expect(seen, `eachWhile limit ${limit}`).toEqual(all.slice(0, limit));
      }
      for (const limit of [0, -1, -100]) {
        expect(await f.readAllList('idx', { limit })).toEqual([]);
        expect(await f.readCount('idx', { limit })).toBe(0);
        expect((await f.readAll('idx', { limit })).getRows().length).toBe(0);
      }
    });

    it('4: readAllEachWhile under a limit returns undefined (no "break" leaks) and stops at the limit', async () => {
      const f = ctx.folio;
      await many(f, 10);
      let calls = 0;
      const r = await f.readAllEachWhile('idx', { limit: 3 }, () => {
        calls++;
        return undefined;
      });
      expect(r ?? undefined).toBeUndefined();
      expect(calls).toBe(3);
      const r2 = await f.readAllEachWhile('idx', { limit: 3 }, (rec) => (idOf(rec) ? 'hit' : undefined));
      expect(r2).toBe('hit');
    });

    it('4: sort is a natural sort by dis, applied after limit', async () => {
      const f = ctx.folio;
      await many(f, 12);
      const sorted = idsInOrder(await f.readAllList('idx', { sort: true }));
      const dis = (await f.readAllList('idx', { sort: true })).map((r) => r.get('dis')!.toString());
      expect(dis).toEqual(Array.from({ length: 12 }, (_, i) => `Item ${i}`));
      expect(sorted.length).toBe(12);
      const first4 = await f.readAllList('idx', { limit: 4 });
      const sortedFirst4 = [...first4]
        .sort((x, y) => (x.get('idx') as unknown as { value: number }).value - (y.get('idx') as unknown as { value: number }).value)
        .map(idOf);
      expect(idsInOrder(await f.readAllList('idx', { limit: 4, sort: true }))).toEqual(sortedFirst4);
      expect(idsInOrder((await f.readAll('idx', { limit: 4, sort: true })).getRows())).toEqual(sortedFirst4);
    });

    it('4: search: glob (case-insensitive, * and ?), re:, f:, Str tags, ids only for 8+ char patterns', async () => {
      const f = ctx.folio;
      await addRec(f, { id: ref('s1'), dis: 'Alpha Pump', num: n(1) });
      await addRec(f, { id: ref('s2'), dis: 'Beta Fan', note: 'hidden treasure', num: n(2) });
      await addRec(f, { id: ref('s3'), dis: 'Gamma Pump', num: n(3) });
      await addRec(f, { id: ref('searchable-long-id'), dis: 'Delta', num: n(4) });
      const q = async (search: string) => idsOf(await f.readAllList('num', { search }));
      expect(await q('*pump*')).toEqual(['s1', 's3']);
      expect(await q('*PUMP*')).toEqual(['s1', 's3']);
      expect(await q('alpha pump')).toEqual(['s1']);
      expect(await q('?eta fan')).toEqual(['s2']);
      expect(await q('*treasure*')).toEqual(['s2']);
      expect(await q('re:^(Alpha|Gamma) Pump$')).toEqual(['s1', 's3']);
      expect(await q('f:num >= 3')).toEqual(['s3', 'searchable-long-id']);
      expect(await q('*searchable-long*')).toEqual(['searchable-long-id']);
      expect(await q('nomatchatall')).toEqual([]);
      expect(await f.readCount('num', { search: '*pump*' })).toBe(2);
      // limit counts recs that passed the search
      const lim = await f.readAllList('num', { search: '*pump*', limit: 1 });
      expect(lim.length).toBe(1);
      expect(['s1', 's3']).toContain(idOf(lim[0]));
      expect(await f.readCount('num', { search: '*pump*', limit: 1 })).toBe(1);
      // search applies to readTrash too
      expect((await f.readTrash('num', { search: '*pump*' })).getRows().length).toBe(0);
    });

    it('4: gridMeta is copied into the grid meta of readAll and readTrash', async () => {
      const f = ctx.folio;
      await abcdef(f);
      const gridMeta = HDict.make({ title: s('My Grid'), marker: m, count: n(2) });
      const g = await f.readAll('num', { gridMeta });
      expect(g.meta.get('title')?.equals(s('My Grid'))).toBe(true);
      expect(g.meta.has('marker')).toBe(true);
      expect(g.meta.get('count')?.equals(n(2))).toBe(true);
      expect(g.getRows().length).toBe(4);
      const t = await f.readTrash('num', { gridMeta });
      expect(t.meta.get('title')?.equals(s('My Grid'))).toBe(true);
    });

    // ------------------------------------------------------------ 2.7 trash

    it('2.7: a rec added with trash goes straight to the trash and is invisible to every live read', async () => {
      const f = ctx.folio;
      await addRec(f, { id: ref('live'), dis: 'Live', k: m });
      const t = await addRec(f, { id: ref('tr'), dis: 'Trash', k: m, trash: m });
      expect(t.has('trash')).toBe(true);
      expect(await f.readById('tr', false)).toBeUndefined();
      await expect(f.readById('tr')).rejects.toThrow(UnknownRecError);
      await expect(f.readByIds(['tr'])).rejects.toThrow(UnknownRecError);
      await expect(f.readByIdsList(['tr'])).rejects.toThrow(UnknownRecError);
      await expect(f.read('id==@tr')).rejects.toThrow(UnknownRecError);
      expect(idsOf(await f.readAllList('k'))).toEqual(['live']);
      expect(await f.readCount('k')).toBe(1);
      expect(await f.readAllEachWhile('id==@tr', {}, () => 'found')).toBeUndefined();
      expect(idsOf((await f.readTrash('k')).getRows())).toEqual(['tr']);
      expectSameRec(await f.readByIdTrash('tr'), t);
      await expect(f.readByIdPersistentTags('tr')).rejects.toThrow(UnknownRecError);
    });

    it('2.7: commits can target trash recs: update in trash, then restore with trash: None', async () => {
      const f = ctx.folio;
      const a = await addRec(f, { id: ref('a'), dis: 'A', num: n(1) });
      await commit(f, a, { trash: m });
      const inTrash = (await f.readByIdTrash('a'))!;
      const upd = (await commit(f, inTrash, { note: 'edited in trash' }))!;
      expect(upd.has('trash')).toBe(true);
      expect(await f.readById('a', false)).toBeUndefined();
      const restored = (await commit(f, (await f.readByIdTrash('a'))!, { trash: none }))!;
      expect(restored.has('trash')).toBe(false);
      const back = await reread(f, 'a');
      expect(back.get('note')?.equals(s('edited in trash'))).toBe(true);
      expect((await f.readTrash('id')).getRows().length).toBe(0);
      expect((back.get('id') as HRef).value).toBe('a');
    });
  });
}
