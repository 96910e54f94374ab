// Filter evaluation: the filter cases of spec section 5 (21-30) and the matching rules of section 4.
import { describe, expect, it } from 'vitest';
import { HDateTime, HDict, HList, HMarker, HNum, HRef, HStr, ZincReader } from 'haystack-core';
import type { HVal } from 'haystack-core';
import { compileFilter, parseFilter } from '../../src/filter/index.js';
import { filterCacheSize } from '../../src/filter/compile.js';
import { ParseError } from '../../src/folio/errors.js';

type Tags = Record<string, HVal>;

function db(recs: Record<string, Tags>) {
  const map = new Map<string, HDict>();
  for (const [id, tags] of Object.entries(recs)) {
    map.set(id, HDict.make({ id: HRef.make(id), dis: HStr.make(id.toUpperCase()), ...tags }));
  }
  const resolve = (r: HRef) => map.get(r.value);
  const query = (filter: string): string[] => {
    const f = compileFilter(filter);
    return [...map.values()].filter((r) => f.matches(r, resolve)).map((r) => (r.get('id') as HRef).value).sort();
  };
  return { map, resolve, query };
}

const n = (v: number, unit?: string) => HNum.make(v, unit);
const ref = (id: string, dis?: string) => HRef.make(id, dis);
const list = (...v: HVal[]) => HList.make(v);
const m = HMarker.make();

// spec 5.2 filter records
const spec = db({
  a: { num: n(10) },
  b: { num: n(20), ref: ref('a') },
  c: { num: n(30), ref: ref('a') },
  d: { num: n(40), ref: list(ref('a')) },
  e: { num: n(50), ref: list(ref('a'), ref('b')) },
  f: { refx: list(ref('d')) },
  g: { refx: list(ref('e')) },
});

describe('spec 5.2 filter cases 21-30', () => {
  it('21: has / missing', () => {
    expect(spec.query('dis')).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    expect(spec.query('ref')).toEqual(['b', 'c', 'd', 'e']);
    expect(spec.query('not ref')).toEqual(['a', 'f', 'g']);
  });

  it('22: number comparisons', () => {
    expect(spec.query('num == 20')).toEqual(['b']);
    expect(spec.query('num < 30')).toEqual(['a', 'b']);
    expect(spec.query('num >= 30')).toEqual(['c', 'd', 'e']);
  });

  it('23: ref equality with list membership', () => {
    expect(spec.query('ref == @bad')).toEqual([]);
    expect(spec.query('ref == @a')).toEqual(['b', 'c', 'd', 'e']);
  });

  it('24: one-hop paths through refs and lists of refs', () => {
    expect(spec.query('ref->num')).toEqual(['b', 'c', 'd', 'e']);
    expect(spec.query('ref->num == 10')).toEqual(['b', 'c', 'd', 'e']);
  });

  it('25: two-hop paths across lists', () => {
    expect(spec.query('refx->ref->num == 10')).toEqual(['f', 'g']);
    expect(spec.query('refx->ref->num == 20')).toEqual(['g']);
  });

  const foo = db({
    p: { dis: HStr.make('B'), num: n(4) },
    q: { fooRef: ref('p'), num: n(5), bar: m },
    r: { fooRef: ref('q'), baz: m },
    s: { fooRef: ref('missing') },
    t: { fooRef: ref('u') },
    u: { num: n(1), bar: m },
    v: {},
  });
  // v has a dis from db(); make one rec without dis for `not fooRef->dis`
  foo.map.set('w', HDict.make({ id: ref('w') }));
  foo.map.set('x', HDict.make({ id: ref('x'), fooRef: ref('w') }));

  it('27: != needs the tag; not path', () => {
    expect(foo.query('num != 4')).toEqual(['q', 'u']);
    expect(foo.query('not fooRef->dis')).toEqual(['p', 's', 'u', 'v', 'w', 'x']);
  });

  it('28: paths through fooRef', () => {
    expect(foo.query('fooRef->fooRef')).toEqual(['r']);
    expect(foo.query('fooRef->badone')).toEqual([]);
    expect(foo.query('fooRef->dis == "B"')).toEqual(['q']);
  });

  it('29: boolean logic and ^sym without defs', () => {
    expect(foo.query('(fooRef and bar) or baz')).toEqual(['q', 'r']);
    expect(foo.query('fooRef and (bar or baz)')).toEqual(['q', 'r']);
    expect(foo.query('^num-bar')).toEqual(['q', 'u']);
    expect(foo.query('^bar')).toEqual(['q', 'u']);
  });

  it('30: id comparisons', () => {
    const d = db({ a: { num: n(1), x: m, y: m }, b: { num: n(2), x: m } });
    expect(d.query('id == @b and num != 2')).toEqual([]);
    expect(d.query('x and id == @b and y')).toEqual([]);
    expect(d.query('id == `uri-not-id`')).toEqual([]);
    expect(d.query('id == @b')).toEqual(['b']);
    expect(d.query('id == @a or id == @b')).toEqual(['a', 'b']);
  });

  it('45-49: num filters over A-D', () => {
    const d = db({ aa: { num: n(1) }, bb: { num: n(2) }, cc: { num: n(3) }, dd: { num: n(4) } });
    expect(d.query('num')).toEqual(['aa', 'bb', 'cc', 'dd']);
    expect(d.query('num >= 4')).toEqual(['dd']);
    expect(d.query('num <= 3')).toEqual(['aa', 'bb', 'cc']);
  });
});

