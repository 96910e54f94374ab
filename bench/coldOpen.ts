// Child process of the folio suite: times RedisFolio.open in a fresh process (cold JIT, cold module
// state) and prints {"openMs": ..., "count": ...} on stdout.
// Usage: node --import tsx bench/coldOpen.ts <redis-url> <folio-name>
import { RedisFolio } from '../src/index.js';

const [url, name] = process.argv.slice(2);
if (!url || !name) {
  console.error('usage: coldOpen.ts <redis-url> <folio-name>');
  process.exit(2);
}
const t = performance.now();
const folio = await RedisFolio.open({ url, name });
const openMs = performance.now() - t;
// every record is live, so `not trash` counts them all (the count is not timed)
const count = await folio.readCount('not trash');
await folio.close();
process.stdout.write(JSON.stringify({ openMs, count }));
