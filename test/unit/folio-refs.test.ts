import { describe, expect, it } from 'vitest';
import { HDict, HGrid, HList, HNum, HRef, HStr } from 'haystack-core';
import type { HVal } from 'haystack-core';
import { isRelative, mapRefs, refDis, refToAbs, refToRel, toAbs, toRel } from '../../src/folio/refs.js';

describe('idPrefix helpers (case 76)', () => {
  it('isRelative', () => {
    expect(isRelative('a')).toBe(true);
    expect(isRelative('2a3c41f0-91d2bb03')).toBe(true);
    expect(isRelative('u:a')).toBe(false);
    expect(isRelative('x:foo')).toBe(false);
    expect(isRelative('null')).toBe(false);
  });
  it('toAbs prefixes relative ids only', () => {
    expect(toAbs('a', 'u:')).toBe('u:a');
    expect(toAbs('x:foo', 'u:')).toBe('x:foo');
    expect(toAbs('u:a', 'u:')).toBe('u:a');
    expect(toAbs('null', 'u:')).toBe('null');
    expect(toAbs('a', undefined)).toBe('a');
    expect(toAbs('a', '')).toBe('a');
  });
  it('toRel strips our prefix and keeps foreign ones', () => {
    expect(toRel('u:a', 'u:')).toBe('a');
    expect(toRel('u:y', 'xyz:')).toBe('u:y');
    expect(toRel('a', 'u:')).toBe('a');
    expect(toRel('u:', 'u:')).toBe('u:');
    expect(toRel('u:a', undefined)).toBe('u:a');
  });
  it('round-trips: a prefix rename maps u:a to xyz:a', () => {
    expect(toAbs(toRel('u:a', 'u:'), 'xyz:')).toBe('xyz:a');
  });
  it('refToAbs / refToRel keep the dis and the instance when unchanged', () => {
    const r = HRef.make('a', 'Alpha');
    const abs = refToAbs(r, 'u:');
    expect(abs.value).toBe('u:a');
    expect(refDis(abs)).toBe('Alpha');
    expect(refToRel(abs, 'u:').value).toBe('a');
    const n = HRef.make('null');
    expect(refToAbs(n, 'u:')).toBe(n);
    expect(refDis(HRef.make('a'))).toBeUndefined();
  });
});

describe('mapRefs', () => {
  const abs = (r: HRef): HRef => refToAbs(r, 'u:');
  it('maps scalars, lists, dicts and grid rows deep', () => {
    const val = HDict.make({
      aRelRef: HRef.make('a'), xRef: HRef.make('x:foo'), nRef: HRef.make('null'),
      list: HList.make([HRef.make('b'), HList.make([HRef.make('c')]), HNum.make(1)]),
      nested: HDict.make({ d: HRef.make('d') }),
      grid: HGrid.make({ rows: [HDict.make({ e: HRef.make('e'), s: HStr.make('s') })] }),
      s: HStr.make('a'),
    });
    const out = mapRefs(val, abs) as HDict;
    expect(out.toZinc()).toBe(
      '{aRelRef:@u:a xRef:@x:foo nRef:@null list:[@u:b,[@u:c],1] nested:{d:@u:d} grid:<<\nver:"3.0"\ne,s\n@u:e,"s"\n>> s:"a"}',
    );
  });
  it('returns the same instance when nothing changes', () => {
    const val = HDict.make({ xRef: HRef.make('x:foo'), l: HList.make([HNum.make(1)]) });
    expect(mapRefs(val, abs)).toBe(val);
    const s: HVal = HStr.make('q');
    expect(mapRefs(s, abs)).toBe(s);
  });
});