describe('section 4 matching rules', () => {
  const d = db({
    kw: { num: n(20, 'kW'), s: HStr.make('abc') },
    plain: { num: n(20), s: HStr.make('abd') },
    neg: { num: n(-0) },
    r1: { siteRef: ref('kw', 'Some Dis') },
    dictv: { nested: HDict.make({ inner: n(5), deep: HDict.make({ x: HStr.make('y') }) }) },
    ts: {
      ts: ZincReader.readValue('2021-03-04T05:06:07-05:00 New_York') as HDateTime,
    },
  });

  it('Number equality includes the unit', () => {
    expect(d.query('num == 20')).toEqual(['plain']);
    expect(d.query('num == 20kW')).toEqual(['kw']);
    expect(d.query('num == 0')).toEqual(['neg']);
  });

  it('ordering needs the same type and unit', () => {
    expect(d.query('num > 10')).toEqual(['plain']);
    expect(d.query('num > 10kW')).toEqual(['kw']);
    expect(d.query('num > `foo`')).toEqual([]);
    expect(d.query('num > "a"')).toEqual([]);
    expect(d.query('s < "abd"')).toEqual(['kw']);
    expect(d.query('s >= "abd"')).toEqual(['plain']);
  });

  it('!= matches present values of any other type or value', () => {
    expect(d.query('num != 20')).toEqual(['kw', 'neg']);
    expect(d.query('num != "x"')).toEqual(['kw', 'neg', 'plain']);
  });

  it('Ref equality ignores dis', () => {
    expect(d.query('siteRef == @kw')).toEqual(['r1']);
    expect(d.query('siteRef == @kw "Other"')).toEqual(['r1']);
    expect(d.query('siteRef->num == 20kW')).toEqual(['r1']);
  });

  it('paths enter Dict values', () => {
    expect(d.query('nested->inner == 5')).toEqual(['dictv']);
    expect(d.query('nested->deep->x == "y"')).toEqual(['dictv']);
    expect(d.query('nested->nope')).toEqual([]);
  });

  it('DateTime ->date, ->time, ->tz, in its own zone', () => {
    expect(d.query('ts->date == 2021-03-04')).toEqual(['ts']);
    expect(d.query('ts->time == 05:06:07')).toEqual(['ts']);
    expect(d.query('ts->time > 05:00')).toEqual(['ts']);
    expect(d.query('ts->tz == "New_York"')).toEqual(['ts']);
    expect(d.query('ts->year')).toEqual([]);
  });

  it('DateTime literals (pre-processed: haystack-core cannot lex them)', () => {
    expect(d.query('ts == 2021-03-04T10:06:07Z UTC')).toEqual(['ts']);
    expect(d.query('ts > 2021-03-04T10:06:06Z UTC')).toEqual(['ts']);
    expect(d.query('ts < 2021-03-04T05:06:07-05:00 New_York')).toEqual([]);
    expect(d.query('ts <= 2021-03-04T05:06:07-05:00 New_York and ts')).toEqual(['ts']);
    // a DateTime-looking string stays a string
    expect(parseFilter('s == "2021-03-04T10:06:07Z UTC"')).toMatchObject({ kind: 'cmp', op: '==' });
  });

  it('spec names and relationships are false without a namespace', () => {
    expect(d.query('Foo')).toEqual([]);
    expect(d.query('ph::Site or num == 20')).toEqual(['plain']);
    expect(d.query('a.b::Foo')).toEqual([]);
    expect(parseFilter('Foo')).toEqual({ kind: 'spec', name: 'Foo' });
    expect(parseFilter('sys.comp::Point')).toEqual({ kind: 'spec', name: 'sys.comp::Point' });
    expect(d.query('siteRef?')).toEqual([]);
    // units with capitals are not spec names
    expect(d.query('num == 20kW and not Foo')).toEqual(['kw']);
  });

  it('a list of refs: any element, then the list itself (Haxall matchesAt)', () => {
    const l = db({ a: { num: n(1) }, b: {}, x: { ref: list(ref('a')) }, y: { ref: list(ref('a'), ref('b')) } });
    expect(l.query('ref->num == 1')).toEqual(['x', 'y']);
    expect(l.query('ref != @a')).toEqual(['x', 'y']); // the list itself != @a
    expect(l.query('ref == @b')).toEqual(['y']);
    // Haxall falls through to null for a list in the middle of a path, so `not` matches any list.
    expect(l.query('not ref->num')).toEqual(['a', 'b', 'x', 'y']);
  });

  it('records carrying a null value treat it as missing', () => {
    const r = HDict.make({ id: ref('z'), nothing: null });
    expect(compileFilter('nothing').matches(r, () => undefined)).toBe(false);
    expect(compileFilter('not nothing').matches(r, () => undefined)).toBe(true);
  });
});

