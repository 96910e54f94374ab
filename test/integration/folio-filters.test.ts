// Conformance: filters (spec 5.2 cases 21-30; section 4 matching rules; 2.7 paths through trash).
import { beforeEach, describe, expect, it } from 'vitest';
import { HDate, HDateTime, HDict, HList } from 'haystack-core';
import { backends } from '../harness/backends.js';
import type { RedisFolio } from '../../src/index.js';
import { addRec, commit, freshFolio, idsOf, m, n, ref, reread, s, useFolio } from '../harness/folio.js';

for (const backend of backends()) {
  describe.skipIf(!backend.available)(`[${backend.name}] RedisFolio filters`, () => {
    const ctx = useFolio(backend);
    beforeEach(async () => {
      await freshFolio(ctx);
    });

    /** Asserts readAllList, readAll and readCount agree on the ids matching `filter`. */
    async function expectMatch(f: RedisFolio, filter: string, ids: string[]): Promise<void> {
      const expected = [...ids].sort();
      expect(idsOf(await f.readAllList(filter)), `readAllList(${filter})`).toEqual(expected);
      expect(idsOf((await f.readAll(filter)).getRows()), `readAll(${filter})`).toEqual(expected);
      expect(await f.readCount(filter), `readCount(${filter})`).toBe(expected.length);
      const first = await f.read(filter, false);
      if (expected.length === 0) expect(first, `read(${filter})`).toBeUndefined();
      else expect(expected, `read(${filter})`).toContain(idsOf([first])[0]);
    }

    // a{num:10}, b{num:20, ref:@a}, c{num:30, ref:@a}, d{num:40, ref:[@a]}, e{num:50, ref:[@a,@b]},
    // f{refx:[@d]}, g{refx:[@e]}; all have dis
    async function refData(f: RedisFolio): Promise<void> {
      await addRec(f, { id: ref('a'), dis: 'a', num: n(10) });
      await addRec(f, { id: ref('b'), dis: 'b', num: n(20), ref: ref('a') });
      await addRec(f, { id: ref('c'), dis: 'c', num: n(30), ref: ref('a') });
      await addRec(f, { id: ref('d'), dis: 'd', num: n(40), ref: HList.make([ref('a')]) });
      await addRec(f, { id: ref('e'), dis: 'e', num: n(50), ref: HList.make([ref('a'), ref('b')]) });
      await addRec(f, { id: ref('f'), dis: 'f', refx: HList.make([ref('d')]) });
      await addRec(f, { id: ref('g'), dis: 'g', refx: HList.make([ref('e')]) });
    }

    it('case 21: has and missing: dis, ref, not ref', async () => {
      const f = ctx.folio;
      await refData(f);
      await expectMatch(f, 'dis', ['a', 'b', 'c', 'd', 'e', 'f', 'g']);
      await expectMatch(f, 'ref', ['b', 'c', 'd', 'e']);
      await expectMatch(f, 'not ref', ['a', 'f', 'g']);
    });

    it('case 22: number comparisons', async () => {
      const f = ctx.folio;
      await refData(f);
      await expectMatch(f, 'num == 20', ['b']);
      await expectMatch(f, 'num < 30', ['a', 'b']);
      await expectMatch(f, 'num >= 30', ['c', 'd', 'e']);
      await expectMatch(f, 'num <= 10', ['a']);
      await expectMatch(f, 'num > 40', ['e']);
    });

    it('case 23: ref equality, list membership counts', async () => {
      const f = ctx.folio;
      await refData(f);
      await expectMatch(f, 'ref == @bad', []);
      await expectMatch(f, 'ref == @a', ['b', 'c', 'd', 'e']);
      await expectMatch(f, 'ref == @b', ['e']);
    });

    it('case 24: one-hop paths through Refs and lists of Refs', async () => {
      const f = ctx.folio;
      await refData(f);
      await expectMatch(f, 'ref->num', ['b', 'c', 'd', 'e']);
      await expectMatch(f, 'ref->num == 10', ['b', 'c', 'd', 'e']);
      await expectMatch(f, 'ref->num == 20', ['e']);
    });

    it('case 25: two-hop paths through lists of Refs', async () => {
      const f = ctx.folio;
      await refData(f);
      await expectMatch(f, 'refx->ref->num == 10', ['f', 'g']);
      await expectMatch(f, 'refx->ref->num == 20', ['g']);
      await expectMatch(f, 'refx->ref->num == 30', []);
    });

    // A{num:4, bar}, B{num:5, fooRef:@A}, C{fooRef:@B, baz}, D{fooRef:@missing, bar}, E{num:4kW},
    // G{fooRef:@H}, H{noDis} (H has no dis)
    async function fooData(f: RedisFolio): Promise<void> {
      await addRec(f, { id: ref('A'), dis: 'A', num: n(4), bar: m });
      await addRec(f, { id: ref('B'), dis: 'B', num: n(5), fooRef: ref('A') });
      await addRec(f, { id: ref('C'), dis: 'C', fooRef: ref('B'), baz: m });
      await addRec(f, { id: ref('D'), dis: 'D', fooRef: ref('missing'), bar: m });
      await addRec(f, { id: ref('E'), dis: 'E', num: n(4, 'kW') });
      await addRec(f, { id: ref('H'), noDis: m });
      await addRec(f, { id: ref('G'), dis: 'G', fooRef: ref('H') });
    }

    it('case 27: != needs the tag present; not path->dis matches missing links and targets without dis', async () => {
      const f = ctx.folio;
      await fooData(f);
      await expectMatch(f, 'num != 4', ['B', 'E']);
      await expectMatch(f, 'not fooRef->dis', ['A', 'D', 'E', 'G', 'H']);
    });

    it('case 28: paths to a tag of the target, to a missing tag, and == on the target dis', async () => {
      const f = ctx.folio;
      await fooData(f);
      await expectMatch(f, 'fooRef->fooRef', ['C']);
      await expectMatch(f, 'fooRef->badone', []);
      await expectMatch(f, 'fooRef->dis == "B"', ['C']);
      await expectMatch(f, 'fooRef->num == 4', ['B']);
    });

    it('case 29: boolean logic and ^sym without defs', async () => {
      const f = ctx.folio;
      await fooData(f);
      await expectMatch(f, '(fooRef and bar) or baz', ['C', 'D']);
      await expectMatch(f, 'fooRef and (bar or baz)', ['C', 'D']);
      await expectMatch(f, 'not fooRef and bar', ['A']);
      await expectMatch(f, '^num-bar', ['A']);
    });

    it('case 30: id== combined with failing terms, and id== with a Uri, return nothing without error', async () => {
      const f = ctx.folio;
      await addRec(f, { id: ref('b'), dis: 'b', num: n(2) });
      await addRec(f, { id: ref('other'), dis: 'o', num: n(2), x: m, y: m });
      await expectMatch(f, 'id == @b and num != 2', []);
      await expectMatch(f, 'x and id == @b and y', []);
      await expectMatch(f, 'id == `uri-not-id`', []);
      await expectMatch(f, 'id == @b', ['b']);
      await expectMatch(f, 'id == @b and num == 2', ['b']);
      await expectMatch(f, 'id == @nope', []);
    });

    it('4: Number equality needs the same unit; ordering needs the same type and unit', async () => {
      const f = ctx.folio;
      await addRec(f, { id: ref('p'), dis: 'p', num: n(20) });
      await addRec(f, { id: ref('k'), dis: 'k', num: n(20, 'kW') });
      await addRec(f, { id: ref('t'), dis: 't', num: s('20') });
      await expectMatch(f, 'num == 20', ['p']);
      await expectMatch(f, 'num == 20kW', ['k']);
      await expectMatch(f, 'num != 20', ['k', 't']);
      await expectMatch(f, 'num > 10', ['p']);
      await expectMatch(f, 'num > 10kW', ['k']);
      await expectMatch(f, 'num > `foo`', []);
      await expectMatch(f, 'num == "20"', ['t']);
    });

    it('4: Str, Date, DateTime, Bool comparisons and DateTime/Dict paths', async () => {
      const f = ctx.folio;
      const ts = HDateTime.make('2021-01-02T03:04:05Z UTC');
      await addRec(f, {
        id: ref('x1'),
        dis: 'Apple',
        day: HDate.make('2020-05-01'),
        ts,
        flag: true,
        meta: HDict.make({ inner: n(5) }),
      });
      await addRec(f, { id: ref('x2'), dis: 'Banana', day: HDate.make('2021-06-01'), flag: false });
      await expectMatch(f, 'dis < "B"', ['x1']);
      await expectMatch(f, 'dis >= "Banana"', ['x2']);
      await expectMatch(f, 'day > 2021-01-01', ['x2']);
      await expectMatch(f, 'day <= 2020-05-01', ['x1']);
      await expectMatch(f, 'ts > 2021-01-01T00:00:00Z UTC', ['x1']);
      await expectMatch(f, 'flag == true', ['x1']);
      await expectMatch(f, 'flag == false', ['x2']);
      await expectMatch(f, 'meta->inner == 5', ['x1']);
      await expectMatch(f, 'ts->date == 2021-01-02', ['x1']);
      await expectMatch(f, 'ts->tz == "UTC"', ['x1']);
    });

    it('4: Ref equality ignores dis; reads see filter updates after commits', async () => {
      const f = ctx.folio;
      await addRec(f, { id: ref('site'), dis: 'Site One' });
      const p = await addRec(f, { id: ref('p1'), dis: 'P1', siteRef: ref('site', 'Wrong Dis') });
      await expectMatch(f, 'siteRef == @site', ['p1']);
      await commit(f, p, { siteRef: ref('other') });
      await expectMatch(f, 'siteRef == @site', []);
      await expectMatch(f, 'siteRef == @other', ['p1']);
      const p2 = await reread(f, 'p1');
      await commit(f, p2, { num: n(1) });
      await expectMatch(f, 'num', ['p1']);
    });

    it('2.7: filter paths dereference Refs to trash recs, but trash recs never match themselves', async () => {
      const f = ctx.folio;
      const t = await addRec(f, { id: ref('t'), dis: 'T', num: n(7) });
      await addRec(f, { id: ref('b'), dis: 'B', ref: ref('t') });
      await commit(f, t, { trash: m });
      await expectMatch(f, 'ref->num == 7', ['b']);
      await expectMatch(f, 'num == 7', []);
      await expectMatch(f, 'id == @t', []);
    });
  });
}
