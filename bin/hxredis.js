#!/usr/bin/env node
// The hxredis command line. `npm ci` builds dist/ (the `prepare` script).
import { main } from '../dist/src/cli/main.js';

// exit once stdout/stderr are flushed: a closed folio may leave client timers running for a while
const exit = (code) => {
  process.exitCode = code;
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
};
main(process.argv.slice(2)).then(exit, (e) => {
  process.stderr.write(`hxredis: error: ${e instanceof Error ? e.message : String(e)}\n`);
  exit(1);
});
