// Child process of the lost-update test: W concurrent writers run read-modify-write increments on
// shared records for a fixed number of attempts, then print one JSON line: successes per record
// and every failure's error class.
import { HNum } from 'haystack-core';
import { Diff, RedisFolio, ConcurrentChangeError } from '../../src/index.js';

const [url, name, writersArg, attemptsArg, idsArg] = process.argv.slice(2);
const ids = (idsArg ?? '').split(',');
const writers = Number(writersArg);
const attempts = Number(attemptsArg);

const folio = await RedisFolio.open({ url: url as string, name: name as string });
const successes: Record<string, number> = {};
const failures: Record<string, number> = {};
let seed = process.pid;
const rand = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};

async function writer(): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    const id = ids[Math.floor(rand() * ids.length)] as string;
    const rec = await folio.readById(id);
    const counter = (rec?.get('counter') as HNum).value;
    try {
      await folio.commit(new Diff(rec ?? null, { counter: HNum.make(counter + 1) }));
      successes[id] = (successes[id] ?? 0) + 1;
    } catch (e) {
      const cls = e instanceof ConcurrentChangeError ? 'ConcurrentChangeError' : `${(e as Error).name}: ${(e as Error).message}`;
      failures[cls] = (failures[cls] ?? 0) + 1;
      // a stale cache is the usual cause: catch up before the next attempt
      await folio.sync();
    }
  }
}

await Promise.all(Array.from({ length: writers }, () => writer()));
await folio.close();
process.stdout.write(JSON.stringify({ successes, failures }) + '\n');
