// Conformance: transient and persistent layers (spec 5.2 cases 54, 56, 57; sections 2.3 transient rules).
import { beforeEach, describe, expect, it } from 'vitest';
import { HDateTime } from 'haystack-core';
import { Diff, CommitError, ConcurrentChangeError, DiffError, UnknownRecError } from '../../src/index.js';
import { backends } from '../harness/backends.js';
import {
  addRec,
  catchErr,
  commit,
  curVer,
  describeErr,
  expectFailsCleanly,
  freshFolio,
  idsOf,
  m,
  n,
  none,
  ref,
  reread,
  s,
  tagNames,
  useFolio,
} from '../harness/folio.js';

for (const backend of backends()) {
  describe.skipIf(!backend.available)(`[${backend.name}] RedisFolio transient tags`, () => {
    const ctx = useFolio(backend);
    beforeEach(async () => {
      await freshFolio(ctx);
    });

    it('case 54: persistent and transient views, and their merge', async () => {
      const f = ctx.folio;
      const a0 = await addRec(f, { id: ref('A'), dis: 'A' });
      const a1 = (await commit(f, a0, { foo: 'bar' }))!;
      const a2 = (await commit(f, a1, { curVal: n(75), curStatus: 'ok', baz: m }, Diff.transient))!;
      const p = await f.readByIdPersistentTags('A');
      expect(tagNames(p)).toEqual(['dis', 'foo', 'id', 'mod']);
      expect(p!.get('foo')?.equals(s('bar'))).toBe(true);
      const t = await f.readByIdTransientTags('A');
      expect(tagNames(t)).toEqual(['baz', 'curStatus', 'curVal']);
      expect(t!.get('curVal')?.equals(n(75))).toBe(true);
      const all = await reread(f, 'A');
      expect(tagNames(all)).toEqual(['baz', 'curStatus', 'curVal', 'dis', 'foo', 'id', 'mod']);
      expect(tagNames(a2)).toEqual(tagNames(all));
      // filters see the merged rec
      expect(idsOf(await f.readAllList('curVal == 75'))).toEqual(['A']);
      expect(idsOf(await f.readAllList('baz and foo'))).toEqual(['A']);
      // no transient tags: empty dict
      await addRec(f, { id: ref('B'), dis: 'B' });
      const tb = await f.readByIdTransientTags('B');
      expect(tb).toBeDefined();
      expect(tagNames(tb)).toEqual([]);
    });

    it('case 56: persistent diffs keep transient tags; reopen keeps only persistent tags; transients never persist', async () => {
      const f = ctx.folio;
      const a0 = await addRec(f, { id: ref('A'), dis: 'A' });
      const a1 = (await commit(f, a0, { curVal: n(1), curStatus: 'ok' }, Diff.transient))!;
      const a2 = (await commit(f, a1, { foo: 'bar' }))!;
      expect(a2.get('curVal')?.equals(n(1))).toBe(true);
      expect((await reread(f, 'A')).get('curStatus')?.equals(s('ok'))).toBe(true);
      expect(tagNames(await f.readByIdPersistentTags('A'))).toEqual(['dis', 'foo', 'id', 'mod']);
      // another persistent commit, then reopen: the transient tags must not have been persisted
      await commit(f, await reread(f, 'A'), { more: m });
      const f2 = await ctx.reopen();
      const back = await reread(f2, 'A');
      expect(tagNames(back)).toEqual(['dis', 'foo', 'id', 'mod', 'more']);
      expect(tagNames(await f2.readByIdTransientTags('A'))).toEqual([]);
      expect(await f2.readCount('curVal')).toBe(0);
    });

    it('case 57: persistent and transient tag reads of a trash rec: undefined unchecked, UnknownRecError checked', async () => {
      const f = ctx.folio;
      const a = await addRec(f, { id: ref('A'), dis: 'A' });
      await commit(f, a, { trash: m });
      expect(await f.readByIdPersistentTags('A', false)).toBeUndefined();
      expect(await f.readByIdTransientTags('A', false)).toBeUndefined();
      let err = await catchErr(() => f.readByIdPersistentTags('A'));
      expect(err, describeErr(err)).toBeInstanceOf(UnknownRecError);
      err = await catchErr(() => f.readByIdTransientTags('A'));
      expect(err, describeErr(err)).toBeInstanceOf(UnknownRecError);
      // and for unknown ids
      expect(await f.readByIdPersistentTags('nope', false)).toBeUndefined();
      await expect(f.readByIdTransientTags('nope')).rejects.toThrow(UnknownRecError);
    });

    it('2.3: transient diffs keep mod (newMod = oldMod), do not bump curVer, and can remove transient tags', async () => {
      const f = ctx.folio;
      const a = await addRec(f, { id: ref('A'), dis: 'A' });
      const v = await curVer(f);
      const r1 = await f.commit(new Diff(a, { curVal: n(1), tagX: m }, Diff.transient));
      expect(r1.newMod?.equals(a.get<HDateTime>('mod')!)).toBe(true);
      expect(r1.newRec!.get<HDateTime>('mod')!.equals(a.get<HDateTime>('mod')!)).toBe(true);
      const r2 = await f.commit(new Diff(r1.newRec!, { tagX: none }, Diff.transient));
      expect(r2.newRec!.has('tagX')).toBe(false);
      expect(tagNames(await f.readByIdTransientTags('A'))).toEqual(['curVal']);
      expect(await curVer(f)).toBe(v);
    });

    it('2.3: transient diffs check mod: a stale transient diff is ConcurrentChangeError, force skips it', async () => {
      const f = ctx.folio;
      const a = await addRec(f, { id: ref('A'), dis: 'A' });
      await commit(f, a, { foo: 'bar' });
      const err = await expectFailsCleanly(
        f,
        () => f.commit(new Diff(a, { curVal: n(1) }, Diff.transient)),
        ConcurrentChangeError,
      );
      expect(err).toBeInstanceOf(CommitError);
      expect(tagNames(await f.readByIdTransientTags('A'))).toEqual([]);
      const forced = await f.commit(new Diff(a, { curVal: n(2) }, Diff.forceTransient));
      expect(forced.newRec!.get('curVal')?.equals(n(2))).toBe(true);
    });

    it('2.3: a transient diff on a persistent tag (or vice versa), including removal, is CommitError', async () => {
      const f = ctx.folio;
      const a0 = await addRec(f, { id: ref('A'), dis: 'A', foo: 'persist' });
      const a = (await commit(f, a0, { baz: m }, Diff.transient))!;
      const e1 = await expectFailsCleanly(f, () => f.commit(new Diff(a, { foo: 'x' }, Diff.transient)), CommitError);
      expect(e1.message).toContain('foo');
      expect(e1).not.toBeInstanceOf(ConcurrentChangeError);
      await expectFailsCleanly(f, () => f.commit(new Diff(a, { foo: none }, Diff.transient)), CommitError);
      const e2 = await expectFailsCleanly(f, () => f.commit(new Diff(a, { baz: 'p' })), CommitError);
      expect(e2.message).toContain('baz');
      await expectFailsCleanly(f, () => f.commit(new Diff(a, { baz: none })), CommitError);
      // a batch with one overlapping diff applies nothing
      const b = await addRec(f, { id: ref('B'), dis: 'B' });
      await expectFailsCleanly(
        f,
        () => f.commitAll([new Diff(b, { ok: m }, Diff.transient), new Diff(a, { foo: 'x' }, Diff.transient)]),
        CommitError,
      );
      expect(tagNames(await f.readByIdTransientTags('B'))).toEqual([]);
    });

    it('2.1: transient tag rules: persistentOnly tags transiently and transientOnly tags persistently are DiffError', async () => {
      const f = ctx.folio;
      const a = await addRec(f, { id: ref('A'), dis: 'A' });
      const e1 = catchSyncOrNull(() => new Diff(a, { dis: 'x' }, Diff.transient));
      expect(e1, 'transient dis').toBeInstanceOf(DiffError);
      expect(e1!.message).toContain('Cannot set tag transiently');
      const e2 = catchSyncOrNull(() => new Diff(a, { curVal: n(1) }));
      expect(e2, 'persistent curVal').toBeInstanceOf(DiffError);
      expect(e2!.message).toContain('Cannot set tag persistently');
      expect(tagNames(await f.readByIdTransientTags('A'))).toEqual([]);
    });
  });
}

function catchSyncOrNull(fn: () => unknown): Error | null {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  return null;
}
