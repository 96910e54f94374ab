// Dropping a bench run's keys (untimed): SCAN for a pattern, UNLINK what it finds.
import type { Redis } from 'ioredis';

export async function unlinkMatching(c: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await c.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await c.unlink(...keys);
  } while (cursor !== '0');
}
