// Connection handling: Redis down at open, lost later, back again; URLs and options.
import { describe, expect, it } from 'vitest';
import { HNum, type HDict } from 'haystack-core';
import { Diff, RedisFolio, StorageError, ArgError } from '../../src/index.js';
import { findRedisServer, freePort, startRedisServer, waitForPort } from '../harness/redis.js';
import { spawn } from 'node:child_process';

describe('connection URLs', () => {
  it('rejects a URL that is not redis:// or rediss://', async () => {
    await expect(RedisFolio.open({ url: 'http://127.0.0.1:1' })).rejects.toThrow(/Invalid Redis URL scheme http:/);
    await expect(RedisFolio.open({ url: 'not a url' })).rejects.toThrow(StorageError);
  });
  it('rejects an ioredis keyPrefix, which hxredis could not honour, before connecting', async () => {
    const err = await RedisFolio.open({ url: 'redis://127.0.0.1:1', redisOptions: { keyPrefix: 'x:' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArgError);
    expect(String((err as Error).message)).toMatch(/keyPrefix is not supported/);
  });
  it('rejects a folio name that cannot be a key namespace', async () => {
    await expect(RedisFolio.open({ url: 'redis://127.0.0.1:1', name: 'a{b}' })).rejects.toThrow(ArgError);
  });
  it('Redis down at open: a clear error naming the address, password redacted', async () => {
    const port = await freePort();
    const err = await RedisFolio.open({ url: `redis://user:secret@127.0.0.1:${port}/0` }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as Error).message).toContain(`Cannot connect to Redis at redis://user:***@127.0.0.1:${port}/0`);
    expect((err as Error).message).not.toContain('secret');
  });
});


describe.skipIf(!findRedisServer())('[redis] Redis lost and back', () => {
  it('operations fail with a clear error while Redis is away, work again after, caches in step', async () => {
    // appendonly, so the restarted server has the same data (as a real deployment would)
    const srv = await startRedisServer(['--appendonly', 'yes', '--appendfsync', 'always']);
    const folio = await RedisFolio.open({ url: srv.url, name: 'lost' });
    try {
      const a = (await folio.commit(Diff.makeAdd({ dis: 'A', n: HNum.make(1) }))).newRec as HDict;
      srv.proc.kill('SIGKILL');
      await new Promise((r) => srv.proc.once('exit', r));
      // every operation that needs Redis fails with a StorageError, within a bounded time
      const t0 = Date.now();
      const verErr = await folio.curVer().catch((e: Error) => e);
      expect(verErr).toBeInstanceOf(StorageError);
      const err = await folio.commit(new Diff(a, { n: HNum.make(2) })).catch((e: Error) => e);
      expect(err).toBeInstanceOf(StorageError);
      expect((err as Error).message).toMatch(/(Commit failed: Redis at|Cannot connect to Redis at) redis:\/\/127\.0\.0\.1:\d+/);
      expect(Date.now() - t0).toBeLessThan(12_000);
      // the failed commit left nothing behind locally
      expect(((await folio.readById(a.get('id') as never)) as HDict).get<HNum>('n')?.value).toBe(1);

      // Redis returns on the same port with the same data
      const again = spawn(
        'redis-server',
        ['--port', String(srv.port), '--bind', '127.0.0.1', '--dir', srv.dir, '--appendonly', 'yes', '--save', ''],
        { stdio: 'ignore' },
      );
      try {
        await waitForPort(srv.port);
        let ok: Diff | undefined;
        let last: unknown;
        for (let i = 0; i < 100 && !ok; i++) {
          ok = await folio.commit(new Diff(a, { n: HNum.make(3) })).catch((e: unknown) => {
            last = e;
            return undefined;
          });
          if (!ok) await new Promise((r) => setTimeout(r, 100));
        }
        expect(ok?.newRec?.get<HNum>('n')?.value, `last error: ${String(last)}`).toBe(3);
        await folio.sync();
        const fresh = await RedisFolio.open({ url: srv.url, name: 'lost' });
        expect((await fresh.readAllList('dis')).map((d) => d.toZinc())).toEqual(
          (await folio.readAllList('dis')).map((d) => d.toZinc()),
        );
        expect(await fresh.readCount('n == 3')).toBe(1);
        await fresh.close();
      } finally {
        await folio.close();
        again.kill('SIGKILL');
      }
    } finally {
      await srv.stop();
    }
  });
});

describe.skipIf(!findRedisServer())('[redis] Redis stalled', () => {
  it('a commit that gets no answer fails after commitTimeoutMs with a StorageError; later commits work', async () => {
    const srv = await startRedisServer(['--enable-debug-command', 'yes']);
    const folio = await RedisFolio.open({ url: srv.url, name: 'stall', commitTimeoutMs: 300 });
    const { Redis } = await import('ioredis');
    const admin = new Redis(srv.url);
    try {
      const a = (await folio.commit(Diff.makeAdd({ dis: 'A', n: HNum.make(1) }))).newRec as HDict;
      const sleeping = admin.call('DEBUG', 'SLEEP', '1.5'); // the server answers no one meanwhile
      await new Promise((r) => setTimeout(r, 50));
      const t0 = Date.now();
      const err = await folio.commit(new Diff(a, { n: HNum.make(2) })).catch((e: Error) => e);
      expect(err).toBeInstanceOf(StorageError);
      expect(Date.now() - t0).toBeLessThan(1200);
      await sleeping;
      // the stalled transaction was never applied, and the folio commits again
      await folio.sync();
      const cur = (await folio.readById(a.get('id') as never)) as HDict;
      expect(cur.get<HNum>('n')?.value).toBe(1);
      const ok = await folio.commit(new Diff(cur, { n: HNum.make(3) }));
      expect(ok.newRec?.get<HNum>('n')?.value).toBe(3);
    } finally {
      admin.disconnect();
      await folio.close();
      await srv.stop();
    }
  });
});
