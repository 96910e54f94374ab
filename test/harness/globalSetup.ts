// Runs once before the suite and says, in one line, which backends the run has and what it skips.
import { spawnSync } from 'node:child_process';
import { findRedisServer } from './redis.js';

export default function setup(): void {
  const ran = ['embedded engine'];
  const skipped: string[] = [];
  if (process.env.REDIS_URL) ran.push(`Redis at REDIS_URL`);
  else if (findRedisServer()) ran.push('redis-server (own processes on loopback)');
  else skipped.push('real-Redis cases (no redis-server: apt-get install -y redis-server, or set REDIS_URL)');
  const docker = spawnSync('docker', ['info'], { encoding: 'utf8', timeout: 5000 }).status === 0;
  if (process.env.REDIS_STACK_URL || docker) ran.push('Redis Stack');
  else skipped.push('Redis Stack history cases (set REDIS_STACK_URL or run a Docker engine)');
  if (spawnSync('openssl', ['version']).status !== 0) skipped.push('TLS URL test (no openssl to make a certificate)');
  console.log(`[hxredis tests] backends: ${ran.join(', ')}; skipped: ${skipped.length ? skipped.join('; ') : 'nothing'}`);
}
