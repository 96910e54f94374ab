// Several processes on one folio: no lost update, all-or-nothing batches under kills, and
// commits of one process visible to another (spec: issue "Several processes on one folio").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { HMarker, HNum, type HDict, type HRef } from 'haystack-core';
import { ConcurrentChangeError, Diff, RedisFolio, StorageError } from '../../src/index.js';
import { FolioKeys } from '../../src/storage/keys.js';
import { backends } from '../harness/backends.js';
import { runWorker, spawnWorker } from '../harness/child.js';
import { uniqueName, type TestRedis } from '../harness/redis.js';

for (const backend of backends()) {
  describe.skipIf(!backend.available)(`[${backend.name}] several processes on one folio`, () => {
    let redis: TestRedis;
    beforeAll(async () => {
      redis = await backend.start();
    });
    afterAll(async () => {
      await redis?.stop();
    });

    it('lost-update: 2 processes x 4 writers, counters equal successful commits', async () => {
      const name = uniqueName('lost');
      const folio = await RedisFolio.open({ url: redis.url, name });
      const recs = await folio.commitAll(
        Array.from({ length: 20 }, (_, i) => Diff.makeAdd({ dis: `c${i}`, counter: HNum.make(0) })),
      );
      const ids = recs.map((d) => d.id.value);
      const verBefore = await folio.curVer();
      const outs = await Promise.all([
        runWorker('lostUpdate', [redis.url, name, '4', '60', ids.join(',')]),
        runWorker('lostUpdate', [redis.url, name, '4', '60', ids.join(',')]),
      ]);
      const results = outs.map((o) => JSON.parse(o.trim().split('\n').pop() as string) as {
        successes: Record<string, number>;
        failures: Record<string, number>;
      });
      let totalSuccess = 0;
      let totalConflicts = 0;
      for (const r of results) {
        // every failed commit was a ConcurrentChangeError, nothing else
        expect(Object.keys(r.failures).filter((k) => k !== 'ConcurrentChangeError')).toEqual([]);
        totalConflicts += r.failures.ConcurrentChangeError ?? 0;
      }
      await folio.sync();
      for (const id of ids) {
        const expected = results.reduce((a, r) => a + (r.successes[id] ?? 0), 0);
        totalSuccess += expected;
        const rec = (await folio.readById(id)) as HDict;
        expect((rec.get('counter') as HNum).value, `counter of ${id}`).toBe(expected);
      }
      expect(totalSuccess + totalConflicts).toBe(2 * 4 * 60);
      expect(totalSuccess).toBeGreaterThan(0);
      // curVer moved once per successful commit
      expect((await folio.curVer()) - verBefore).toBe(totalSuccess);
      await folio.close();
    });

    it('atomicity: a 1,000-diff batch killed by SIGKILL mid-flight is all or nothing, indexes included', async () => {
      const outcomes: number[] = [];
      for (const delayMs of [0, 5, 20, 60, 150]) {
        const name = uniqueName('kill');
        const child = spawnWorker('bigBatch', [redis.url, name, '1000', 'killTag']);
        // listen for the exit from the start: a fast worker may finish before the kill
        const exited = new Promise((r) => child.once('exit', r));
        await new Promise<void>((resolve, reject) => {
          child.stdout?.on('data', (d: Buffer) => {
            if (d.toString().includes('committing')) resolve();
          });
          child.on('exit', () => reject(new Error('worker exited before committing')));
        });
        await new Promise((r) => setTimeout(r, delayMs));
        child.kill('SIGKILL');
        await exited;
        const n = await checkAllOrNothing(redis.url, name, 1000);
        outcomes.push(n);
      }
      // each run is all or nothing (checked inside); report what the kills hit
      expect(outcomes.every((n) => n === 0 || n === 1000)).toBe(true);
    });

    it('atomicity: CLIENT KILL of the commit connection mid-batch leaves all or nothing', async () => {
      const name = uniqueName('ckill');
      const folio = await RedisFolio.open({ url: redis.url, name });
      const admin = new Redis(redis.url);
      const diffs = Array.from({ length: 1000 }, (_, i) =>
        Diff.makeAdd({ dis: `r${i}`, point: HMarker.make(), num: HNum.make(i) }),
      );
      let killed = 0;
      const killer = (async () => {
        for (let i = 0; i < 400 && killed === 0; i++) {
          const list = (await admin.client('LIST')) as string;
          for (const line of list.split('\n')) {
            if (!line.includes('name=hxredis:commit')) continue;
            const id = /\bid=(\d+)/.exec(line)?.[1];
            if (id && /cmd=(multi|exec|sadd|set|srem|incr|xadd|mget|watch)/.test(line)) {
              await admin.client('KILL', 'ID', id);
              killed++;
            }
          }
          await new Promise((r) => setTimeout(r, 1));
        }
      })();
      const res = await folio.commitAll(diffs).then(
        () => 'ok',
        (e: Error) => e,
      );
      await killer;
      if (res !== 'ok') expect(res).toBeInstanceOf(StorageError);
      await folio.close();
      await admin.quit();
      await checkAllOrNothing(redis.url, name, 1000);
    });

    it('40 concurrent commits on a pool of 2 connections all apply, with no listener-leak warning', async () => {
      const name = uniqueName('pool');
      const f = await RedisFolio.open({ url: redis.url, name, poolSize: 2 });
      const warnings: string[] = [];
      const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
      process.on('warning', onWarning);
      try {
        const recs = await f.commitAll(Array.from({ length: 40 }, (_, i) => Diff.makeAdd({ dis: `w${i}`, n: HNum.make(0) })));
        const out = await Promise.all(recs.map((d) => f.commit(new Diff(d.newRec as HDict, { n: HNum.make(1) }))));
        expect(out.every((d) => (d.newRec?.get('n') as HNum).value === 1)).toBe(true);
        expect(await f.readCount('n == 1')).toBe(40);
        await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
        expect(warnings.filter((w) => w.includes('MaxListeners'))).toEqual([]);
      } finally {
        process.off('warning', onWarning);
        await f.close();
      }
    });

    it("a commit is checked against Redis's record, not the cached one, when the two differ", async () => {
      // commits build their transaction from the cache while the WATCH/MGET reply is on its way;
      // a record changed in Redis behind the cache's back (no stream entry) must void that build
      const name = uniqueName('behind');
      const f = await RedisFolio.open({ url: redis.url, name, feedBlockMs: 60_000 });
      const rec = (await f.commit(Diff.makeAdd({ dis: 'p', n: HNum.make(1), point: HMarker.make() }))).newRec as HDict;
      const keys = new FolioKeys(name);
      const raw = new Redis(redis.url);
      try {
        const relId = (rec.get('id') as HRef).value;
        const stored = JSON.parse((await raw.get(keys.rec(relId))) as string) as Record<string, unknown>;
        const newer = { ...stored, other: 'set elsewhere', mod: { _kind: 'dateTime', val: '2099-01-01T00:00:00Z', tz: 'UTC' } };
        await raw.set(keys.rec(relId), JSON.stringify(newer));
        // the cache still holds the old record: a diff made from it is stale in Redis
        await expect(f.commit(new Diff(rec, { n: HNum.make(2) }))).rejects.toBeInstanceOf(ConcurrentChangeError);
        // a forced diff applies to Redis's record: the tag written elsewhere survives
        const out = (await f.commit(new Diff(rec, { n: HNum.make(3) }, Diff.force))).newRec as HDict;
        expect(out.get('other')?.toString()).toBe('set elsewhere');
        expect((out.get('n') as HNum).value).toBe(3);
        const again = JSON.parse((await raw.get(keys.rec(relId))) as string) as Record<string, unknown>;
        expect(again.other).toBe('set elsewhere');
        expect((again.mod as { val: string }).val > '2099-01-01T00:00:00').toBe(true);
      } finally {
        await raw.quit();
        await f.close();
      }
    });

    it('a commit in one process is seen by another: at once after sync, within the feed bound without', async () => {
      const name = uniqueName('vis');
      const a = await RedisFolio.open({ url: redis.url, name });
      const b = await RedisFolio.open({ url: redis.url, name });
      const rec = (await a.commit(Diff.makeAdd({ dis: 'shared', n: HNum.make(1) }))).newRec as HDict;
      await b.sync();
      expect((await b.readById(rec.get('id') as never))?.get('dis')?.toString()).toBe('shared');
      // without sync: the change feed delivers it
      const t0 = Date.now();
      await a.commit(new Diff(rec, { n: HNum.make(2) }));
      let seen = false;
      while (Date.now() - t0 < 2000) {
        const r = await b.readById(rec.get('id') as never);
        if ((r?.get('n') as HNum).value === 2) {
          seen = true;
          break;
        }
        await new Promise((r) => setTimeout(r, 2));
      }
      expect(seen).toBe(true);
      // removal travels too
      const cur = (await a.readById(rec.get('id') as never)) as HDict;
      await a.commit(new Diff(cur, null, Diff.remove));
      await b.sync();
      expect(await b.readById(rec.get('id') as never, false)).toBeUndefined();
      expect(await b.readCount('dis')).toBe(0);
      await a.close();
      await b.close();
    });
  });
}

