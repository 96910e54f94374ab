// The `codec` suite: the record-encoding measurement behind docs/redis-layout.md. Encodes and
// decodes the generated model's records as Hayson JSON (what storage/codec.ts writes) and as Zinc,
// so the choice can be re-checked on any machine: `npm run bench -- codec`.
import { HDict, HRef, ZincReader } from 'haystack-core';
import { decodeRec, encodeRec } from '../src/storage/codec.js';
import { generateModel } from './generate.js';
import { median, round } from './stats.js';
import type { BenchResult, Suite } from './suite.js';

export const runSuite: Suite = async (ctx) => {
  const n = Math.min(ctx.records, 20_000);
  const recs = generateModel(n, ctx.seed).recs.map((r) => HDict.make({ id: HRef.make(r.id), ...r.tags.toObj() }));
  const out: BenchResult[] = [];
  const time = (f: () => void) => {
    const runs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      f();
      runs.push(performance.now() - t);
    }
    return (median(runs) * 1000) / recs.length; // µs per record
  };
  let hayson: string[] = [];
  let zinc: string[] = [];
  const encH = time(() => (hayson = recs.map((r) => encodeRec(r, undefined))));
  const decH = time(() => hayson.forEach((s) => decodeRec(s, undefined)));
  const encZ = time(() => (zinc = recs.map((r) => r.toZinc())));
  const decZ = time(() => zinc.forEach((s) => ZincReader.readValue(s)));
  const bytes = (l: string[]) => l.reduce((a, s) => a + Buffer.byteLength(s), 0) / l.length;
  out.push({ name: 'codec.hayson.encode', value: round(encH), unit: 'us/rec' });
  out.push({ name: 'codec.hayson.decode', value: round(decH), unit: 'us/rec', ratio: round(decZ / decH), note: 'ratio = zinc decode / hayson decode' });
  out.push({ name: 'codec.hayson.bytes', value: round(bytes(hayson)), unit: 'B/rec' });
  out.push({ name: 'codec.zinc.encode', value: round(encZ), unit: 'us/rec' });
  out.push({ name: 'codec.zinc.decode', value: round(decZ), unit: 'us/rec' });
  out.push({ name: 'codec.zinc.bytes', value: round(bytes(zinc)), unit: 'B/rec' });
  ctx.log(`codec: ${recs.length} records`);
  return out;
};
