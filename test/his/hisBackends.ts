// The history test matrix: the folio backends (real Redis = sorted-set path, embedded engine = TS
// path) plus Redis Stack (RedisTimeSeries itself) where REDIS_STACK_URL is set or Docker answers.
import { spawnSync } from 'node:child_process';
import { backends, type Backend } from '../harness/backends.js';
import type { TestRedis } from '../harness/redis.js';

export interface HisBackendCase {
  /** the folio backend, for useFolio */
  backend: Backend;
  /** label in test names */
  label: string;
  /** the history backend the point layout should use for numbers */
  expect: 'timeseries' | 'zset';
}

let dockerOk: boolean | undefined;
function docker(): boolean {
  dockerOk ??= spawnSync('docker', ['info'], { encoding: 'utf8', timeout: 5000 }).status === 0;
  return dockerOk;
}

export function hisBackends(): HisBackendCase[] {
  const out: HisBackendCase[] = backends().map((b) => ({
    backend: b,
    label: b.name === 'redis' ? 'redis (zset)' : 'engine (timeseries)',
    expect: b.name === 'redis' ? 'zset' : 'timeseries',
  }));
  const url = process.env.REDIS_STACK_URL;
  const hasDocker = !url && docker();
  const stack: Backend = {
    name: 'redis',
    available: Boolean(url) || hasDocker,
    why: 'no Redis Stack: set REDIS_STACK_URL=redis://host:port or run a Docker engine (redis/redis-stack-server)',
    start: async (): Promise<TestRedis> => {
      if (url) return { url, kind: 'env', stop: async () => {} };
      const { GenericContainer } = await import('testcontainers');
      const c = await new GenericContainer('redis/redis-stack-server:latest').withExposedPorts(6379).start();
      return { url: `redis://${c.getHost()}:${c.getMappedPort(6379)}`, kind: 'testcontainers', stop: async () => void (await c.stop()) };
    },
  };
  out.push({ backend: stack, label: 'redis-stack (timeseries)', expect: 'timeseries' });
  return out;
}
