// Path queries answered from the Ref indexes (filter/pathPlan.ts) give exactly what a full scan
// gives, on a random model with lists of Refs, dangling Refs, trashed targets, Dict and DateTime
// values in would-be hop tags, and an idPrefix; and they are planned as paths where they can be.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HDateTime, HDict, HList, HMarker, HNum, HRef, HStr, type HVal } from 'haystack-core';
import { Diff, RedisFolio } from '../../src/index.js';
import { backends } from '../harness/backends.js';
import { prng } from '../harness/prng.js';
import { uniqueName, type TestRedis } from '../harness/redis.js';


for (const backend of backends()) {
  describe.skipIf(!backend.available)(`[${backend.name}] path queries from the Ref indexes`, () => {
    let redis: TestRedis;
    beforeAll(async () => {
      redis = await backend.start();
    });
    afterAll(async () => {
      await redis?.stop();
    });

    it('planned path results equal a full scan over 300 random path filters', async () => {
      const rand = prng(7).next;
      const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)] as T;
      const folio = await RedisFolio.open({ url: redis.url, name: uniqueName('path'), idPrefix: 'p:' });
      try {
        const n = 160;
        const ids = Array.from({ length: n }, (_, i) => `r${i}`);
        const refTo = () => (rand() < 0.1 ? HRef.make(`missing${Math.floor(rand() * 5)}`) : HRef.make(pick(ids)));
        const diffs = ids.map((id) => {
          const tags: Record<string, HVal> = { dis: HStr.make(id), num: HNum.make(Math.floor(rand() * 5)) };
          if (rand() < 0.7) tags.aRef = refTo();
          if (rand() < 0.5) tags.bRef = rand() < 0.3 ? HList.make([refTo(), refTo()]) : refTo();
          if (rand() < 0.5) tags.kind = HStr.make(pick(['x', 'y', 'z']));
          if (rand() < 0.3) tags.site = HMarker.make();
          // a tag that is sometimes a Dict: paths through it must not be planned from indexes
          if (rand() < 0.3) tags.cRef = rand() < 0.2 ? HDict.make({ num: HNum.make(1), kind: HStr.make('x') }) : refTo();
          if (rand() < 0.2) tags.ts = HDateTime.make('2024-01-01T10:00:00Z UTC');
          if (rand() < 0.05) tags.trash = HMarker.make();
          return Diff.makeAdd(tags, id);
        });
        await folio.commitAll(diffs);

        const tagsOf = ['aRef', 'bRef', 'cRef'];
        const leaves = (): string => {
          switch (Math.floor(rand() * 5)) {
            case 0:
              return `num == ${Math.floor(rand() * 5)}`;
            case 1:
              return `kind == "${pick(['x', 'y', 'z'])}"`;
            case 2:
              return `aRef == @${pick(ids)}`;
            case 3:
              return `id == @p:${pick(ids)}`;
            default:
              return `dis == "${pick(ids)}"`;
          }
        };
        let planned = 0;
        for (let i = 0; i < 300; i++) {
          const hops = Array.from({ length: 1 + Math.floor(rand() * 2) }, () => pick(tagsOf));
          let filter = `${hops.join('->')}->${leaves()}`;
          if (rand() < 0.3) filter = `site and ${filter}`;
          if (rand() < 0.1) filter = `ts->date == 2024-01-01 and ${filter}`;
          const plan = folio.explain(filter);
          if (plan.kind === 'path') planned++;
          const got = (await folio.readAllList(filter)).map((d) => (d.get('id') as HRef).value);
          const want = (await folio.readAllList(filter, { forceScan: true })).map((d) => (d.get('id') as HRef).value);
          expect(got, `${filter} (plan ${plan.kind})`).toEqual(want);
        }
        // the test means something only if many filters took the path plan and some did not
        expect(planned).toBeGreaterThan(60);
        expect(planned).toBeLessThan(300);
        expect(folio.explain('aRef->num == 1').kind).toBe('path');
        expect(folio.explain('cRef->num == 1').kind).not.toBe('path'); // some cRef is a Dict
      } finally {
        await folio.close();
      }
    });
  });
}
