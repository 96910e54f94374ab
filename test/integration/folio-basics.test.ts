// Conformance: reads and basic commits (spec 5.2 cases 1-9, 20, 78; sections 1.1 and 2.3 checkWrite).
import { beforeEach, describe, expect, it } from 'vitest';
import { HDateTime, HDict, HRef } from 'haystack-core';
import {
  RedisFolio,
  Diff,
  UnknownRecError,
  CommitError,
  ConcurrentChangeError,
  DiffError,
  ShutdownError,
  ReadonlyReplicaError,
  InvalidTagNameError,
} from '../../src/index.js';
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
  idsOf,
  n,
  rows,
  s,
  snapshot,
  expectNothingWritten,
  useFolio,
  ref,
  m,
} from '../harness/folio.js';

for (const backend of backends()) {
  describe.skipIf(!backend.available)(`[${backend.name}] RedisFolio basics`, () => {
    const ctx = useFolio(backend);
    beforeEach(async () => {
      await freshFolio(ctx);
    });

    it('opens with a name, no idPrefix by default, readable and writable', async () => {
      const f = ctx.folio;
      expect(typeof f.name).toBe('string');
      expect(f.name.length).toBeGreaterThan(0);
      expect(f.idPrefix ?? undefined).toBeUndefined();
      expect(f.isClosed()).toBe(false);
      expect(f.isReadable()).toBe(true);
      expect(f.isWritable()).toBe(true);
    });

    it('case 1: add returns a rec with generated id, UTC mod, dis and size; readById equals it; curVer grows', async () => {
      const f = ctx.folio;
      const v0 = await curVer(f);
      const rec = await addRec(f, { dis: 'A', size: n(10) });
      expect(rec.get('id')).toBeInstanceOf(HRef);
      const mod = rec.get<HDateTime>('mod');
      expect(mod).toBeInstanceOf(HDateTime);
      expect(mod!.timezone).toBe('UTC');
      expect(Math.abs(mod!.date.getTime() - Date.now())).toBeLessThan(60_000);
      expect(rec.get('dis')?.equals(s('A'))).toBe(true);
      expect(rec.get('size')?.equals(n(10))).toBe(true);
      expect([...rec.keys].sort()).toEqual(['dis', 'id', 'mod', 'size']);
      const read = await f.readById(rec.get('id') as HRef);
      expectSameRec(read, rec);
      expect(read!.equals(rec)).toBe(true);
      // readById also accepts the id as a string
      expectSameRec(await f.readById(idOf(rec)), rec);
      expect(await curVer(f)).toBeGreaterThan(v0);
    });

    it('case 2: readById of an unknown id: undefined unchecked, UnknownRecError checked', async () => {
      const f = ctx.folio;
      await addRec(f, { dis: 'other' });
      expect(await f.readById(ref('unknown-id'), false)).toBeUndefined();
      expect(await f.readById('unknown-id', false)).toBeUndefined();
      const err = await catchErr(() => f.readById(ref('unknown-id')));
      expect(err, describeErr(err)).toBeInstanceOf(UnknownRecError);
      expect(err.message).toContain('unknown-id');
    });

    it('case 3: readByIdsList([a, unknown, b]) unchecked is [a, undefined, b]; checked throws UnknownRecError', async () => {
      const f = ctx.folio;
      const a = await addRec(f, { dis: 'a' });
      const b = await addRec(f, { dis: 'b' });
      const list = await f.readByIdsList([a.get('id') as HRef, ref('unknown-x'), b.get('id') as HRef], false);
      expect(list.length).toBe(3);
      expectSameRec(list[0], a);
      expect(list[1] ?? undefined).toBeUndefined();
      expectSameRec(list[2], b);
      const err = await catchErr(() => f.readByIdsList([a.get('id') as HRef, ref('unknown-x'), b.get('id') as HRef]));
      expect(err, describeErr(err)).toBeInstanceOf(UnknownRecError);
      // checked with known ids only: same order as given
      const ok = await f.readByIdsList([b.get('id') as HRef, a.get('id') as HRef]);
      expect(ok.map((r) => idOf(r!))).toEqual([idOf(b), idOf(a)]);
    });

    it('case 4: readByIds grid: all-null middle row; only-unknown gives 0 rows; [] is empty; checked throws', async () => {
      const f = ctx.folio;
      const a = await addRec(f, { dis: 'a', size: n(1) });
      const b = await addRec(f, { dis: 'b', size: n(2) });
      const g = await f.readByIds([a.get('id') as HRef, ref('unknown-x'), b.get('id') as HRef], false);
      const rs = rows(g);
      expect(rs.length).toBe(3);
      expect(idOf(rs[0])).toBe(idOf(a));
      expect(idOf(rs[2])).toBe(idOf(b));
      for (const col of g.getColumnNames()) {
        expect(rs[1].get(col) ?? null, `middle row col ${col}`).toBeNull();
      }
      expect(rs[1].get('id') ?? null).toBeNull();
      expect(rows(await f.readByIds([ref('unknown-x')], false)).length).toBe(0);
      expect(rows(await f.readByIds([], false)).length).toBe(0);
      expect(rows(await f.readByIds([])).length).toBe(0);
      const err = await catchErr(() => f.readByIds([a.get('id') as HRef, ref('unknown-x')]));
      expect(err, describeErr(err)).toBeInstanceOf(UnknownRecError);
    });

    it('case 5: read(filter) with no match: undefined unchecked, UnknownRecError naming the filter checked', async () => {
      const f = ctx.folio;
      await addRec(f, { dis: 'a' });
      expect(await f.read('bad', false)).toBeUndefined();
      const err = await catchErr(() => f.read('bad'));
      expect(err, describeErr(err)).toBeInstanceOf(UnknownRecError);
      expect(err.message).toContain('bad');
    });

    it('case 6: read by filter with id== and size', async () => {
      const f = ctx.folio;
      await addRec(f, { id: ref('a'), dis: 'a', size: n(10) });
      const b = await addRec(f, { id: ref('b'), dis: 'b', size: n(20) });
      await addRec(f, { id: ref('c'), dis: 'c', size: n(30) });
      expect(idOf((await f.read('size==20'))!)).toBe('b');
      expectSameRec(await f.read('id==@b and size==20'), b);
      expect(await f.read('id==@b and size==10', false)).toBeUndefined();
    });

    it('case 7: readAllList / readCount of size >= 20; curVer unchanged by reads', async () => {
      const f = ctx.folio;
      await addRec(f, { id: ref('a'), dis: 'a', size: n(10) });
      await addRec(f, { id: ref('b'), dis: 'b', size: n(20) });
      await addRec(f, { id: ref('c'), dis: 'c', size: n(30) });
      const v = await curVer(f);
      expect(idsOf(await f.readAllList('size >= 20'))).toEqual(['b', 'c']);
      expect(idsOf(rows(await f.readAll('size >= 20')))).toEqual(['b', 'c']);
      expect(await f.readCount('size >= 20')).toBe(2);
      await f.readById('a');
      await f.readByIds(['a', 'b']);
      await f.read('size');
      expect(await curVer(f)).toBe(v);
    });

    it('case 8: readAllEachWhile returns undefined when f never stops, else the first value', async () => {
      const f = ctx.folio;
      await addRec(f, { id: ref('a'), dis: 'a', size: n(10) });
      await addRec(f, { id: ref('b'), dis: 'b', size: n(20) });
      await addRec(f, { id: ref('c'), dis: 'c', size: n(30) });
      const seen: HDict[] = [];
      const r1 = await f.readAllEachWhile('size >= 20', {}, (rec) => {
        seen.push(rec);
        return undefined;
      });
      expect(r1 ?? undefined).toBeUndefined();
      expect(idsOf(seen)).toEqual(['b', 'c']);
      let calls = 0;
      const r2 = await f.readAllEachWhile('size >= 20', {}, () => {
        calls++;
        return 'break!';
      });
      expect(r2).toBe('break!');
      expect(calls).toBe(1);
    });

    it('case 9: close and reopen: recs read back with identical tags, including mod', async () => {
      const f = ctx.folio;
      const a = await addRec(f, { id: ref('a'), dis: 'a', size: n(10), flag: m, list: s('x') });
      const b = await addRec(f, { id: ref('b'), dis: 'b', size: n(20), aRef: ref('a') });
      const c = await addRec(f, { id: ref('c'), dis: 'c', size: n(30) });
      const c2 = (await commit(f, c, { more: s('yes') }))!;
      const v = await curVer(f);
      const f2 = await ctx.reopen();
      for (const r of [a, b, c2]) {
        const back = await f2.readById(idOf(r));
        expectSameRec(back, r);
        expect(back!.get<HDateTime>('mod')!.equals(r.get<HDateTime>('mod')!)).toBe(true);
      }
      expect(await curVer(f2)).toBe(v);
      expect(await f2.readCount('size')).toBe(3);
    });

    it('case 20: after close every API rejects with ShutdownError; a second close resolves', async () => {
      const f = ctx.folio;
      const a = await addRec(f, { id: ref('a'), dis: 'a' });
      await f.close();
      expect(f.isClosed()).toBe(true);
      expect(f.isReadable()).toBe(false);
      expect(f.isWritable()).toBe(false);
      const reads: [string, () => Promise<unknown>][] = [
        ['readById', () => f.readById('a')],
        ['readById unchecked', () => f.readById('a', false)],
        ['readByIds', () => f.readByIds(['a'])],
        ['readByIdsList', () => f.readByIdsList(['a'])],
        ['readCount', () => f.readCount('dis')],
        ['read', () => f.read('dis')],
        ['readAll', () => f.readAll('dis')],
        ['readAllList', () => f.readAllList('dis')],
        ['readAllEachWhile', () => f.readAllEachWhile('dis', {}, () => undefined)],
        ['readTrash', () => f.readTrash('dis')],
        ['readByIdTrash', () => f.readByIdTrash('a')],
        ['readByIdPersistentTags', () => f.readByIdPersistentTags('a')],
        ['readByIdTransientTags', () => f.readByIdTransientTags('a')],
      ];
      for (const [name, call] of reads) {
        const err = await catchErr(call);
        expect(err, `${name}: ${describeErr(err)}`).toBeInstanceOf(ShutdownError);
        expect(err.message, name).toBe('Cannot read, folio is closed');
      }
      const writes: [string, () => Promise<unknown>][] = [
        ['commit', () => f.commit(new Diff(a, { x: s('y') }))],
        ['commit add', () => f.commit(Diff.makeAdd({ dis: s('new') }))],
        ['commitAll', () => f.commitAll([new Diff(a, { x: s('y') })])],
        ['commitAll []', () => f.commitAll([])],
        ['commitRemoveTrash', () => f.commitRemoveTrash()],
      ];
      for (const [name, call] of writes) {
        const err = await catchErr(call);
        expect(err, `${name}: ${describeErr(err)}`).toBeInstanceOf(ShutdownError);
        expect(err.message, name).toBe('Cannot write, folio is closed');
      }
      await expect(f.close()).resolves.toBeUndefined();
      // the data is still there for the next open
      const f2 = await ctx.reopen(f);
      expectSameRec(await f2.readById('a'), a);
    });

    it('case 20 (view): a withContext view of a closed folio also rejects with ShutdownError', async () => {
      const f = ctx.folio;
      await addRec(f, { id: ref('a'), dis: 'a' });
      const view = f.withContext({ canRead: () => true, canWrite: () => true });
      await f.close();
      await expect(view.readById('a')).rejects.toThrow(ShutdownError);
      await expect(view.readAll('dis')).rejects.toThrow(ShutdownError);
      await expect(view.commit(Diff.makeAdd({ dis: s('x') }))).rejects.toThrow(ShutdownError);
    });

    it('case 78: curVer is unchanged after failed commits of every class, transient commits and reads', async () => {
      const f = ctx.folio;
      const a = await addRec(f, { id: ref('a'), dis: 'a', size: n(1) });
      const a2 = (await commit(f, a, { size: n(2) }))!;
      const v = await curVer(f);
      // DiffError (empty batch, and a never tag)
      await expectFailsCleanly(f, () => f.commitAll([]), DiffError);
      await expectFailsCleanly(f, () => f.commit(new Diff(a2, { hisSize: n(3) })), DiffError);
      // CommitError (exists, not found)
      await expectFailsCleanly(f, () => f.commit(Diff.makeAdd({ dis: s('dup') }, ref('a'))), CommitError);
      await expectFailsCleanly(
        f,
        () => f.commit(new Diff(HDict.make({ id: ref('nope'), mod: a2.get('mod')! }), { x: s('y') })),
        CommitError,
      );
      // ConcurrentChangeError
      await expectFailsCleanly(f, () => f.commit(new Diff(a, { x: s('y') })), ConcurrentChangeError);
      // InvalidTagNameError
      await expectFailsCleanly(f, () => f.commit(new Diff(a2, { 'bad name': s('y') })), InvalidTagNameError);
      // reads
      await f.readAll('dis');
      await f.readById('a');
      await f.readCount('dis');
      // transient
      const t = await f.commit(new Diff(a2, { curVal: n(5) }, Diff.transient));
      expect(t.newRec!.get('curVal')?.equals(n(5))).toBe(true);
      expect(await curVer(f)).toBe(v);
      // and a persistent commit does change it
      await commit(f, (await f.readById('a'))!, { size: n(3) });
      expect(await curVer(f)).toBeGreaterThan(v);
    });

    it('curVer increases after every persistent commit: add, update, remove, commitAll', async () => {
      const f = ctx.folio;
      let v = await curVer(f);
      const step = async () => {
        const nv = await curVer(f);
        expect(nv).toBeGreaterThan(v);
        v = nv;
      };
      const a = await addRec(f, { dis: 'a' });
      await step();
      const a2 = (await commit(f, a, { x: s('1') }))!;
      await step();
      const b = await addRec(f, { dis: 'b' });
      await step();
      await f.commitAll([new Diff(a2, { x: s('2') }), new Diff(b, { x: s('2') })]);
      await step();
      await commit(f, (await f.readById(idOf(a)))!, null, Diff.remove);
      await step();
    });

    it('hooks can be set once; a second set throws "Cannot modify hooks more than once"', async () => {
      const f = ctx.folio;
      f.hooks = {};
      let err: unknown;
      try {
        f.hooks = {};
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toBe('Cannot modify hooks more than once');
    });

    it('replica: readable but not writable; every commit rejects with ReadonlyReplicaError and writes nothing', async () => {
      const f = ctx.folio;
      const a = await addRec(f, { id: ref('a'), dis: 'a' });
      const r = await ctx.open({ name: f.name, replica: true });
      expect(r.isReadable()).toBe(true);
      expect(r.isWritable()).toBe(false);
      expectSameRec(await r.readById('a'), a);
      const before = await snapshot(f);
      for (const call of [
        () => r.commit(new Diff(a, { x: s('y') })),
        () => r.commit(Diff.makeAdd({ dis: s('x') })),
        () => r.commitAll([new Diff(a, { x: s('y') })]),
        () => r.commitAll([]), // checkWrite comes before checkDiffs
        () => r.commit(new Diff(a, { x: s('y') }, Diff.transient)),
        () => r.commitRemoveTrash(),
      ]) {
        const err = await catchErr(call);
        expect(err, describeErr(err)).toBeInstanceOf(ReadonlyReplicaError);
        expect(err.message).toBe('Cannot write, folio is replica');
      }
      await expectNothingWritten(f, before);
      expect(RedisFolio).toBeDefined();
    });
  });
}
