import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { HDict, HMarker, HNum, HRef, HStr } from 'haystack-core';
import {
  AccReader, CountReader, EachReader, compareDis, makeDictsGrid, sortByDis,
} from '../../src/folio/readers.js';
import type { FolioContext } from '../../src/folio/types.js';

const recs = [1, 2, 3, 4, 5].map((n) =>
  HDict.make({ id: HRef.make(`r${n}`), num: HNum.make(n), ...(n % 2 === 0 ? { deny: HMarker.make() } : {}) }),
);
const feed = (r: { accept(rec: HDict): boolean }, list: HDict[] = recs): number => {
  let fed = 0;
  for (const rec of list) {
    fed++;
    if (!r.accept(rec)) break;
  }
  return fed;
};
const num = (r: HDict): number => (r.get('num') as HNum).value;
const denyCx: FolioContext = { canRead: (r) => !r.has('deny'), canWrite: () => true };

describe('FilterReader', () => {
  it('accumulates everything without options', () => {
    const r = new AccReader();
    expect(feed(r)).toBe(5);
    expect(r.recs.map(num)).toEqual([1, 2, 3, 4, 5]);
    expect(r.count).toBe(5);
    expect(r.isDone).toBe(false);
  });
  it('stops at the limit', () => {
    const r = new AccReader({ limit: 2 });
    expect(feed(r)).toBe(2);
    expect(r.recs.map(num)).toEqual([1, 2]);
    expect(r.isDone).toBe(true);
    expect(r.accept(recs[4])).toBe(false);
    expect(r.recs).toHaveLength(2);
  });
  it('limit <= 0 runs nothing', () => {
    for (const limit of [0, -1]) {
      let calls = 0;
      const e = new EachReader({ limit }, () => { calls++; return undefined; });
      expect(e.isDone).toBe(true);
      expect(feed(e)).toBe(1);
      expect(calls).toBe(0);
      expect(e.result).toBeUndefined();
      const c = new CountReader({ limit });
      feed(c);
      expect(c.count).toBe(0);
    }
  });
  it('skips denied recs silently, before search and limit', () => {
    const searched: number[] = [];
    const r = new AccReader({
      cx: denyCx, limit: 2,
      search: (rec) => { searched.push(num(rec)); return true; },
    });
    feed(r);
    expect(r.recs.map(num)).toEqual([1, 3]);
    expect(searched).toEqual([1, 3]);
  });
  it('skips recs the search rejects and does not count them', () => {
    const c = new CountReader({ search: (rec) => num(rec) > 2 });
    feed(c);
    expect(c.count).toBe(3);
  });
  it('EachReader stops at the first non-undefined result', () => {
    const seen: number[] = [];
    const e = new EachReader<string>({}, (rec) => { seen.push(num(rec)); return num(rec) === 2 ? 'break!' : undefined; });
    expect(feed(e)).toBe(2);
    expect(e.result).toBe('break!');
    expect(seen).toEqual([1, 2]);
    const all = new EachReader({}, () => undefined);
    feed(all);
    expect(all.result).toBeUndefined();
    expect(all.count).toBe(5);
  });
});

describe('compareDis', () => {
  it('sorts numbers inside strings numerically', () => {
    const list = ['x10', 'x9', 'x1', 'X2', 'a', 'B', 'x02', 'x2', 'y', ''];
    expect([...list].sort(compareDis)).toEqual(['', 'a', 'B', 'x1', 'X2', 'x2', 'x02', 'x9', 'x10', 'y']);
    expect(compareDis('Floor 2', 'floor 10')).toBeLessThan(0);
    expect(compareDis('AHU-1', 'ahu-1')).toBeLessThan(0);
    expect(compareDis('a', 'a')).toBe(0);
    expect(compareDis('item99999999999999999999', 'item100000000000000000000')).toBeLessThan(0);
  });
  it('is a total order', () => {
    const str = fc.string({ unit: fc.constantFrom('a', 'B', 'b', '0', '1', '9', ' ', '-') });
    fc.assert(fc.property(str, str, (a, b) => Math.sign(compareDis(a, b)) === -Math.sign(compareDis(b, a))));
    fc.assert(fc.property(str, str, (a, b) => (compareDis(a, b) === 0) === (a === b)));
    fc.assert(fc.property(str, str, str, (a, b, c) => {
      const [x, y, z] = [a, b, c].sort(compareDis);
      return compareDis(x, z) <= 0 && compareDis(x, y) <= 0 && compareDis(y, z) <= 0;
    }));
    fc.assert(fc.property(fc.array(str, { maxLength: 8 }), (arr) => {
      const s = [...arr].sort(compareDis);
      for (let i = 0; i < s.length; i++) for (let j = i + 1; j < s.length; j++) if (compareDis(s[i], s[j]) > 0) return false;
      return true;
    }));
  });
});

describe('sortByDis', () => {
  it('sorts by dis and keeps the input', () => {
    const dicts = ['D', 'b', 'A', 'C 10', 'C 9'].map((d) => HDict.make({ dis: d }));
    const sorted = sortByDis(dicts, (r) => (r.get('dis') as HStr).value);
    expect(sorted.map((r) => (r.get('dis') as HStr).value)).toEqual(['A', 'b', 'C 9', 'C 10', 'D']);
    expect((dicts[0].get('dis') as HStr).value).toBe('D');
  });
});

describe('makeDictsGrid', () => {
  const a = HDict.make({ id: HRef.make('a'), x: HNum.make(1) });
  const b = HDict.make({ id: HRef.make('b'), y: HStr.make('y') });
  it('unions columns in first-seen order, with all-null rows', () => {
    const g = makeDictsGrid([a, undefined, b]);
    expect(g.getColumns().map((c) => c.name)).toEqual(['id', 'x', 'y']);
    expect(g.length).toBe(3);
    expect(g.getRows()[1].isEmpty()).toBe(true);
    expect(g.getRows()[2].get('y')?.equals(HStr.make('y'))).toBe(true);
    expect(g.getRows()[0].has('y')).toBe(false);
  });
  it('gives no columns and 0 rows when every row is missing', () => {
    for (const list of [[], [undefined], [undefined, undefined]]) {
      const g = makeDictsGrid(list);
      expect(g.length).toBe(0);
      expect(g.getColumns()).toHaveLength(0);
    }
  });
  it('keeps all-empty dicts as rows and copies meta', () => {
    const g = makeDictsGrid([HDict.make({})], HDict.make({ foo: HStr.make('bar') }));
    expect(g.length).toBe(1);
    expect(g.meta.get('foo')?.equals(HStr.make('bar'))).toBe(true);
  });
});
