// Entry point: `node dist/src/cli/run.js ...` or `tsx src/cli/run.ts ...` (bin/hxredis.js does the same).
import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`hxredis: error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
