// RecCache's tag statistics (the planner's tagCount and the path planner's refOnly) must be the same
// whether a commit's put recounts only the tags it changed or the whole record.
import { HDateTime, HDict, HMarker, HNum, HRef, HRemove, HStr, type HVal } from 'haystack-core';
import { describe, expect, it } from 'vitest';
import { RecCache } from '../../src/storage/recCache.js';
import { prng } from '../harness/prng.js';

const TAGS = ['site', 'equip', 'point', 'dis', 'siteRef', 'meta', 'when', 'n', 'trash'];

function value(r: ReturnType<typeof prng>): HVal {
  switch (r.int(5)) {
    case 0:
      return HMarker.make();
    case 1:
      return HRef.make(`r${r.int(5)}`);
    case 2:
      return HDict.make({ a: HNum.make(r.int(3)) });
    case 3:
      return HDateTime.make(new Date(Date.UTC(2026, 0, 1 + r.int(3))));
    default:
      return HStr.make(`s${r.int(3)}`);
  }
}

function stats(c: RecCache): string {
  return TAGS.map((t) => `${t}:${c.tagCount(t)}:${c.refOnly(t)}`).join(' ');
}

describe('RecCache.put with a commit delta', () => {
  it('keeps the same tag counts and opaque flags as a full recount (random updates)', () => {
    const r = prng(11);
    const byDelta = new RecCache();
    const full = new RecCache();
    const recs = new Map<string, HDict>();
    for (let step = 0; step < 2000; step++) {
      const id = `x${r.int(20)}`;
      const base = recs.get(id);
      const obj: Record<string, HVal> = {};
      if (base) for (const k of base.keys) obj[k] = base.get(k) as HVal;
      obj.id = HRef.make(id);
      const changes: Record<string, HVal> = {};
      for (let k = 0; k < 1 + r.int(3); k++) {
        const tag = r.pick(TAGS);
        changes[tag] = r.chance(0.3) ? HRemove.make() : value(r);
      }
      for (const [tag, v] of Object.entries(changes)) {
        if (v instanceof HRemove) delete obj[tag];
        else obj[tag] = v;
      }
      delete obj.mod;
      obj.mod = HDateTime.make(new Date(Date.UTC(2026, 1, 1) + step * 1000));
      const next = HDict.make(obj);
      const delta = base ? { base: byDelta.get(id)?.persistent as HDict, tags: [...Object.keys(changes), 'mod'] } : undefined;
      byDelta.put(id, next, undefined, delta);
      full.put(id, next);
      recs.set(id, next);
      expect(stats(byDelta), `step ${step}`).toBe(stats(full));
      expect(byDelta.get(id)?.isTrash).toBe(next.has('trash'));
    }
  });

  it('a base holding a null-valued tag the commit drops is recounted in full', () => {
    const byDelta = new RecCache();
    const full = new RecCache();
    // a record as another writer might store it: `x` holds null
    const base = HDict.make({ id: HRef.make('a'), x: null, y: HStr.make('1'), mod: HDateTime.make(new Date(0)) } as never);
    byDelta.put('a', base);
    const next = HDict.make({ id: HRef.make('a'), y: HStr.make('2'), mod: HDateTime.make(new Date(1000)) });
    byDelta.put('a', next, undefined, { base, tags: ['y', 'mod'] });
    full.put('a', next);
    expect(stats(byDelta)).toBe(stats(full));
    expect(byDelta.tagCount('x')).toBe(0);
  });
});
