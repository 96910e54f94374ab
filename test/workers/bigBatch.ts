// Child process of the atomicity test: commits one batch of N adds and says when it starts, so
// the parent can SIGKILL it mid-flight.
import { HMarker, HNum, HRef } from 'haystack-core';
import { Diff, RedisFolio } from '../../src/index.js';

const [url, name, countArg, tag] = process.argv.slice(2);
const folio = await RedisFolio.open({ url: url as string, name: name as string });
const diffs = Array.from({ length: Number(countArg) }, (_, i) =>
  Diff.makeAdd({ dis: `rec ${i}`, point: HMarker.make(), [tag as string]: HMarker.make(), num: HNum.make(i), siteRef: HRef.make('s1') }),
);
process.stdout.write('committing\n');
await folio.commitAll(diffs);
process.stdout.write('committed\n');
await folio.close();
