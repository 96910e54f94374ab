// The test matrix: every folio/history suite runs once per backend, each case named by it.
// "redis" is a real Redis (REDIS_URL, our own redis-server, or testcontainers);
// "engine" is hxredis's embedded engine (added by the engine issue).
import { findRedisServer, getTestRedis, NO_REDIS_HELP, type TestRedis } from './redis.js';

export interface Backend {
  name: 'redis' | 'engine';
  available: boolean;
  /** why it is skipped, printed once */
  why?: string;
  start(): Promise<TestRedis>;
}

const skipped = new Set<string>();
function noteSkip(b: Backend): void {
  if (b.available || skipped.has(b.name)) return;
  skipped.add(b.name);
  console.log(`[hxredis tests] skipping backend ${b.name}: ${b.why}`);
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
  ];
  list.forEach(noteSkip);
  return list;
}
