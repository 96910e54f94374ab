// Runs once before the suite: says in one line which Redis backends the run has.
import { findRedisServer } from './redis.js';

export default function setup(): void {
  const parts: string[] = [];
  if (process.env.REDIS_URL) parts.push(`REDIS_URL=${process.env.REDIS_URL}`);
  else if (findRedisServer()) parts.push('redis-server (own processes on loopback)');
  else parts.push('no redis-server: real-Redis cases are skipped');
  console.log(`[hxredis tests] backends: ${parts.join(', ')}`);
}
