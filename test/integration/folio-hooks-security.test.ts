// Conformance: hooks and security contexts (spec 5.2 cases 58-61; sections 1.1, 1.2, 2.3 step 3).
import { beforeEach, describe, expect, it } from 'vitest';
import { HDict, HRef } from 'haystack-core';
import { Diff, DiffError, PermissionError, UnknownRecError, RedisFolio } from '../../src/index.js';
import { backends } from '../harness/backends.js';
import {
  addRec,
  catchErr,
  commit,
  describeErr,
  expectFailsCleanly,
  expectSameRec,
  freshFolio,
  idOf,
  idsOf,
  m,
  n,
  none,
  ref,
  reread,
  snapshot,
  expectNothingWritten,
  useFolio,
} from '../harness/folio.js';

type CommitEvent = { diff: Diff; oldRec: HDict | undefined; cxInfo: unknown };

for (const backend of backends()) {
  describe.skipIf(!backend.available)(`[${backend.name}] RedisFolio hooks and security`, () => {
    const ctx = useFolio(backend);
    beforeEach(async () => {
      await freshFolio(ctx);
    });

    it('case 58: preCommit gets the caller diffs, postCommit the result diffs (same instances), cxInfo passed', async () => {
      const f = ctx.folio;
      const a = await addRec(f, { id: ref('a'), dis: 'A' });
      const b = await addRec(f, { id: ref('b'), dis: 'B' });
      const pre: CommitEvent[] = [];
      const post: CommitEvent[] = [];
      f.hooks = {
        preCommit: (e) => void pre.push({ diff: e.diff, oldRec: e.oldRec, cxInfo: e.cxInfo }),
        postCommit: (e) => void post.push({ diff: e.diff, oldRec: e.oldRec, cxInfo: e.cxInfo }),
      };
      const info = { user: 'tester' };
      const view = f.withContext({ canRead: () => true, canWrite: () => true, commitInfo: () => info });
      const aPre = new Diff(a, { x: m });
      const bPre = new Diff(b, { y: m });
      const res = await view.commitAll([aPre, bPre]);
      expect(pre.length).toBe(2);
      expect(pre[0].diff).toBe(aPre);
      expect(pre[1].diff).toBe(bPre);
      expect(post.length).toBe(2);
      expect(post[0].diff).toBe(res[0]);
      expect(post[1].diff).toBe(res[1]);
      for (const e of [...pre, ...post]) expect(e.cxInfo).toBe(info);
      expectSameRec(pre[0].oldRec, a);
      expectSameRec(pre[1].oldRec, b);
      // an add: oldRec is undefined
      pre.length = 0;
      post.length = 0;
      const add = Diff.makeAdd({ dis: 'C' }, ref('c'));
      const r = await f.commit(add);
      expect(pre.map((e) => e.diff)).toHaveLength(1);
      expect(pre[0].diff).toBe(add);
      expect(pre[0].oldRec ?? undefined).toBeUndefined();
      expect(post[0].diff).toBe(r);
      expect(post[0].diff.newRec).toBeDefined();
    });

    it('case 58: hooks passed to open are used, and then cannot be replaced', async () => {
      let calls = 0;
      const f = await ctx.open({ hooks: { preCommit: () => void calls++ } });
      await addRec(f, { dis: 'x' });
      expect(calls).toBe(1);
      expect(() => {
        f.hooks = {};
      }).toThrow('Cannot modify hooks more than once');
    });

    it('case 59: a preCommit throw aborts the whole batch: preCommit ran for both, postCommit for none, nothing written', async () => {
      const f = ctx.folio;
      await addRec(f, { id: ref('existing'), dis: 'E' });
      const pre: Diff[] = [];
      const post: Diff[] = [];
      const boom = new Error('preCommit says no');
      f.hooks = {
        preCommit: (e) => {
          pre.push(e.diff);
          if (idOf(e.diff.id) === 'y') throw boom;
        },
        postCommit: (e) => void post.push(e.diff),
      };
      const x = Diff.makeAdd({ dis: 'X' }, ref('x'));
      const y = Diff.makeAdd({ dis: 'Y' }, ref('y'));
      const before = await snapshot(f);
      const err = await catchErr(() => f.commitAll([x, y]));
      expect(err === boom || err.message.includes('preCommit says no'), describeErr(err)).toBe(true);
      expect(pre.length).toBe(2);
      expect(pre[0]).toBe(x);
      expect(pre[1]).toBe(y);
      expect(post.length).toBe(0);
      expect(await f.readById('x', false)).toBeUndefined();
      expect(await f.readById('y', false)).toBeUndefined();
      expect(await f.readByIdTrash('x', false)).toBeUndefined();
      await expectNothingWritten(f, before);
    });

    // a context that denies writes to rec `a`
    function denyA(folio: RedisFolio) {
      return folio.withContext({
        canRead: () => true,
        canWrite: (w) => !(w.oldRec && idOf(w.oldRec.get('id') as HRef) === 'a'),
      });
    }

    it('case 60: write permission: denied update is PermissionError, others and adds commit, one denial rejects the batch, DiffError first', async () => {
      const f = ctx.folio;
      const a = await addRec(f, { id: ref('a'), dis: 'A' });
      const b = await addRec(f, { id: ref('b'), dis: 'B' });
      const view = denyA(f);
      const e1 = await expectFailsCleanly(f, () => view.commit(new Diff(a, { x: m })), PermissionError);
      expect(e1.message).toMatch(/^Cannot write: @?a$/);
      await expectFailsCleanly(f, () => view.commit(new Diff(a, null, Diff.remove)), PermissionError);
      const b1 = (await view.commit(new Diff(b, { x: m }))).newRec!;
      expect(b1.has('x')).toBe(true);
      const c = (await view.commit(Diff.makeAdd({ dis: 'C' }, ref('c')))).newRec!;
      expect(idOf(c)).toBe('c');
      await expectFailsCleanly(f, () => view.commitAll([new Diff(b1, { y: m }), new Diff(a, { y: m })]), PermissionError);
      expect((await reread(f, 'b')).has('y')).toBe(false);
      await expectFailsCleanly(f, () => view.commitAll([new Diff(a, { x: m }), new Diff(a, { y: m })]), DiffError);
      // the folio itself (no context) can still write a
      await commit(f, a, { fromRoot: m });
    });

    it('case 60: untrashing a denied rec is PermissionError; canRead false on the old rec is PermissionError', async () => {
      const f = ctx.folio;
      const a = await addRec(f, { id: ref('a'), dis: 'A' });
      await commit(f, a, { trash: m });
      const view = denyA(f);
      const trashed = (await f.readByIdTrash('a'))!;
      await expectFailsCleanly(f, () => view.commit(new Diff(trashed, { trash: none })), PermissionError);
      const b = await addRec(f, { id: ref('b'), dis: 'B', secret: m });
      const noRead = f.withContext({ canRead: (r) => !r.has('secret'), canWrite: () => true });
      await expectFailsCleanly(f, () => noRead.commit(new Diff(b, { x: m })), PermissionError);
    });

    it('case 61: read permission: by-id reads throw PermissionError, lists prefer it, filters skip denied recs', async () => {
      const f = ctx.folio;
      await addRec(f, { id: ref('good'), dis: 'Good', k: n(1) });
      await addRec(f, { id: ref('bad'), dis: 'Bad', k: n(2), deny: m });
      const view = f.withContext({ canRead: (r) => !r.has('deny'), canWrite: () => true });
      const e1 = await catchErr(() => view.readById('bad'));
      expect(e1, describeErr(e1)).toBeInstanceOf(PermissionError);
      expect(e1.message).toMatch(/^Cannot read: @?bad$/);
      expect(await view.readById('bad', false)).toBeUndefined();
      expect(idOf((await view.readById('good'))!)).toBe('good');
      const e2 = await catchErr(() => view.readByIdsList([ref('missing'), ref('bad')]));
      expect(e2, describeErr(e2)).toBeInstanceOf(PermissionError);
      const e3 = await catchErr(() => view.readByIds([ref('missing'), ref('bad')]));
      expect(e3, describeErr(e3)).toBeInstanceOf(PermissionError);
      const unchecked = await view.readByIdsList([ref('good'), ref('bad'), ref('missing')], false);
      expect(unchecked.length).toBe(3);
      expect(idOf(unchecked[0]!)).toBe('good');
      expect(unchecked[1] ?? undefined).toBeUndefined();
      expect(unchecked[2] ?? undefined).toBeUndefined();
      expect(idsOf(await view.readAllList('k'))).toEqual(['good']);
      expect(idsOf((await view.readAll('k')).getRows())).toEqual(['good']);
      expect(await view.readCount('k')).toBe(1);
      expect(await view.readCount('id == @bad')).toBe(0);
      expect(await view.read('deny', false)).toBeUndefined();
      await expect(view.read('deny')).rejects.toThrow(UnknownRecError);
      const seen: string[] = [];
      await view.readAllEachWhile('k', {}, (r) => void seen.push(idOf(r)));
      expect(seen).toEqual(['good']);
      await expect(view.readByIdPersistentTags('bad')).rejects.toThrow(PermissionError);
      await expect(view.readByIdTransientTags('bad')).rejects.toThrow(PermissionError);
      // limit counts only readable recs
      expect(idsOf(await view.readAllList('k', { limit: 1 }))).toEqual(['good']);
      // the folio without a context still sees everything
      expect(await f.readCount('k')).toBe(2);
    });

    it('2.3: DiffError (duplicate, empty, mixed) wins over PermissionError in a denying context', async () => {
      const f = ctx.folio;
      const a = await addRec(f, { id: ref('a'), dis: 'A' });
      const b = await addRec(f, { id: ref('b'), dis: 'B' });
      const view = f.withContext({ canRead: () => false, canWrite: () => false });
      await expectFailsCleanly(f, () => view.commitAll([]), DiffError);
      await expectFailsCleanly(f, () => view.commitAll([new Diff(a, { x: m }), new Diff(a, { y: m })]), DiffError);
      await expectFailsCleanly(
        f,
        () => view.commitAll([new Diff(a, { x: m }), new Diff(b, { curVal: n(1) }, Diff.transient)]),
        DiffError,
      );
      await expectFailsCleanly(f, () => view.commit(new Diff(a, { x: m })), PermissionError);
      await expectFailsCleanly(f, () => view.commit(Diff.makeAdd({ dis: 'new' })), PermissionError);
    });

    it('1.10: canWrite receives {oldRec, diff}: oldRec undefined for adds, the current rec for updates', async () => {
      const f = ctx.folio;
      const a = await addRec(f, { id: ref('a'), dis: 'A' });
      const writes: { oldRec: HDict | undefined; diff: Diff | undefined }[] = [];
      const view = f.withContext({ canRead: () => true, canWrite: (w) => (writes.push(w), true) });
      const upd = new Diff(a, { x: m });
      await view.commit(upd);
      const add = Diff.makeAdd({ dis: 'B' });
      await view.commit(add);
      expect(writes.length).toBe(2);
      expectSameRec(writes[0].oldRec, a);
      expect(writes[0].diff).toBe(upd);
      expect(writes[1].oldRec ?? undefined).toBeUndefined();
      expect(writes[1].diff).toBe(add);
    });
  });
}
