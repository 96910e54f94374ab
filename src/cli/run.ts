// Entry point: `node dist/src/cli/run.js ...` or `tsx src/cli/run.ts ...` (bin/hxredis.js does the same).
import { main } from './main.js';

/** Exits once stdout and stderr are flushed: a closed folio may leave client timers behind for a while. */
export function exitWith(code: number): void {
  process.exitCode = code;
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

main(process.argv.slice(2)).then(exitWith, (e: unknown) => {
  process.stderr.write(`hxredis: error: ${e instanceof Error ? e.message : String(e)}\n`);
  exitWith(1);
});
