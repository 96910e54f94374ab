// Conformance: tag removal, reserved tags, Diff validation, ids, tag names and values, round trips and
// malformed filters (spec 5.2 cases 31-44; sections 2.1, 2.2; 1.11 ParseError).
import { beforeEach, describe, expect, it } from 'vitest';
import {
  HBool,
  HCoord,
  HDate,
  HDateTime,
  HDict,
  HGrid,
  HList,
  HNa,
  HRef,
  HSymbol,
  HTime,
  HUri,
  HXStr,
  type HVal,
} from 'haystack-core';
import {
  Diff,
  DiffError,
  InvalidRecIdError,
  InvalidTagNameError,
  InvalidTagValError,
  ParseError,
  RedisFolio,
} from '../../src/index.js';
import { startEngine } from '../../src/engine/index.js';
import { backends } from '../harness/backends.js';
import {
  addRec,
  catchErr,
  commit,
  describeErr,
  expectFailsCleanly,
  expectNothingWritten,
  freshFolio,
  idOf,
  m,
  n,
  none,
  ref,
  reread,
  s,
  snapshot,
  tagNames,
  useFolio,
} from '../harness/folio.js';

type ErrClass = abstract new (...args: never[]) => Error;

/**
 * A diff that must be rejected: the spec (1.4, 2.1) validates in the Diff constructor, so `build` must
 * throw `errClass` synchronously. When it does not, the diff is committed to show what happens, and the
 * test fails either way; nothing may be written.
 */
async function expectRejectedDiff(
  folio: RedisFolio,
  label: string,
  build: () => Diff,
  errClass: ErrClass,
  message?: string | RegExp,
): Promise<void> {
  const before = await snapshot(folio);
  let diff: Diff | undefined;
  let err: unknown;
  try {
    diff = build();
  } catch (e) {
    err = e;
  }
  if (diff) {
    const commitErr = await catchErr(() => folio.commit(diff!)).catch((e: Error) => e);
    await expectNothingWritten(folio, before);
    expect.fail(
      `${label}: Diff construction must throw ${errClass.name}; it did not, and commit gave ${describeErr(commitErr)}`,
    );
  }
  expect(err, `${label}: ${describeErr(err)}`).toBeInstanceOf(errClass);
  if (message !== undefined) {
    if (typeof message === 'string') expect((err as Error).message, label).toContain(message);
    else expect((err as Error).message, label).toMatch(message);
  }
  await expectNothingWritten(folio, before);
}

