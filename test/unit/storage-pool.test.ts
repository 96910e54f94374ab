// acquireCommitConn over a generic-pool whose first connection attempt fails: every waiting caller
// gets that error at once, and the pool is not left exhausted by the requests they abandoned.
import genericPool from 'generic-pool';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { acquireCommitConn, type CommitPool } from '../../src/storage/connection.js';

describe('acquireCommitConn', () => {
  it('callers rejected by a create error do not keep the connections made afterwards', async () => {
    let made = 0;
    const pool = genericPool.createPool<{ status: string }>(
      {
        create: async () => {
          const k = made++;
          await new Promise((r) => setTimeout(r, 10 + k));
          if (k === 0) throw new Error('connect ECONNREFUSED');
          return { status: 'ready' };
        },
        destroy: async () => undefined,
      },
      { max: 4, min: 0, acquireTimeoutMillis: 1000 },
    ) as unknown as CommitPool;
    pool.setMaxListeners(0);
    const first = await Promise.allSettled(Array.from({ length: 6 }, () => acquireCommitConn(pool)));
    expect(first.every((r) => r.status === 'rejected')).toBe(true);
    await new Promise((r) => setTimeout(r, 200)); // the pool's retries complete meanwhile
    expect(pool.borrowed).toBe(0);
    // the pool still lends all its connections
    const again = await Promise.all(Array.from({ length: 4 }, () => acquireCommitConn(pool)));
    expect(again.every((c) => (c as unknown as { status: string }).status === 'ready')).toBe(true);
    for (const c of again) await pool.release(c as Redis);
    await pool.drain();
    await pool.clear();
  });
});
