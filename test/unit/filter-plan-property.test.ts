// Property test: executing a plan against simulated tag indexes, then evaluating the full filter on
// the candidates, gives exactly the brute-force result; index candidates are a superset of matches.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { HBool, HDate, HDict, HList, HMarker, HNum, HRef, HStr } from 'haystack-core';
import type { HVal } from 'haystack-core';
import { compileFilter, planFilter, recordIndexTerms, termKey } from '../../src/filter/index.js';
import type { IndexTerm, Plan, PlanStats } from '../../src/filter/index.js';
import { prng } from '../harness/prng.js';

const N_RECS = 300;
const TAGS = ['a', 'b', 'c', 'num', 's', 'ref', 'refx', 'flag', 'day', 'dict', 'mod'];
const UNITS = ['', 'kW', '°F'];
const NUMS = [0, -0, 1, 2, 10, 20, 2.5, NaN];
const STRS = ['x', 'y', 'Hello', '', 'z'.repeat(300)];
const DAYS = ['2020-01-01', '2021-06-15'];
const never = (t: string) => t === 'id' || t === 'mod';


function makeRecs(seed: number): Map<string, HDict> {
  const rnd = prng(seed).next;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const refTo = (): HRef => HRef.make(rnd() < 0.05 ? 'missing' : `r${Math.floor(rnd() * N_RECS)}`, rnd() < 0.3 ? 'Some dis' : undefined);
  const num = (): HNum => HNum.make(pick(NUMS), pick(UNITS) || undefined);
  const scalar = (): HVal => {
    const k = rnd();
    if (k < 0.3) return num();
    if (k < 0.5) return HStr.make(pick(STRS));
    if (k < 0.65) return refTo();
    if (k < 0.75) return HBool.make(rnd() < 0.5);
    if (k < 0.85) return HDate.make(pick(DAYS));
    return HMarker.make();
  };
  const value = (tag: string): HVal => {
    switch (tag) {
      case 'num':
        return rnd() < 0.85 ? num() : scalar();
      case 's':
        return HStr.make(pick(STRS));
      case 'ref':
      case 'refx':
        if (rnd() < 0.4) return HList.make(Array.from({ length: Math.floor(rnd() * 3) }, refTo));
        return rnd() < 0.9 ? refTo() : scalar();
      case 'day':
        return HDate.make(pick(DAYS));
      case 'dict':
        return HDict.make({ num: num(), s: HStr.make(pick(STRS)), ref: refTo() });
      case 'flag':
        return HBool.make(rnd() < 0.5);
      default:
        return rnd() < 0.5 ? HMarker.make() : scalar();
    }
  };
  const recs = new Map<string, HDict>();
  for (let i = 0; i < N_RECS; i++) {
    const tags: Record<string, HVal> = { id: HRef.make(`r${i}`) };
    for (const t of TAGS) if (rnd() < 0.35) tags[t] = value(t);
    recs.set(`r${i}`, HDict.make(tags));
  }
  return recs;
}

// ---- random filters, rendered as text ----

const pathArb = fc
  .array(fc.constantFrom(...TAGS, 'id', 'date', 'tz', 'nope'), { minLength: 1, maxLength: 3 })
  .map((p) => p.join('->'));
const litArb = fc.oneof(
  fc.constantFrom(...NUMS.filter((x) => !Number.isNaN(x))).chain((v) =>
    fc.constantFrom(...UNITS).map((u) => `${Object.is(v, -0) ? '-0' : String(v)}${u}`),
  ),
  fc.constantFrom(...STRS.filter((s) => s.length < 50)).map((s) => JSON.stringify(s)),
  fc.integer({ min: 0, max: N_RECS + 2 }).map((i) => (i >= N_RECS ? '@missing' : `@r${i}`)),
  fc.constantFrom('true', 'false', '`uri`', ...DAYS, '2020-01-01T00:00:00Z UTC'),
);
const opArb = fc.constantFrom('==', '==', '==', '!=', '<', '<=', '>', '>=');
const termArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: pathArb },
  { weight: 2, arbitrary: pathArb.map((p) => `not ${p}`) },
  { weight: 6, arbitrary: fc.tuple(pathArb, opArb, litArb).map(([p, o, l]) => `${p} ${o} ${l}`) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: N_RECS + 2 }).map((i) => `id == @r${i}`) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...TAGS), fc.constantFrom(...TAGS)).map(([x, y]) => `^${x}-${y}`) },
  { weight: 1, arbitrary: fc.constantFrom('Foo', 'ph::Site') },
);
const filterArb: fc.Arbitrary<string> = fc.letrec<{ f: string }>((tie) => ({
  f: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 3, arbitrary: termArb },
    { weight: 1, arbitrary: fc.tuple(tie('f'), tie('f')).map(([x, y]) => `(${x}) and (${y})`) },
    { weight: 1, arbitrary: fc.tuple(tie('f'), tie('f')).map(([x, y]) => `(${x}) or (${y})`) },
    { weight: 1, arbitrary: fc.tuple(termArb, termArb, termArb).map(([x, y, z]) => `${x} and ${y} or ${z}`) },
  ),
})).f;

