// Conformance: idPrefix, Ref normalization and display names (spec 5.2 cases 76, 77; sections 2.5, 2.6; PrefixTest).
import { beforeEach, describe, expect, it } from 'vitest';
import { HDict, HList, HRef } from 'haystack-core';
import { Diff, ArgError, InvalidRecIdError, RedisFolio } from '../../src/index.js';
import { backends } from '../harness/backends.js';
import {
  addRec,
  catchErr,
  commit,
  describeErr,
  expectSameRec,
  freshFolio,
  idOf,
  idsOf,
  m,
  openFolio,
  ref,
  reread,
  snapshot,
  expectNothingWritten,
  useFolio,
} from '../harness/folio.js';

/** The display name a Ref carries, or undefined when it has none. */
function refDis(r: unknown): string | undefined {
  expect(r).toBeInstanceOf(HRef);
  return (r as HRef).toJSON().dis;
}

/** The dis of a rec as carried by its id Ref. */
async function disOf(f: RedisFolio, id: string): Promise<string | undefined> {
  return refDis((await reread(f, id)).get('id'));
}

for (const backend of backends()) {
  describe.skipIf(!backend.available)(`[${backend.name}] RedisFolio idPrefix and dis`, () => {
    const ctx = useFolio(backend);
    beforeEach(async () => {
      await freshFolio(ctx);
    });

    it('case 76: idPrefix u: absolutizes add ids, reads accept both forms, prefixed add ids are invalid, refs normalized', async () => {
      const f = await ctx.open({ idPrefix: 'u:' });
      expect(f.idPrefix).toBe('u:');
      const a = await addRec(f, { id: ref('a'), dis: 'Alpha' });
      expect(idOf(a)).toBe('u:a');
      const byRel = await f.readById(ref('a'));
      const byAbs = await f.readById(ref('u:a'));
      expectSameRec(byRel, a);
      expectSameRec(byAbs, a);
      expect(refDis(byAbs!.get('id'))).toBe('Alpha');
      expect(idOf((await f.readById('a'))!)).toBe('u:a');
      // add with an absolute (prefixed) id
      const before = await snapshot(f);
      const err = await catchErr(() => f.commit(Diff.makeAdd({ dis: 'C' }, ref('u:c'))));
      expect(err, describeErr(err)).toBeInstanceOf(InvalidRecIdError);
      const err2 = await catchErr(() => f.commit(Diff.makeAdd({ dis: 'C' }, ref('foo:c'))));
      expect(err2, describeErr(err2)).toBeInstanceOf(InvalidRecIdError);
      await expectNothingWritten(f, before);
      // refs: relative is absolutized, scheme and null refs kept
      const b = await addRec(f, {
        id: ref('b'),
        dis: 'B',
        aRelRef: ref('a'),
        aAbsRef: ref('u:a'),
        xRef: ref('x:foo'),
        nRef: ref('null'),
        missRef: ref('nope', 'Nope Dis'),
      });
      for (const r of [b, await reread(f, 'u:b')]) {
        expect((r.get('aRelRef') as HRef).value).toBe('u:a');
        expect((r.get('aAbsRef') as HRef).value).toBe('u:a');
        expect((r.get('xRef') as HRef).value).toBe('x:foo');
        expect((r.get('nRef') as HRef).value).toBe('null');
        expect((r.get('missRef') as HRef).value).toBe('u:nope');
        // a Ref to an existing rec carries its dis; to a missing rec it loses its dis
        expect(refDis(r.get('aRelRef'))).toBe('Alpha');
        expect(refDis(r.get('missRef'))).toBeUndefined();
      }
      // filters work with both forms
      expect(idsOf(await f.readAllList('aRelRef == @u:a'))).toEqual(['u:b']);
      expect(idsOf(await f.readAllList('aRelRef->dis == "Alpha"'))).toEqual(['u:b']);
      expect(idsOf(await f.readAllList('id == @u:a'))).toEqual(['u:a']);
    });

    it('PrefixTest: bad prefixes are ArgError', async () => {
      for (const idPrefix of ['u', 'a b:', 'bad prefix']) {
        const err = await catchErr(() => openFolio(ctx.url, { idPrefix }));
        expect(err, `${idPrefix}: ${describeErr(err)}`).toBeInstanceOf(ArgError);
      }
    });

    it('PrefixTest: relative ids in readByIdTrash, readByIds and fabricated {id, mod} commits', async () => {
      const f = await ctx.open({ idPrefix: 'u:' });
      const a = await addRec(f, { id: ref('a'), dis: 'A' });
      const fake = HDict.make({ id: ref('a'), mod: a.get('mod')! });
      const a1 = (await commit(f, fake, { viaRel: m }))!;
      expect(idOf(a1)).toBe('u:a');
      expect(a1.has('viaRel')).toBe(true);
      const ids = await f.readByIdsList([ref('a'), ref('u:a')]);
      expect(ids.map((r) => idOf(r!))).toEqual(['u:a', 'u:a']);
      await commit(f, a1, { trash: m });
      expect(idOf((await f.readByIdTrash(ref('a')))!)).toBe('u:a');
      expect(idOf((await f.readByIdTrash('u:a'))!)).toBe('u:a');
      expect(await f.readById('a', false)).toBeUndefined();
    });

    it('case 76 / PrefixTest: reopen with the same prefix keeps ids; a new prefix renames ids and refs, foreign refs kept', async () => {
      const f = await ctx.open({ idPrefix: 'u:' });
      await addRec(f, { id: ref('a'), dis: 'Alpha' });
      await addRec(f, {
        id: ref('b'),
        dis: 'B',
        aRef: ref('a'),
        refs: HList.make([ref('a'), ref('x:foo')]),
        nested: HDict.make({ inner: ref('a') }),
        xRef: ref('x:foo'),
      });
      const same = await ctx.reopen(f);
      expect(idOf(await reread(same, 'u:a'))).toBe('u:a');
      expect(((await reread(same, 'b')).get('aRef') as HRef).value).toBe('u:a');
      const renamed = await ctx.reopen(same, { idPrefix: 'xyz:' });
      expect(renamed.idPrefix).toBe('xyz:');
      const a = await reread(renamed, 'xyz:a');
      expect(idOf(a)).toBe('xyz:a');
      expect(refDis(a.get('id'))).toBe('Alpha');
      expect(idOf(await reread(renamed, 'a'))).toBe('xyz:a');
      expect(await renamed.readById('u:a', false)).toBeUndefined();
      const b = await reread(renamed, 'b');
      expect(idOf(b)).toBe('xyz:b');
      expect((b.get('aRef') as HRef).value).toBe('xyz:a');
      expect((b.get('xRef') as HRef).value).toBe('x:foo');
      const refs = [...(b.get('refs') as HList<HRef>)].map((r) => r.value);
      expect(refs).toEqual(['xyz:a', 'x:foo']);
      expect(((b.get('nested') as HDict).get('inner') as HRef).value).toBe('xyz:a');
      expect(idsOf(await renamed.readAllList('aRef->dis == "Alpha"'))).toEqual(['xyz:b']);
      // a foreign-prefix ref written under xyz: (u:y) is kept as-is over a reopen
      await commit(renamed, b, { foreign: ref('u:y') });
      const again = await ctx.reopen(renamed);
      expect(((await reread(again, 'b')).get('foreign') as HRef).value).toBe('u:y');
    });

    it('2.5: refs are normalized deep in lists and dicts; refs to recs added in the same batch are kept', async () => {
      const f = ctx.folio;
      await addRec(f, { id: ref('t'), dis: 'Target' });
      const res = await f.commitAll([
        Diff.makeAdd({ dis: 'One', peer: ref('two') }, ref('one')),
        Diff.makeAdd({ dis: 'Two', list: HList.make([ref('t', 'stale'), ref('ghost', 'Ghost')]), d: HDict.make({ r: ref('t') }) }, ref('two')),
      ]);
      const one = await reread(f, 'one');
      expect((one.get('peer') as HRef).value).toBe('two');
      expect(refDis(one.get('peer'))).toBe('Two');
      const two = await reread(f, 'two');
      const list = [...(two.get('list') as HList<HRef>)];
      expect(list.map((r) => r.value)).toEqual(['t', 'ghost']);
      expect(refDis(list[0])).toBe('Target');
      expect(refDis(list[1])).toBeUndefined();
      expect(refDis((two.get('d') as HDict).get('r'))).toBe('Target');
      expect(res.length).toBe(2);
    });

    it('case 77: disMacro chains, ripple on update, self reference, removed target, reopen', async () => {
      const f = ctx.folio;
      const A = await addRec(f, { id: ref('dA'), dis: 'A-0' });
      await addRec(f, { id: ref('dB'), disMacro: '$aRef $navName', aRef: ref('dA'), navName: 'B-0' });
      await addRec(f, { id: ref('dC'), disMacro: '$bRef $navName', bRef: ref('dB'), navName: 'C-0' });
      await f.sync();
      expect(await disOf(f, 'dB')).toBe('A-0 B-0');
      expect(await disOf(f, 'dC')).toBe('A-0 B-0 C-0');
      expect(refDis((await reread(f, 'dC')).get('bRef'))).toBe('A-0 B-0');
      // ripple
      await commit(f, A, { dis: 'A-1' });
      await f.sync();
      expect(await disOf(f, 'dA')).toBe('A-1');
      expect(await disOf(f, 'dB')).toBe('A-1 B-0');
      expect(await disOf(f, 'dC')).toBe('A-1 B-0 C-0');
      expect(refDis((await reread(f, 'dB')).get('aRef'))).toBe('A-1');
      // survives reopen
      const f2 = await ctx.reopen();
      await f2.sync();
      expect(await disOf(f2, 'dC')).toBe('A-1 B-0 C-0');
      // self reference
      await commit(f2, await reread(f2, 'dB'), { aRef: ref('dB'), navName: 'NN' });
      await f2.sync();
      expect(await disOf(f2, 'dB')).toBe('dB NN');
      // removing B: C shows B's id
      await commit(f2, await reread(f2, 'dC'), { navName: 'C-2' });
      await commit(f2, await reread(f2, 'dB'), null, Diff.remove);
      await f2.sync();
      expect(await disOf(f2, 'dC')).toBe('dB C-2');
    });
  });
}
