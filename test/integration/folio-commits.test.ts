// Conformance: updates, concurrency and the commit pipeline
// (spec 5.2 cases 10-12, 14-18; sections 2.3 verify order and messages, 2.4 optimistic concurrency).
import { beforeEach, describe, expect, it } from 'vitest';
import { HDateTime, HDict, HRef } from 'haystack-core';
import { Diff, CommitError, ConcurrentChangeError, DiffError, ShutdownError } from '../../src/index.js';
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
  m,
  modMillis,
  n,
  none,
  ref,
  reread,
  s,
  snapshot,
  expectNothingWritten,
  useFolio,
} from '../harness/folio.js';

for (const backend of backends()) {
  describe.skipIf(!backend.available)(`[${backend.name}] RedisFolio commits`, () => {
    const ctx = useFolio(backend);
    beforeEach(async () => {
      await freshFolio(ctx);
    });

    async function abc() {
      const f = ctx.folio;
      const a = await addRec(f, { id: ref('a'), dis: 'A', size: n(10) });
      const b = await addRec(f, { id: ref('b'), dis: 'B', size: n(20) });
      const c = await addRec(f, { id: ref('c'), dis: 'C', size: n(30) });
      return { a, b, c };
    }

    it('case 10: commitAll of two updates bumps their mods only; returned newRecs equal readById', async () => {
      const f = ctx.folio;
      const { a, b, c } = await abc();
      const diffs = await f.commitAll([new Diff(a, { pchange: 'ap-1' }), new Diff(c, { pchange: 'cp-1' })]);
      expect(diffs.length).toBe(2);
      expect(idOf(diffs[0].id)).toBe('a');
      expect(idOf(diffs[1].id)).toBe('c');
      const a1 = await reread(f, 'a');
      const b1 = await reread(f, 'b');
      const c1 = await reread(f, 'c');
      expect(modMillis(a1)).toBeGreaterThan(modMillis(a));
      expect(modMillis(c1)).toBeGreaterThan(modMillis(c));
      expect(b1.get<HDateTime>('mod')!.equals(b.get<HDateTime>('mod')!)).toBe(true);
      expect(a1.get('pchange')?.equals(s('ap-1'))).toBe(true);
      expect(c1.get('pchange')?.equals(s('cp-1'))).toBe(true);
      expectSameRec(diffs[0].newRec, a1);
      expectSameRec(diffs[1].newRec, c1);
    });

    it('case 11: an update with empty changes succeeds and strictly increases mod (and curVer)', async () => {
      const f = ctx.folio;
      const { a } = await abc();
      const v = await curVer(f);
      const a1 = (await commit(f, a, {}))!;
      expect(modMillis(a1)).toBeGreaterThan(modMillis(a));
      const a2 = (await commit(f, a1, HDict.make({})))!;
      expect(modMillis(a2)).toBeGreaterThan(modMillis(a1));
      expect(await curVer(f)).toBeGreaterThan(v);
      expectSameRec(await f.readById('a'), a2);
    });

    it('case 12: transient commitAll shows the tags, keeps mod and curVer, and is gone after reopen', async () => {
      const f = ctx.folio;
      const { b, c } = await abc();
      const v = await curVer(f);
      const diffs = await f.commitAll([
        new Diff(b, { tchange: 'bt-1' }, Diff.transient),
        new Diff(c, { tchange: 'ct-1' }, Diff.transient),
      ]);
      expect(diffs.map((d) => d.isTransient)).toEqual([true, true]);
      const b1 = await reread(f, 'b');
      const c1 = await reread(f, 'c');
      expect(b1.get('tchange')?.equals(s('bt-1'))).toBe(true);
      expect(c1.get('tchange')?.equals(s('ct-1'))).toBe(true);
      expect(b1.get<HDateTime>('mod')!.equals(b.get<HDateTime>('mod')!)).toBe(true);
      expect(c1.get<HDateTime>('mod')!.equals(c.get<HDateTime>('mod')!)).toBe(true);
      // newMod = oldMod for transient diffs
      expect(diffs[0].newMod?.equals(b.get<HDateTime>('mod')!)).toBe(true);
      expect(await curVer(f)).toBe(v);
      expect((await f.readAllList('tchange')).length).toBe(2);
      const f2 = await ctx.reopen();
      expect((await reread(f2, 'b')).has('tchange')).toBe(false);
      expect((await reread(f2, 'c')).has('tchange')).toBe(false);
      expectSameRec(await f2.readById('b'), b);
    });

    it('case 14: forced diffs with stale oldRecs succeed and curVer increases', async () => {
      const f = ctx.folio;
      const { a: oldA, b: oldB } = await abc();
      const a1 = (await commit(f, oldA, { change: 'a-1' }))!;
      await commit(f, a1, { change: 'a-2' });
      await commit(f, oldB, { change: 'b-1' });
      const v = await curVer(f);
      await f.commitAll([
        new Diff(oldA, { change: 'a-3' }, Diff.force),
        new Diff(oldB, { change: 'b-2' }, Diff.force),
      ]);
      expect((await reread(f, 'a')).get('change')?.equals(s('a-3'))).toBe(true);
      expect((await reread(f, 'b')).get('change')?.equals(s('b-2'))).toBe(true);
      expect(await curVer(f)).toBeGreaterThan(v);
    });

    it('case 15: remove of a fresh rec: gone, curVer increases, result has no newRec and isRemove', async () => {
      const f = ctx.folio;
      const { c } = await abc();
      const v = await curVer(f);
      const freshC = await reread(f, 'c');
      const res = await f.commit(new Diff(freshC, null, Diff.remove));
      expect(res.newRec ?? null).toBeNull();
      expect(res.isRemove).toBe(true);
      expect(idOf(res.id)).toBe('c');
      expect(res.oldMod?.equals(c.get<HDateTime>('mod')!)).toBe(true);
      expect(await f.readById('c', false)).toBeUndefined();
      expect(await f.readByIdTrash('c', false)).toBeUndefined();
      expect(await f.readCount('size')).toBe(2);
      expect(await curVer(f)).toBeGreaterThan(v);
      // removal is persistent
      const f2 = await ctx.reopen();
      expect(await f2.readById('c', false)).toBeUndefined();
    });

    it('case 16: a batch with an update of a removed rec throws CommitError and applies nothing', async () => {
      const f = ctx.folio;
      const { a, c } = await abc();
      await commit(f, c, null, Diff.remove);
      const err = await expectFailsCleanly(
        f,
        () => f.commitAll([new Diff(a, { doNotAdd: 'foo' }, Diff.force), new Diff(c, { foo: 'bar' })]),
        CommitError,
      );
      expect(err).not.toBeInstanceOf(ConcurrentChangeError);
      expect(err.message).toContain('Rec not found');
      expect(err.message).toContain('c');
      expect((await reread(f, 'a')).has('doNotAdd')).toBe(false);
    });

    it('case 17: add of an existing id (even in trash) is CommitError "Rec already exists"', async () => {
      const f = ctx.folio;
      await abc();
      const err = await expectFailsCleanly(f, () => f.commit(Diff.makeAdd({ dis: 'x' }, ref('a'))), CommitError);
      expect(err.message).toMatch(/^Rec already exists: @?a$/);
      // string id form too
      await expectFailsCleanly(f, () => f.commit(Diff.makeAdd({ dis: 'x' }, 'b')), CommitError, 'Rec already exists');
      // trashed rec
      await commit(f, await reread(f, 'c'), { trash: m });
      expect(await f.readById('c', false)).toBeUndefined();
      await expectFailsCleanly(f, () => f.commit(Diff.makeAdd({ dis: 'x' }, ref('c'))), CommitError, 'Rec already exists');
      // inside a batch with a valid add: nothing is added
      await expectFailsCleanly(
        f,
        () => f.commitAll([Diff.makeAdd({ dis: 'fresh' }, ref('fresh')), Diff.makeAdd({ dis: 'x' }, ref('a'))]),
        CommitError,
      );
      expect(await f.readById('fresh', false)).toBeUndefined();
    });

    it('case 18: remove of a missing rec with a fabricated {id, mod} is CommitError, not ConcurrentChangeError', async () => {
      const f = ctx.folio;
      await abc();
      const fake = HDict.make({ id: ref('missing'), mod: HDateTime.make(new Date()) });
      const err = await expectFailsCleanly(f, () => f.commit(new Diff(fake, null, Diff.remove)), CommitError);
      expect(err).not.toBeInstanceOf(ConcurrentChangeError);
      expect(err.message).toMatch(/^Rec not found: @?missing$/);
    });

    // ------------------------------------------------------------ 2.3 batch checks and verify order

    it('2.3: checkDiffs messages: empty batch, mixed transient/persistent, duplicate ids', async () => {
      const f = ctx.folio;
      const { a, b } = await abc();
      await expectFailsCleanly(f, () => f.commitAll([]), DiffError, 'No diffs to commit');
      await expectFailsCleanly(
        f,
        () => f.commitAll([new Diff(a, { x: 'p' }), new Diff(b, { curVal: n(1) }, Diff.transient)]),
        DiffError,
        'Cannot mix transient and persistent diffs',
      );
      const dup = await expectFailsCleanly(
        f,
        () => f.commitAll([new Diff(a, { x: '1' }), new Diff(b, { x: '2' }), new Diff(a, { y: '3' }, Diff.force)]),
        DiffError,
        'Duplicate diffs for',
      );
      expect(dup.message).toContain('a');
    });

    it('2.3: checkWrite comes first: a closed folio gives ShutdownError even for an invalid batch', async () => {
      const f = ctx.folio;
      await f.close();
      const err = await catchErr(() => f.commitAll([]));
      expect(err, describeErr(err)).toBeInstanceOf(ShutdownError);
    });

    it('2.3: "Rec already exists" is checked before anything else in a batch and for any position', async () => {
      const f = ctx.folio;
      const { a, b } = await abc();
      await expectFailsCleanly(
        f,
        () => f.commitAll([new Diff(a, { ok: m }), new Diff(b, { ok: m }), Diff.makeAdd({ dis: 'dup' }, ref('c'))]),
        CommitError,
        /^Rec already exists: @?c$/,
      );
    });

    it('2.3: ConcurrentChangeError message is "<id>: <curMod> != <oldMod>"', async () => {
      const f = ctx.folio;
      const { a } = await abc();
      const a1 = (await commit(f, a, { x: '1' }))!;
      const err = await expectFailsCleanly(f, () => f.commit(new Diff(a, { x: '2' })), ConcurrentChangeError);
      expect(err).toBeInstanceOf(CommitError);
      expect(err.message).toContain(' != ');
      expect(err.message).toMatch(/^@?a: /);
      expect(err.message).toContain(String(a1.get<HDateTime>('mod')!.date.getUTCFullYear()));
    });

    it('2.3: a stale remove is ConcurrentChangeError (force is not implied); forced remove works', async () => {
      const f = ctx.folio;
      const { a } = await abc();
      await commit(f, a, { x: '1' });
      await expectFailsCleanly(f, () => f.commit(new Diff(a, null, Diff.remove)), ConcurrentChangeError);
      expect(await f.readById('a', false)).toBeDefined();
      await f.commit(new Diff(a, null, Diff.remove | Diff.force));
      expect(await f.readById('a', false)).toBeUndefined();
    });

    it('2.3: hooks: a verify failure in a batch calls preCommit for no failing diff and postCommit never', async () => {
      const f = ctx.folio;
      const { a, b } = await abc();
      await commit(f, b, { x: '1' }); // b is now stale
      const pre: Diff[] = [];
      const post: Diff[] = [];
      f.hooks = { preCommit: (e) => void pre.push(e.diff), postCommit: (e) => void post.push(e.diff) };
      const staleB = new Diff(b, { y: '2' });
      await expectFailsCleanly(f, () => f.commitAll([new Diff(a, { y: '1' }), staleB]), ConcurrentChangeError);
      expect(pre.some((d) => d === staleB)).toBe(false);
      expect(post.length).toBe(0);
    });

    // ------------------------------------------------------------ 2.4 optimistic concurrency

    it('2.4: a stale diff fails the entire batch, even when the other diffs are forced', async () => {
      const f = ctx.folio;
      const { a, b, c } = await abc();
      await commit(f, b, { x: '1' });
      const err = await expectFailsCleanly(
        f,
        () =>
          f.commitAll([
            new Diff(a, { forced: 'yes' }, Diff.force),
            new Diff(b, { stale: 'yes' }),
            new Diff(c, { forced: 'yes' }, Diff.force),
          ]),
        ConcurrentChangeError,
      );
      expect(err.message).toContain('b');
      expect((await reread(f, 'a')).has('forced')).toBe(false);
      expect((await reread(f, 'c')).has('forced')).toBe(false);
    });

    it('2.4: force skips only the mod check: missing recs and tag rules still fail', async () => {
      const f = ctx.folio;
      const { a } = await abc();
      const fake = HDict.make({ id: ref('ghost'), mod: a.get('mod')! });
      await expectFailsCleanly(f, () => f.commit(new Diff(fake, { x: '1' }, Diff.force)), CommitError, 'Rec not found');
      await expectFailsCleanly(f, () => f.commit(new Diff(a, { hisSize: n(1) }, Diff.force)), DiffError);
      await expectFailsCleanly(f, () => f.commit(new Diff(a, { curVal: n(1) }, Diff.force)), DiffError);
    });

    it('2.4: a fabricated {id, mod} oldRec commits like the real rec; a wrong mod is ConcurrentChangeError', async () => {
      const f = ctx.folio;
      const { a } = await abc();
      const fake = HDict.make({ id: ref('a'), mod: a.get('mod')! });
      const a1 = (await commit(f, fake, { viaFake: m }))!;
      expect(a1.has('viaFake')).toBe(true);
      expect(a1.get('dis')?.equals(s('A'))).toBe(true);
      expect(a1.get('size')?.equals(n(10))).toBe(true);
      const wrong = HDict.make({ id: ref('a'), mod: HDateTime.make(new Date(modMillis(a1) - 1000)) });
      await expectFailsCleanly(f, () => f.commit(new Diff(wrong, { x: '1' })), ConcurrentChangeError);
    });

    it('2.4: mods strictly increase across rapid commits of the same rec', async () => {
      const f = ctx.folio;
      let rec = await addRec(f, { dis: 'fast' });
      let last = modMillis(rec);
      for (let i = 0; i < 15; i++) {
        rec = (await commit(f, rec, { i: n(i) }))!;
        const mod = rec.get<HDateTime>('mod')!;
        expect(mod.timezone).toBe('UTC');
        expect(modMillis(rec)).toBeGreaterThan(last);
        last = modMillis(rec);
      }
      expectSameRec(await f.readById(idOf(rec)), rec);
    });

    // ------------------------------------------------------------ apply and return value

    it('2.3 apply: None removes tags; the result diff carries id, oldMod, oldRec, newRec, newMod, changes, flags in input order', async () => {
      const f = ctx.folio;
      const { a, b } = await abc();
      const d1 = new Diff(a, { size: none, extra: 'e' });
      const d2 = new Diff(b, { more: m });
      const res = await f.commitAll([d1, d2]);
      expect(res.length).toBe(2);
      const [r1, r2] = res;
      expect(idOf(r1.id)).toBe('a');
      expect(idOf(r2.id)).toBe('b');
      expect(r1.oldMod?.equals(a.get<HDateTime>('mod')!)).toBe(true);
      expectSameRec(r1.oldRec, a);
      expectSameRec(r2.oldRec, b);
      expect(r1.newRec!.has('size')).toBe(false);
      expect(r1.newRec!.get('extra')?.equals(s('e'))).toBe(true);
      expect(r1.newMod?.equals(r1.newRec!.get<HDateTime>('mod')!)).toBe(true);
      expect(r1.changes.has('extra')).toBe(true);
      expect(r1.isUpdate).toBe(true);
      expect(r1.flags & (Diff.add | Diff.remove | Diff.transient)).toBe(0);
      // the id of newRec is the canonical Ref, with the dis
      expect((r1.newRec!.get('id') as HRef).dis).toBe('A');
      expectSameRec(await f.readById('a'), r1.newRec);
    });

    it('2.3 apply: an add returns isAdd, no oldRec and the newRec with id and mod', async () => {
      const f = ctx.folio;
      const before = await snapshot(f);
      const res = await f.commit(Diff.makeAdd({ dis: 'new', x: n(1) }, ref('newId')));
      expect(res.isAdd).toBe(true);
      expect(res.oldRec ?? undefined).toBeUndefined();
      expect(idOf(res.id)).toBe('newId');
      expect(idOf(res.newRec!)).toBe('newId');
      expect((res.newRec!.get('id') as HRef).dis).toBe('new');
      expect(res.newMod?.equals(res.newRec!.get<HDateTime>('mod')!)).toBe(true);
      expect(await curVer(f)).toBeGreaterThan(before.curVer);
      // and a generated id when none is given
      const g = await f.commit(Diff.makeAdd({ dis: 'gen' }));
      expect(idOf(g.newRec!).length).toBeGreaterThan(0);
      expectSameRec(await f.readById(idOf(g.newRec!)), g.newRec);
    });

    it('2.3: one failing diff leaves every other rec of the batch untouched (adds, updates, removes)', async () => {
      const f = ctx.folio;
      const { a, b, c } = await abc();
      await commit(f, c, { bump: m });
      const before = await snapshot(f);
      const err = await catchErr(() =>
        f.commitAll([
          Diff.makeAdd({ dis: 'n1' }, ref('n1')),
          new Diff(a, { changed: m }),
          new Diff(b, null, Diff.remove),
          new Diff(c, { stale: m }),
        ]),
      );
      expect(err, describeErr(err)).toBeInstanceOf(ConcurrentChangeError);
      await expectNothingWritten(f, before);
      expect(await f.readById('n1', false)).toBeUndefined();
      expect(await f.readById('b', false)).toBeDefined();
    });
  });
}