/** Asserts that exactly 0 or `count` recs of the batch exist, with every index consistent. */
async function checkAllOrNothing(url: string, name: string, count: number): Promise<number> {
  const keys = new FolioKeys(name);
  const r = new Redis(url);
  try {
    const all = await r.scard(keys.all);
    expect([0, count]).toContain(all);
    const recKeys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await r.scan(cursor, 'MATCH', `${keys.pattern}`, 'COUNT', 1000);
      cursor = next;
      recKeys.push(...batch);
    } while (cursor !== '0');
    const recs = recKeys.filter((k) => k.startsWith(`${keys.base}r:`));
    const indexes = recKeys.filter((k) => k.startsWith(`${keys.base}i:`));
    expect(recs.length).toBe(all);
    for (const idx of indexes) {
      const n = await r.scard(idx);
      // every index of this batch's tags holds all of its recs or none
      expect(n === all || n <= 1, `${idx} has ${n} of ${all}`).toBe(true);
    }
    if (all === count) {
      const point = indexes.find((k) => k.endsWith('point'));
      expect(point).toBeDefined();
    } else {
      expect(indexes).toEqual([]);
      expect(Number((await r.get(keys.ver)) ?? 0)).toBe(0);
    }
    // a fresh folio loads exactly that state
    const f = await RedisFolio.open({ url, name });
    expect(await f.readCount('point')).toBe(all);
    await f.close();
    return all;
  } finally {
    await r.quit();
  }
}
