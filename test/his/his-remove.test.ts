// A removed record takes its history with it (the keys go, and a new record with the same id
// starts empty); trashing keeps it.
import { beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { Diff } from '../../src/index.js';
import { freshFolio, m, none, useFolio } from '../harness/folio.js';
import { hisBackends } from './hisBackends.js';
import { addPoint, item, num, T0, H } from './his-helpers.js';
import type { HDict, HRef } from 'haystack-core';

for (const hb of hisBackends()) {
  describe.skipIf(!hb.backend.available)(`[${hb.label}] history of removed records`, () => {
    const ctx = useFolio(hb.backend);
    beforeEach(async () => {
      await freshFolio(ctx);
    });

    it('trash keeps history; remove deletes every history key of the point', async () => {
      const f = ctx.folio;
      const p = await addPoint(f);
      const id = p.get('id') as HRef;
      await f.his.write(id, [item(T0, num(1)), item(T0 + H, num(2))]);
      const trashed = (await f.commit(new Diff(p, { trash: m }))).newRec as HDict;
      const back = (await f.commit(new Diff(trashed, { trash: none }))).newRec as HDict;
      expect((await f.his.read(id)).length).toBe(2);

      const r = new Redis(ctx.url);
      try {
        const pattern = `hxhis:\\{${f.name}:*`;
        const before = await r.keys(pattern);
        expect(before.length).toBeGreaterThan(0);
        await f.commit(new Diff(back, null, Diff.remove));
        expect(await r.keys(pattern)).toEqual([]);
      } finally {
        r.disconnect();
      }
    });
  });
}