// ---- simulated storage ----

function buildIndex(recs: Map<string, HDict>): Map<string, Set<string>> {
  const index = new Map<string, Set<string>>();
  for (const [id, rec] of recs) {
    for (const t of recordIndexTerms(rec, never)) {
      const k = termKey(t);
      let set = index.get(k);
      if (!set) index.set(k, (set = new Set()));
      set.add(id);
    }
  }
  return index;
}

function candidates(plan: Plan, recs: Map<string, HDict>, index: Map<string, Set<string>>): string[] {
  switch (plan.kind) {
    case 'empty':
      return [];
    case 'scan':
      return [...recs.keys()];
    case 'byId':
      return plan.ids.filter((id) => recs.has(id));
    case 'index': {
      const out = new Set<string>();
      for (const group of plan.union) {
        const sets = group.map((t: IndexTerm) => index.get(termKey(t)) ?? new Set<string>());
        sets.sort((x, y) => x.size - y.size);
        for (const id of sets[0]) if (sets.every((s) => s.has(id))) out.add(id);
      }
      return [...out];
    }
  }
}

describe('planner property', () => {
  const recs = makeRecs(20240601);
  const resolve = (r: HRef) => recs.get(r.value);
  const index = buildIndex(recs);
  const realStats: PlanStats = { total: recs.size, tagCount: (t) => index.get(`h:${t}`)?.size ?? 0 };
  // With a huge total the cost rule never picks scan, so index plans get exercised too.
  const noScanStats: PlanStats = { total: 1e12, tagCount: realStats.tagCount };

  for (const [name, stats] of [
    ['real stats', realStats],
    ['index-favouring stats', noScanStats],
  ] as const) {
    it(`plan + evaluate equals brute force (${name})`, () => {
      const kinds: Record<string, number> = {};
      fc.assert(
        fc.property(filterArb, (text) => {
          const f = compileFilter(text);
          const expected = [...recs.keys()].filter((id) => f.matches(recs.get(id) as HDict, resolve)).sort();
          const plan = planFilter(f, stats, { neverIndex: never });
          kinds[plan.kind] = (kinds[plan.kind] ?? 0) + 1;
          const cand = candidates(plan, recs, index);
          const candSet = new Set(cand);
          for (const id of expected) {
            if (!candSet.has(id)) throw new Error(`${plan.kind} plan misses ${id} for ${text}: ${JSON.stringify(plan)}`);
          }
          const got = cand.filter((id) => f.matches(recs.get(id) as HDict, resolve)).sort();
          expect(got).toEqual(expected);
        }),
        { seed: 424242, numRuns: 3000 },
      );
      // the generator must reach every plan kind, or the test proves little
      expect(Object.keys(kinds).sort()).toEqual(name === 'real stats' ? expect.arrayContaining(['scan', 'byId', 'empty']) : ['byId', 'empty', 'index', 'scan']);
      expect(kinds.index ?? 0).toBeGreaterThan(name === 'real stats' ? 0 : 300);
    });
  }

  it('the generated data has list members found by ref ==', () => {
    const withList = [...recs.values()].find((r) => {
      const v = r.get('ref');
      return v instanceof HList && v.length > 0;
    });
    expect(withList).toBeDefined();
    const first = ((withList as HDict).get('ref') as HList<HRef>).get(0) as HRef;
    const f = compileFilter(`ref == @${first.value}`);
    expect(f.matches(withList as HDict, resolve)).toBe(true);
    const plan = planFilter(f, noScanStats, { neverIndex: never });
    expect(candidates(plan, recs, index)).toContain((withList as HDict).get<HRef>('id')?.value);
  });
});