describe('parse errors and caching', () => {
  it.each(['', '   ', 'bad )', 'x ==', 'a *== @b', 'a ->', 'x == "unterminated', 'Foo->bar', 'Foo == 1', '2020-13-45T99:00:00Z UTC'])(
    'throws ParseError naming the text: %s',
    (text) => {
      let err: unknown;
      try {
        compileFilter(text);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ParseError);
      expect((err as Error).message).toContain(`"${text}"`);
    },
  );

  it('caches by text', () => {
    expect(compileFilter('abc and def')).toBe(compileFilter('abc and def'));
    const node = compileFilter('a or (b or c) or (d and (e and f))').node;
    expect(node).toEqual({
      kind: 'or',
      nodes: [
        { kind: 'has', path: ['a'] },
        { kind: 'has', path: ['b'] },
        { kind: 'has', path: ['c'] },
        {
          kind: 'and',
          nodes: [
            { kind: 'has', path: ['d'] },
            { kind: 'has', path: ['e'] },
            { kind: 'has', path: ['f'] },
          ],
        },
      ],
    });
  });

  it('the cache is bounded', () => {
    for (let i = 0; i < 1200; i++) compileFilter(`tag${i}`);
    expect(filterCacheSize()).toBeLessThanOrEqual(500);
    // recently used entries survive
    const keep = compileFilter('tag1199');
    expect(compileFilter('tag1199')).toBe(keep);
  });

  it('backtick Uri literals parse', () => {
    expect(parseFilter('x == `http://a/b?c=d`')).toMatchObject({ kind: 'cmp', path: ['x'], op: '==' });
  });

  it('DateTime values compare with the evaluator over a made rec', () => {
    const r = HDict.make({ id: ref('q'), t: HDateTime.make('2020-01-01T00:00:00Z UTC') });
    expect(compileFilter('t == 2020-01-01T00:00:00Z UTC').matches(r, () => undefined)).toBe(true);
  });
});
