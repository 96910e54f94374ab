// Index terms and the planner's rules.
import { describe, expect, it } from 'vitest';
import { HBool, HDate, HDict, HList, HMarker, HNum, HRef, HStr, HUri } from 'haystack-core';
import { compileFilter, eqValueKey, planFilter, recordIndexTerms, termKey } from '../../src/filter/index.js';
import type { PlanStats } from '../../src/filter/index.js';

const never = (t: string) => t === 'id' || t === 'mod';

describe('eqValueKey', () => {
  it('canonical numbers: -0 is 0, units kept, non-finite not indexed', () => {
    expect(eqValueKey(HNum.make(-0))).toBe('n:0|');
    expect(eqValueKey(HNum.make(0))).toBe('n:0|');
    expect(eqValueKey(HNum.make(20, 'kW'))).toBe('n:20|kW');
    expect(eqValueKey(HNum.make(1.5))).toBe('n:1.5|');
    expect(eqValueKey(HNum.make(1e21))).toBe('n:1e+21|');
    expect(eqValueKey(HNum.make(NaN))).toBeUndefined();
    expect(eqValueKey(HNum.make(Infinity))).toBeUndefined();
  });

  it('refs by id, dis ignored', () => {
    expect(eqValueKey(HRef.make('a', 'Alpha'))).toBe('r:a');
    expect(eqValueKey(HRef.make('a'))).toBe('r:a');
  });

  it('strings up to 256 chars; other scalars', () => {
    expect(eqValueKey(HStr.make('x'.repeat(256)))).toBe(`s:${'x'.repeat(256)}`);
    expect(eqValueKey(HStr.make('x'.repeat(257)))).toBeUndefined();
    expect(eqValueKey(HBool.make(true))).toBe('b:true');
    expect(eqValueKey(HBool.make(false))).toBe('b:false');
    expect(eqValueKey(HDate.make('2020-01-02'))).toBe('d:2020-01-02');
    expect(eqValueKey(HUri.make('http://x'))).toBe('u:http://x');
    expect(eqValueKey(HMarker.make())).toBeUndefined();
    expect(eqValueKey(HDict.make({ a: HMarker.make() }))).toBeUndefined();
    expect(eqValueKey(HList.make([HRef.make('a')]))).toBeUndefined();
  });
});

describe('recordIndexTerms', () => {
  it('has per tag, eq per scalar and per list member, neverIndex skipped', () => {
    const rec = HDict.make({
      id: HRef.make('r1'),
      mod: HStr.make('ignored'),
      site: HMarker.make(),
      ref: HList.make([HRef.make('a', 'A'), HRef.make('b'), HRef.make('a'), HNum.make(1)]),
      big: HStr.make('y'.repeat(300)),
      num: HNum.make(-0, '°F'),
    });
    const keys = recordIndexTerms(rec, never).map(termKey).sort();
    expect(keys).toEqual(['e:num=n:0|°F', 'e:ref=n:1|', 'e:ref=r:a', 'e:ref=r:b', 'h:big', 'h:num', 'h:ref', 'h:site'].sort());
  });

  it('termKey is stable', () => {
    expect(termKey({ kind: 'has', tag: 'site' })).toBe('h:site');
    expect(termKey({ kind: 'eq', tag: 'siteRef', value: 'r:x' })).toBe('e:siteRef=r:x');
  });
});

describe('planFilter', () => {
  const counts: Record<string, number> = { site: 10, equip: 100, point: 800, ref: 50, num: 900, a: 5, b: 6 };
  const stats: PlanStats = { total: 1000, tagCount: (t) => counts[t] ?? 0 };
  const plan = (f: string) => planFilter(compileFilter(f), stats, { neverIndex: never });

  it('has and eq terms', () => {
    expect(plan('site')).toEqual({ kind: 'index', union: [[{ kind: 'has', tag: 'site' }]], estimate: 10 });
    expect(plan('ref == @x "X"')).toEqual({ kind: 'index', union: [[{ kind: 'eq', tag: 'ref', value: 'r:x' }]], estimate: 5 });
    expect(plan('site->dis')).toMatchObject({ kind: 'index', union: [[{ kind: 'has', tag: 'site' }]] });
    expect(plan('site < 3')).toMatchObject({ kind: 'index', union: [[{ kind: 'has', tag: 'site' }]] });
  });

  it('byId wins in and; or of ids; non-Ref id literal is empty', () => {
    expect(plan('id == @b and site')).toEqual({ kind: 'byId', ids: ['b'] });
    expect(plan('id == @y or id == @x')).toEqual({ kind: 'byId', ids: ['x', 'y'] });
    expect(plan('id == @x and id == @y')).toEqual({ kind: 'empty' });
    expect(plan('id == `uri-not-id`')).toEqual({ kind: 'empty' });
    expect(plan('id')).toEqual({ kind: 'scan' });
  });

  it('and picks the most selective terms; or needs every branch', () => {
    expect(plan('point and site and equip')).toEqual({
      kind: 'index',
      union: [[{ kind: 'has', tag: 'site' }, { kind: 'has', tag: 'equip' }, { kind: 'has', tag: 'point' }]],
      estimate: 10,
    });
    expect(plan('(a or b) and not point')).toEqual({
      kind: 'index',
      union: [[{ kind: 'has', tag: 'a' }], [{ kind: 'has', tag: 'b' }]],
      estimate: 11,
    });
    expect(plan('a or not b')).toEqual({ kind: 'scan' });
    expect(plan('a or Foo')).toMatchObject({ kind: 'index', union: [[{ kind: 'has', tag: 'a' }]] });
    expect(plan('^a-b')).toMatchObject({ kind: 'index', union: [[{ kind: 'has', tag: 'a' }, { kind: 'has', tag: 'b' }]] });
  });

  it('cost: too broad means scan', () => {
    expect(plan('point')).toEqual({ kind: 'scan' });
    expect(plan('num and site')).toMatchObject({ kind: 'index', estimate: 10 });
    expect(plan('mod')).toEqual({ kind: 'scan' });
    expect(plan('Foo and site')).toEqual({ kind: 'empty' });
  });

  it('refId maps Ref literals of eq terms', () => {
    const p = planFilter(compileFilter('ref == @u:x'), stats, { refId: (id) => id.replace(/^u:/, '') });
    expect(p).toMatchObject({ union: [[{ kind: 'eq', tag: 'ref', value: 'r:x' }]] });
  });
});
