// The test matrix: every folio/history suite runs once per backend, each case named by it.
// "redis" is a real Redis (REDIS_URL, our own redis-server, or testcontainers);
// "engine" is hxredis's embedded engine (added by the engine issue).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEngine } from '../../src/engine/index.js';
import { findRedisServer, getTestRedis, NO_REDIS_HELP, type TestRedis } from './redis.js';

export interface Backend {
  name: 'redis' | 'engine';
  available: boolean;
  /** why it is skipped, printed once */
  why?: string;
  start(): Promise<TestRedis>;
}

export function backends(): Backend[] {
  const redisAvailable = Boolean(process.env.REDIS_URL) || findRedisServer() !== null;
  const list: Backend[] = [
    {
      name: 'redis',
      available: redisAvailable,
      why: redisAvailable ? undefined : NO_REDIS_HELP,
      start: getTestRedis,
    },
    {
      name: 'engine',
      available: true,
      start: startTestEngine,
    },
  ];
  return list;
}

/** The embedded engine in this process, on a SQLite file of its own (WAL, as users run it). */
async function startTestEngine(): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'hxredis-engine-'));
  const engine = await startEngine({ path: join(dir, 'engine.db') });
  return {
    url: engine.url,
    kind: 'engine',
    stop: async () => {
      await engine.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
