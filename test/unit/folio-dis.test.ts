import { describe, expect, it } from 'vitest';
import { HDict, HNum, HRef, HStr } from 'haystack-core';
import { expandMacro, recDis } from '../../src/folio/dis.js';

function db(...recs: HDict[]): (id: string) => HDict | undefined {
  const m = new Map<string, HDict>();
  for (const r of recs) m.set((r.get('id') as HRef).value, r);
  return (id) => m.get(id);
}
const ref = (id: string): HRef => HRef.make(id);

describe('recDis precedence', () => {
  const lookup = db();
  it('follows dis, disMacro, disKey, name, def, tag, id', () => {
    const all = { id: ref('x'), dis: 'D', disMacro: 'M', disKey: 'ui::k', name: 'n', def: '^d', tag: 't' };
    expect(recDis(HDict.make(all), lookup)).toBe('D');
    const order = ['dis', 'disMacro', 'disKey', 'name', 'def', 'tag'];
    const expected = ['D', 'M', 'ui::k', 'n', '^d', 't'];
    for (let i = 0; i < order.length; i++) {
      const tags: Record<string, unknown> = { id: ref('x') };
      for (const t of order.slice(i)) tags[t] = (all as Record<string, unknown>)[t];
      expect(recDis(HDict.make(tags as Record<string, HStr | HRef>), lookup)).toBe(expected[i]);
    }
    expect(recDis(HDict.make({ id: ref('x') }), lookup)).toBe('x');
    expect(recDis(HDict.make({}), lookup)).toBe('');
  });
  it('ignores a stale dis on the rec id', () => {
    expect(recDis(HDict.make({ id: HRef.make('x', 'old') }), lookup)).toBe('x');
  });
});

describe('disMacro (case 77)', () => {
  const a = HDict.make({ id: ref('A'), dis: 'A-0' });
  const b = HDict.make({ id: ref('B-ID'), disMacro: '$aRef $navName', aRef: ref('A'), navName: 'B-0' });
  const c = HDict.make({ id: ref('C'), disMacro: '$bRef $navName', bRef: ref('B-ID'), navName: 'C-0' });

  it('follows Refs recursively', () => {
    expect(recDis(c, db(a, b, c))).toBe('A-0 B-0 C-0');
  });
  it('ripples a changed dis', () => {
    const a1 = HDict.make({ id: ref('A'), dis: 'A-1' });
    expect(recDis(c, db(a1, b, c))).toBe('A-1 B-0 C-0');
  });
  it('a self-reference gives the id', () => {
    const x = HDict.make({ id: ref('BX-ID'), disMacro: '$selfRef NN', selfRef: ref('BX-ID') });
    expect(recDis(x, db(x))).toBe('BX-ID NN');
  });
  it('a longer cycle falls back to the id where it closes', () => {
    const p = HDict.make({ id: ref('P'), disMacro: '$qRef p', qRef: ref('Q') });
    const q = HDict.make({ id: ref('Q'), disMacro: '$pRef q', pRef: ref('P') });
    expect(recDis(p, db(p, q))).toBe('P q p');
    expect(recDis(q, db(p, q))).toBe('Q p q');
  });
  it('a missing target shows its id', () => {
    const c2 = HDict.make({ id: ref('C'), disMacro: '$bRef $navName', bRef: ref('B-ID'), navName: 'C-2' });
    expect(recDis(c2, db(a, c2))).toBe('B-ID C-2');
  });
  it('the same target twice is not a cycle', () => {
    const d = HDict.make({ id: ref('D'), disMacro: '$aRef/${aRef}', aRef: ref('A') });
    expect(recDis(d, db(a, d))).toBe('A-0/A-0');
  });
  it('non-Str values use their string form', () => {
    const d = HDict.make({ id: ref('D'), disMacro: 'n=$n', n: HNum.make(3) });
    expect(recDis(d, db(d))).toBe('n=3');
  });
});

describe('expandMacro', () => {
  const vars: Record<string, string> = { a: 'A', b_1: 'B' };
  const f = (n: string): string | undefined => vars[n];
  it('expands $tag and ${tag}', () => {
    expect(expandMacro('$a-$b_1 ${a}x', f)).toBe('A-B Ax');
  });
  it('keeps unresolved and malformed parts', () => {
    expect(expandMacro('$zz ${zz} $ $<pod::key> ${a', f)).toBe('$zz ${zz} $ $<pod::key> ${a');
    expect(expandMacro('cost $', f)).toBe('cost $');
    expect(expandMacro('', f)).toBe('');
  });
});