for (const backend of backends()) {
  describe.skipIf(!backend.available)(`[${backend.name}] RedisFolio bad input and tag rules`, () => {
    const ctx = useFolio(backend);
    beforeEach(async () => {
      await freshFolio(ctx);
    });

    it('case 31: None on add is dropped', async () => {
      const f = ctx.folio;
      const r = await addRec(f, { foo: 'f', bar: 'b', baz: none });
      expect(tagNames(r)).toEqual(['bar', 'foo', 'id', 'mod']);
      expect(tagNames(await reread(f, idOf(r)))).toEqual(['bar', 'foo', 'id', 'mod']);
    });

    it('case 32: None on update removes the tag; removing an absent tag is a no-op', async () => {
      const f = ctx.folio;
      const a = await addRec(f, { foo: 'f' });
      const r = (await commit(f, a, { foo: none, bar: 'b', baz: none }))!;
      expect(tagNames(r)).toEqual(['bar', 'id', 'mod']);
      expect(tagNames(await reread(f, idOf(a)))).toEqual(['bar', 'id', 'mod']);
      const f2 = await ctx.reopen();
      expect(tagNames(await reread(f2, idOf(a)))).toEqual(['bar', 'id', 'mod']);
    });

    it('case 33: removing id or mod is DiffError at construction', async () => {
      const f = ctx.folio;
      const a = await addRec(f, { dis: 'a' });
      await expectRejectedDiff(f, 'id:None', () => new Diff(a, { id: none }), DiffError);
      await expectRejectedDiff(f, 'mod:None', () => new Diff(a, { mod: none }), DiffError);
    });

    it('case 34: never tags (id, mod, transient, hisSize, ...) are DiffError, with or without transient', async () => {
      const f = ctx.folio;
      const a = await addRec(f, { dis: 'a' });
      const vals: Record<string, HVal> = {
        id: ref('other'),
        mod: HDateTime.make(new Date()),
        transient: m,
        hisSize: n(3),
        hisId: ref('h'),
        hisStart: HDateTime.make(new Date()),
        hisEndVal: n(1),
      };
      for (const [tag, val] of Object.entries(vals)) {
        for (const flags of [0, Diff.transient]) {
          await expectRejectedDiff(f, `${tag} flags=${flags}`, () => new Diff(a, { [tag]: val }, flags), DiffError);
        }
      }
      await expectRejectedDiff(f, 'hisSize msg', () => new Diff(a, { hisSize: n(3) }), DiffError, 'Cannot set tag: "hisSize"');
      await expectRejectedDiff(f, 'hisSize None', () => new Diff(a, { hisSize: none }), DiffError);
      await expectRejectedDiff(f, 'transient on add', () => Diff.makeAdd({ transient: m }), DiffError);
    });

    it('case 35: transientOnly tags persistently, persistentOnly tags transiently, Bin transiently are DiffError', async () => {
      const f = ctx.folio;
      const a = await addRec(f, { dis: 'a' });
      for (const [tag, val] of [
        ['curVal', n(3)],
        ['writeLevel', n(8)],
        ['hisStatus', s('ok')],
        ['connStatus', s('ok')],
        ['curStatus', s('ok')],
      ] as [string, HVal][]) {
        await expectRejectedDiff(f, `persistent ${tag}`, () => new Diff(a, { [tag]: val }), DiffError, 'Cannot set tag persistently');
      }
      await expectRejectedDiff(f, 'add curVal', () => Diff.makeAdd({ curVal: n(1) }), DiffError);
      for (const [tag, val] of [
        ['site', m],
        ['dis', s('x')],
        ['trash', m],
        ['point', m],
        ['navName', s('n')],
        ['disMacro', s('$x')],
      ] as [string, HVal][]) {
        await expectRejectedDiff(
          f,
          `transient ${tag}`,
          () => new Diff(a, { [tag]: val }, Diff.transient),
          DiffError,
          'Cannot set tag transiently',
        );
      }
      // Bin (Haystack 3 encodes it as an XStr of type Bin)
      await expectRejectedDiff(
        f,
        'transient Bin',
        () => new Diff(a, { blob: HXStr.make('Bin', 'text/plain') }, Diff.transient),
        DiffError,
        'Bin tag cannot be transient',
      );
    });

    it('case 36: restricted tags need bypassRestricted', async () => {
      const f = ctx.folio;
      const a = await addRec(f, { dis: 'a' });
      await expectRejectedDiff(f, 'add projMeta', () => Diff.makeAdd({ projMeta: m }), DiffError, 'Cannot add rec with restricted tag');
      await expectRejectedDiff(f, 'set ext', () => new Diff(a, { ext: 'x' }), DiffError, 'Cannot set restricted tag');
      await expectRejectedDiff(f, 'remove ext', () => new Diff(a, { ext: none }), DiffError, 'Cannot remove restricted tag');
      await expectRejectedDiff(f, 'set uiMeta', () => new Diff(a, { uiMeta: m }), DiffError);
      await expectRejectedDiff(f, 'set fileSize', () => new Diff(a, { fileSize: n(1, 'byte') }), DiffError);
      const added = (await f.commit(new Diff(null, { projMeta: m }, Diff.add | Diff.bypassRestricted))).newRec!;
      expect(added.has('projMeta')).toBe(true);
      const upd = (await commit(f, a, { ext: 'x' }, Diff.bypassRestricted))!;
      expect(upd.get('ext')?.equals(s('x'))).toBe(true);
      const rem = (await commit(f, upd, { ext: none }, Diff.bypassRestricted))!;
      expect(rem.has('ext')).toBe(false);
    });

    it('case 37: constructor argument rules for add/oldRec/id', async () => {
      const f = ctx.folio;
      const a = await addRec(f, { dis: 'a' });
      await expectRejectedDiff(f, 'null oldRec no add', () => new Diff(null, { dis: 'x' }), DiffError, "Must pass 'add' flag if oldRec is null");
      await expectRejectedDiff(f, 'add with id', () => new Diff(null, { id: ref('x') }, Diff.add), DiffError, "Cannot specify 'id' tag if using 'add' flag");
      await expectRejectedDiff(f, 'oldRec with add', () => new Diff(a, { x: m }, Diff.add), DiffError, "Cannot pass oldRec if using 'add' flag");
      await expectRejectedDiff(f, 'makeAdd id', () => Diff.makeAdd({ id: ref('x') }), DiffError, "makeAdd cannot specify 'id' tag");
    });

    it('case 38: transient with add or remove is DiffError', async () => {
      const f = ctx.folio;
      const a = await addRec(f, { dis: 'a' });
      await expectRejectedDiff(
        f,
        'add|transient',
        () => new Diff(null, { foo: 'bar' }, Diff.add | Diff.transient),
        DiffError,
        'Invalid diff flags: transient + add|remove',
      );
      await expectRejectedDiff(f, 'remove|transient', () => new Diff(a, null, Diff.remove | Diff.transient), DiffError);
    });

    it('case 39: commitAll: empty, duplicate ids and mixed transient/persistent are DiffError', async () => {
      const f = ctx.folio;
      const a = await addRec(f, { dis: 'a' });
      const b = await addRec(f, { dis: 'b' });
      await expectFailsCleanly(f, () => f.commitAll([]), DiffError);
      await expectFailsCleanly(f, () => f.commitAll([new Diff(a, { x: m }), new Diff(a, { y: m })]), DiffError);
      await expectFailsCleanly(
        f,
        () => f.commitAll([Diff.makeAdd({ dis: 'd' }, 'dupid'), Diff.makeAdd({ dis: 'e' }, 'dupid')]),
        DiffError,
      );
      await expectFailsCleanly(
        f,
        () => f.commitAll([new Diff(a, { x: m }), new Diff(b, { curVal: n(1) }, Diff.transient)]),
        DiffError,
      );
    });

    it('case 40: computed flags point, curVal, treeUpdate', async () => {
      const f = ctx.folio;
      const rec = await addRec(f, { dis: 'a' });
      expect(new Diff(rec, { point: m }).flags).toBe(Diff.point);
      expect(Diff.makeAdd({ point: m }).flags).toBe(Diff.add | Diff.point | Diff.treeUpdate);
      expect(new Diff(rec, { curVal: n(1) }, Diff.transient).flags).toBe(Diff.transient | Diff.curVal);
      expect(new Diff(rec, { curStatus: s('ok') }, Diff.transient).flags).toBe(Diff.transient | Diff.curVal);
      expect(new Diff(rec, { siteRef: ref('x') }).flags).toBe(Diff.treeUpdate);
      expect(new Diff(rec, { siteRef: none }).flags).toBe(0);
      expect(new Diff(rec, { refs: HList.make([ref('x')]) }).flags).toBe(0);
      expect(new Diff(rec, { trash: m }).flags).toBe(Diff.treeUpdate);
      expect(new Diff(rec, { trash: none }).flags).toBe(Diff.treeUpdate);
      expect(new Diff(rec, null, Diff.remove).flags).toBe(Diff.remove | Diff.treeUpdate);
      expect(Diff.makeAdd({ dis: 'x' }).flags).toBe(Diff.add | Diff.treeUpdate);
      const d = new Diff(rec, { point: m });
      expect(d.isUpdate).toBe(true);
      expect(Diff.makeAdd({ point: m }).isAddPoint).toBe(true);
      expect(new Diff(rec, { curVal: n(1) }, Diff.transient).isCurVal).toBe(true);
    });

    it('case 41: add ids: length 60 ok, 61 InvalidRecIdError, Niagara style, colon, invalid chars', async () => {
      const f = ctx.folio;
      const id60 = 'a'.repeat(60);
      const ok = await addRec(f, { id: ref(id60), dis: 'long' });
      expect(idOf(ok)).toBe(id60);
      await expectRejectedDiff(f, '61 chars', () => Diff.makeAdd({ dis: 'x' }, ref('a'.repeat(61))), InvalidRecIdError, 'Id too long');
      await expectRejectedDiff(f, 'Niagara', () => Diff.makeAdd({ dis: 'x' }, ref('S.site')), InvalidRecIdError, 'Niagara');
      await expectRejectedDiff(f, 'colon', () => Diff.makeAdd({ dis: 'x' }, ref('foo:bar')), InvalidRecIdError, 'colon');
      await expectRejectedDiff(f, 'colon (string id)', () => Diff.makeAdd({ dis: 'x' }, 'foo:bar'), InvalidRecIdError);
      for (const bad of ['x y', '', 'caf\u00e9', 'a/b', 'a@b']) {
        const before = await snapshot(f);
        const err = await catchErr(() => f.commit(Diff.makeAdd({ dis: 'x' }, ref(bad))));
        expect(
          err instanceof ParseError || err instanceof InvalidRecIdError,
          `id ${JSON.stringify(bad)}: ${describeErr(err)}`,
        ).toBe(true);
        await expectNothingWritten(f, before);
      }
      // lower-case second-char-dot ids are fine
      expect(idOf(await addRec(f, { id: ref('s.site'), dis: 'x' }))).toBe('s.site');
    });

    it('case 42: tag names', async () => {
      const f = ctx.folio;
      const a = await addRec(f, { dis: 'a' });
      for (const name of ['', 'a b', 'caf\u00e9', '\u00e9t\u00e9', '!bad', 'Upper', '1abc', '_', 'a-b', 'x'.repeat(61)]) {
        await expectRejectedDiff(f, `name ${JSON.stringify(name)}`, () => new Diff(a, { [name]: m }), InvalidTagNameError);
        await expectRejectedDiff(f, `add name ${JSON.stringify(name)}`, () => Diff.makeAdd({ [name]: m }), InvalidTagNameError);
      }
      const name60 = 'x'.repeat(60);
      const ok = (await commit(f, a, { [name60]: m, _under: m, aB_9: m }))!;
      expect(ok.has(name60)).toBe(true);
      expect((await reread(f, idOf(a))).has('_under')).toBe(true);
    });

    it('case 43: tag values: null, NA, non-Haystack values, nested NA, Str and Uri limits, name', async () => {
      const f = ctx.folio;
      const a = await addRec(f, { dis: 'a' });
      const bad: [string, unknown][] = [
        ['null', null],
        ['undefined', undefined],
        ['NA', HNa.make()],
        ['JS Date', new Date()],
        ['function', () => 1],
        ['Symbol', Symbol('s')],
        ['Map', new Map([['a', 1]])],
        ['bigint', BigInt(5)],
        ['list with NA', HList.make([n(1), HNa.make()] as HVal[])],
        ['dict with NA', HDict.make({ x: HNa.make() })],
        ['Str 32768', s('x'.repeat(32768))],
        ['Uri 1001', HUri.make('http://x/' + 'a'.repeat(1001 - 9))],
      ];
      for (const [label, val] of bad) {
        await expectRejectedDiff(f, `update ${label}`, () => new Diff(a, { foo: val }), InvalidTagValError);
        await expectRejectedDiff(f, `add ${label}`, () => Diff.makeAdd({ foo: val }), InvalidTagValError);
      }
      // null inside an HDict changes
      await expectRejectedDiff(f, 'HDict null', () => new Diff(a, HDict.make({ foo: null })), InvalidTagValError);
      // name must be a valid Ref id Str
      await expectRejectedDiff(f, 'name bad tag', () => new Diff(a, { name: 'bad tag' }), InvalidTagValError);
      await expectRejectedDiff(f, 'name uri', () => new Diff(a, { name: HUri.make('foo') }), InvalidTagValError);
      // the limits themselves are fine
      const uri1000 = HUri.make('http://x/' + 'a'.repeat(1000 - 9));
      expect(uri1000.value.length).toBe(1000);
      const ok = (await commit(f, a, { str: s('y'.repeat(32767)), uri: uri1000, name: 'good_name' }))!;
      const back = await reread(f, idOf(ok));
      expect((back.get('str') as unknown as { value: string }).value.length).toBe(32767);
      expect(back.get('uri')?.equals(uri1000)).toBe(true);
      expect(back.get('name')?.equals(s('good_name'))).toBe(true);
    });

    it('case 44: every storable kind round-trips on add, update and reopen', async () => {
      const f = ctx.folio;
      const grid = HGrid.make({ rows: [HDict.make({ a: n(1), b: s('x') }), HDict.make({ a: n(2) })] });
      const vals: Record<string, HVal> = {
        marker: m,
        boolT: HBool.make(true),
        boolF: HBool.make(false),
        num: n(123, 'ft'),
        numNeg: n(-1.5),
        numZero: n(0),
        numBig: n(123456789012),
        str: s('hello \u00e9\u4e16 "quoted"\n'),
        refv: ref('someTarget'),
        uri: HUri.make('http://example.com/a?b=c'),
        date: HDate.make('2021-03-04'),
        time: HTime.make('12:34:56'),
        dateTime: HDateTime.make('2021-03-04T05:06:07-05:00 New_York'),
        dateTimeUtc: HDateTime.make('2021-03-04T05:06:07Z UTC'),
        list: HList.make([n(1), s('foo')] as HVal[]),
        nested: HDict.make({ inner: HDict.make({ deep: n(3) }), m }),
        grid,
        symbol: HSymbol.make('equip'),
        coord: HCoord.make({ latitude: 37.55, longitude: -77.45 }),
        xstr: HXStr.make('Span', 'today'),
        xstrList: HList.make([HXStr.make('Span', 'today'), HXStr.make('Span', 'yesterday')] as HVal[]),
        emptyList: HList.make([] as HVal[]),
        emptyDict: HDict.make({}),
      };
      const check = (rec: HDict, label: string) => {
        for (const [k, v] of Object.entries(vals)) {
          const got = rec.get(k);
          expect(got, `${label} ${k}`).toBeDefined();
          expect(got!.equals(v), `${label} ${k}: ${got?.toZinc()} != ${v.toZinc()}`).toBe(true);
        }
      };
      const added = await addRec(f, { id: ref('kinds'), ...vals });
      check(added, 'add result');
      check(await reread(f, 'kinds'), 'add read');
      const plain = await addRec(f, { id: ref('plain'), dis: 'p' });
      const upd = (await commit(f, plain, vals))!;
      check(upd, 'update result');
      check(await reread(f, 'plain'), 'update read');
      const f2 = await ctx.reopen();
      check(await reread(f2, 'kinds'), 'reopen add');
      check(await reread(f2, 'plain'), 'reopen update');
    });

    it('plain-object changes: JS primitives become Str, Number and Bool', async () => {
      const f = ctx.folio;
      const r = await addRec(f, { str: 'text', num: 42, flag: true, neg: -3.25 });
      const back = await reread(f, idOf(r));
      expect(back.get('str')?.equals(s('text'))).toBe(true);
      expect(back.get('num')?.equals(n(42))).toBe(true);
      expect(back.get('flag')?.equals(HBool.make(true))).toBe(true);
      expect(back.get('neg')?.equals(n(-3.25))).toBe(true);
    });

    it('malformed filters reject with ParseError naming the filter, for every read API', async () => {
      const f = ctx.folio;
      await addRec(f, { dis: 'a', x: m });
      const calls: [string, (flt: string) => Promise<unknown>][] = [
        ['readAll', (flt) => f.readAll(flt)],
        ['readAllList', (flt) => f.readAllList(flt)],
        ['readCount', (flt) => f.readCount(flt)],
        ['read', (flt) => f.read(flt)],
        ['read unchecked', (flt) => f.read(flt, false)],
        ['readTrash', (flt) => f.readTrash(flt)],
        ['readAllEachWhile', (flt) => f.readAllEachWhile(flt, {}, () => undefined)],
      ];
      for (const flt of ['a ==', '(', 'x and', 'x or (y', '== 3', 'a == @', 'a >']) {
        for (const [name, call] of calls) {
          const err = await catchErr(() => call(flt));
          expect(err, `${name}(${JSON.stringify(flt)}): ${describeErr(err)}`).toBeInstanceOf(ParseError);
          expect(err.message, `${name}(${JSON.stringify(flt)})`).toContain(flt);
        }
      }
      // a view with a context parses the same way
      const view = f.withContext({ canRead: () => true, canWrite: () => true });
      await expect(view.readAll('a ==')).rejects.toThrow(ParseError);
    });

    it('4 search: an f: search with a malformed filter is not a filter error (Haxall falls back to a glob)', async () => {
      const f = ctx.folio;
      await addRec(f, { dis: 'a', x: m });
      // the spec does not make a bad search pattern an error; it must not break the read
      expect((await f.readAll('x', { search: 'f:a ==' })).getRows().length).toBe(0);
      expect((await f.readAll('x', { search: 're:(' })).getRows().length).toBe(0);
    });

    it('non-Haystack and missing Diff arguments are rejected and write nothing', async () => {
      const f = ctx.folio;
      const a = await addRec(f, { id: ref('a'), dis: 'a' });
      // commit of something that is not a Diff
      const before = await snapshot(f);
      const e1 = await catchErr(() => f.commit({ id: ref('a') } as unknown as Diff));
      expect(e1).toBeInstanceOf(Error);
      const e2 = await catchErr(() => f.commitAll([undefined as unknown as Diff]));
      expect(e2).toBeInstanceOf(Error);
      await expectNothingWritten(f, before);
      // an oldRec without mod
      await expectRejectedDiff(f, 'oldRec without mod', () => new Diff(HDict.make({ id: ref('a') }), { x: m }), Error);
      // an oldRec without id
      await expectRejectedDiff(f, 'oldRec without id', () => new Diff(HDict.make({ dis: s('x') }), { x: m }), Error);
      expect((a.get('id') as HRef).value).toBe('a');
    });
  });
}

describe('commitAll arguments', () => {
  it('rejects a non-array and non-Diff elements with a DiffError, nothing written', async () => {
    const engine = await startEngine({});
    const folio = await RedisFolio.open({ url: engine.url, name: 'args' });
    try {
      await expect(folio.commitAll({} as never)).rejects.toThrow(DiffError);
      await expect(folio.commitAll([{ id: 'x' }] as never)).rejects.toThrow('commitAll takes Diff instances');
      await expect(folio.commitAll([Diff.makeAdd({ dis: 'ok' }), null] as never)).rejects.toThrow(DiffError);
      expect(await folio.readCount('dis')).toBe(0);
      expect(await folio.curVer()).toBe(0);
    } finally {
      await folio.close();
      await engine.stop();
    }
  });
});
