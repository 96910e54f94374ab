// The `search` read option: glob, re: and f: forms.
import { describe, expect, it } from 'vitest';
import { HDict, HNum, HRef, HStr } from 'haystack-core';
import { compileSearch } from '../../src/filter/index.js';

const site = HDict.make({ id: HRef.make('site-0001'), dis: HStr.make('Main Site'), area: HNum.make(10), note: HStr.make('North Wing') });
const other = HDict.make({ id: HRef.make('p-77'), navName: HStr.make('AHU-1'), siteRef: HRef.make('site-0001') });
const recs = new Map([
  ['site-0001', site],
  ['p-77', other],
]);
const resolve = (r: HRef) => recs.get(r.value);
const hit = (pattern: string, rec: HDict, dis: string) => compileSearch(pattern)(rec, dis, resolve);

describe('search option', () => {
  it('glob is a case-insensitive substring match over dis', () => {
    expect(hit('main', site, 'Main Site')).toBe(true);
    expect(hit('MAIN s*e', site, 'Main Site')).toBe(true);
    expect(hit('m?in', site, 'Main Site')).toBe(true);
    expect(hit('m??in', site, 'Main Site')).toBe(false);
    expect(hit('zzz', site, 'Main Site')).toBe(false);
  });

  it('glob looks at every Str tag value', () => {
    expect(hit('wing', site, 'Main Site')).toBe(true);
    expect(hit('ahu', other, 'whatever')).toBe(true);
  });

  it('the id only counts for patterns of 8+ characters', () => {
    expect(hit('site-000', site, 'X')).toBe(true); // 8 chars, in the id only
    expect(hit('ite-000', site, 'X')).toBe(false); // 7 chars
    expect(hit('p-77', other, 'X')).toBe(false);
  });

  it('glob specials are literal otherwise', () => {
    const r = HDict.make({ id: HRef.make('x'), s: HStr.make('a.b (c) [d] $e') });
    expect(hit('a.b (c) [d] $e', r, '')).toBe(true);
    expect(hit('a+b', r, '')).toBe(false);
    expect(hit('AHU-1', other, '')).toBe(true);
  });

  it('re: is a whole-string, case-insensitive regex', () => {
    expect(hit('re:main.*', site, 'Main Site')).toBe(true);
    expect(hit('re:site', site, 'Main Site')).toBe(false); // whole string, like Haxall Regex.matches
    expect(hit('re:.*site', site, 'Main Site')).toBe(true);
    expect(hit('re:north \\w+', site, 'X')).toBe(true);
  });

  it('a bad re: falls back to a glob of the whole pattern', () => {
    const r = HDict.make({ id: HRef.make('x'), s: HStr.make('re:(oops') });
    expect(hit('re:(oops', r, '')).toBe(true);
  });

  it('f: evaluates a filter, with paths', () => {
    expect(hit('f:area > 5', site, 'X')).toBe(true);
    expect(hit('f:area > 50', site, 'Main Site')).toBe(false);
    expect(hit('f:siteRef->area == 10', other, '')).toBe(true);
  });

  it('empty or blank patterns match everything', () => {
    expect(hit('', site, '')).toBe(true);
    expect(hit('   ', other, '')).toBe(true);
  });
});
