// Two folios with different names on one database share nothing: not records, not indexes, not
// curVer, not the change stream.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { HMarker } from 'haystack-core';
import { Diff, RedisFolio } from '../../src/index.js';
import { FolioKeys } from '../../src/storage/keys.js';
import { backends } from '../harness/backends.js';
import { uniqueName, type TestRedis } from '../harness/redis.js';

async function keysOf(r: Redis, pattern: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await r.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    out.push(...batch);
  } while (cursor !== '0');
  return out.sort();
}

for (const backend of backends()) {
  describe.skipIf(!backend.available)(`[${backend.name}] folio namespaces`, () => {
    let redis: TestRedis;
    beforeAll(async () => {
      redis = await backend.start();
    });
    afterAll(async () => {
      await redis?.stop();
    });

    it('two names on one database share no key, record, index, curVer or change', async () => {
      const [na, nb] = [uniqueName('ns-a'), uniqueName('ns-b')];
      const a = await RedisFolio.open({ url: redis.url, name: na });
      const b = await RedisFolio.open({ url: redis.url, name: nb });
      const r = new Redis(redis.url);
      try {
        await a.commitAll([Diff.makeAdd({ dis: 'A1', site: HMarker.make() }, 'x'), Diff.makeAdd({ dis: 'A2', site: HMarker.make() })]);
        await b.commit(Diff.makeAdd({ dis: 'B1', site: HMarker.make() }, 'x')); // same id, other folio
        await a.sync();
        await b.sync();
        expect((await a.readAllList('site')).map((d) => d.get('dis')?.toString()).sort()).toEqual(['A1', 'A2']);
        expect((await b.readAllList('site')).map((d) => d.get('dis')?.toString())).toEqual(['B1']);
        expect((await a.readById('x'))?.get('dis')?.toString()).toBe('A1');
        expect((await b.readById('x'))?.get('dis')?.toString()).toBe('B1');
        expect(await a.curVer()).toBe(1);
        expect(await b.curVer()).toBe(1);
        const ka = await keysOf(r, new FolioKeys(na).pattern);
        const kb = await keysOf(r, new FolioKeys(nb).pattern);
        expect(ka.length).toBeGreaterThan(0);
        expect(kb.length).toBeGreaterThan(0);
        expect(ka.filter((k) => kb.includes(k))).toEqual([]);
        // every key of a folio carries its hash tag, so one cluster slot holds them all
        expect(ka.every((k) => k.startsWith(`{hx:${na}}:`))).toBe(true);
      } finally {
        r.disconnect();
        await a.close();
        await b.close();
      }
    });
  });
}
