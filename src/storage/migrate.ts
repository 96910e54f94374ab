// Key layout migrations, run by RedisFolio.open when a folio's meta names an older layout.
import type { Redis } from 'ioredis';
import { LoadError } from '../folio/errors.js';
import type { FolioKeys } from './keys.js';

/**
 * Layout 1 -> 2: every history key `hxhis:<name>:{<name>:<id>}:<suffix>` is renamed to
 * `hxhis:{<name>:<id>}:<suffix>`. The hash tag is unchanged, so old and new name share a slot
 * (RENAME works on a cluster too). RENAMENX, so nothing is overwritten: a point holding keys under
 * both names stops the open with a LoadError naming them. Rerunnable: after a crash the next open
 * renames what is left, and two processes opening at once rename disjoint keys (one's RENAMENX of
 * a key the other moved finds no key and is skipped). Meta moves to 2 only after the scan has
 * covered the whole keyspace. Processes still running older hxredis must be stopped first: they
 * would keep writing layout 1 names.
 * Returns the number of keys renamed.
 */
export async function migrateLayout1to2(main: Redis, keys: FolioKeys): Promise<number> {
  let cursor = '0';
  let moved = 0;
  do {
    const [next, found] = await main.scan(cursor, 'MATCH', keys.hisPatternV1, 'COUNT', 1000);
    cursor = next;
    const pairs: [string, string][] = [];
    for (const k of found) {
      const nk = keys.hisKeyFromV1(k);
      if (nk) pairs.push([k, nk]);
    }
    if (pairs.length === 0) continue;
    const pipe = main.pipeline();
    for (const [k, nk] of pairs) pipe.renamenx(k, nk);
    const res = (await pipe.exec()) ?? [];
    res.forEach(([err, r], i) => {
      const [k, nk] = pairs[i] as [string, string];
      if (err) {
        if (/no such key/i.test(err.message)) return; // moved by a concurrent open
        throw err;
      }
      if (r === 0) throw new LoadError(`Folio ${keys.name}: key layout 1 -> 2: both ${k} and ${nk} exist; remove one and open again`);
      moved++;
    });
  } while (cursor !== '0');
  await main.hset(keys.meta, 'layout', '2');
  return moved;
}
