// `npm run bench [suite] [--records N] [--quick] [--redis URL] [--out DIR] [--baseline] [--seed N]`
//
// Runs one benchmark suite against one Redis (a throwaway local redis-server unless --redis is given),
// prints a table (name, value, unit, ratio, target, pass) and writes the results as JSON to
// <out>/<ISO timestamp>-<suite>.json (and <out>/baseline.json with --baseline). See docs/benchmarks.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startRedisServer } from '../test/harness/redis.js';
import { DEFAULT_SEED } from './generate.js';
import type { BenchContext, BenchResult, Suite } from './suite.js';

/** Suite name -> loader. Other suites (his, engine) live in bench/<name>.ts and export `runSuite`. */
const SUITES: Record<string, () => Promise<Suite>> = {
  folio: async () => (await import('./folio.js')).runSuite,
  his: () => externalSuite('his'),
  engine: () => externalSuite('engine'),
  codec: () => externalSuite('codec'),
};

/** Default --records of suites that run more than one backend (the engine suite runs folio twice). */
const DEFAULT_RECORDS: Record<string, number> = { engine: 20_000 };

async function externalSuite(name: string): Promise<Suite> {
  const path = `./${name}.js`; // a variable, so tsc does not require the module to exist yet
  let mod: { runSuite?: Suite };
  try {
    mod = (await import(path)) as { runSuite?: Suite };
  } catch (e) {
    throw new Error(`suite "${name}": cannot load bench/${name}.ts: ${(e as Error).message}`, { cause: e });
  }
  if (typeof mod.runSuite !== 'function') throw new Error(`suite "${name}": bench/${name}.ts does not export runSuite(ctx)`);
  return mod.runSuite;
}

interface Args {
  suite: string;
  records: number;
  quick: boolean;
  redis?: string;
  out: string;
  baseline: boolean;
  seed: number;
}

const USAGE =
  'usage: npm run bench -- [suite] [--records N] [--quick] [--redis URL] [--out DIR] [--baseline] [--seed N] [--scale PxS (his)]';

function parseArgs(argv: string[]): Args {
  const a: Args = { suite: 'folio', records: 100_000, quick: false, out: 'bench/results', baseline: false, seed: DEFAULT_SEED };
  let records: number | undefined;
  const value = (i: number, flag: string): string => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value\n${USAGE}`);
    return v;
  };
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    switch (arg) {
      case '--records':
        records = Number(value(i++, arg));
        if (!Number.isInteger(records) || records < 100) throw new Error('--records must be an integer >= 100');
        break;
      case '--redis':
        a.redis = value(i++, arg);
        break;
      case '--out':
        a.out = value(i++, arg);
        break;
      case '--seed':
        a.seed = Number(value(i++, arg));
        break;
      case '--scale':
        // the his suite's size, <points>x<samples> (e.g. 100000x100000, the documented long run);
        // handed over as HIS_SCALE, which bench/his.ts reads
        process.env.HIS_SCALE = value(i++, arg);
        break;
      case '--quick':
        a.quick = true;
        break;
      case '--baseline':
        a.baseline = true;
        break;
      case '--help':
      case '-h':
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        if (arg.startsWith('--')) throw new Error(`unknown option ${arg}\n${USAGE}`);
        positional.push(arg);
    }
  }
  if (positional.length > 1) throw new Error(`one suite at a time\n${USAGE}`);
  if (positional[0]) a.suite = positional[0];
  a.records = records ?? (a.quick ? 10_000 : (DEFAULT_RECORDS[a.suite] ?? 100_000));
  return a;
}

function printTable(rows: BenchResult[]): void {
  const cells = rows.map((r) => [
    r.name,
    String(r.value),
    r.unit,
    r.ratio === undefined ? '' : `${r.ratio}x`,
    r.target ?? '',
    r.pass === undefined ? '' : r.pass ? 'PASS' : 'FAIL',
  ]);
  const head = ['name', 'value', 'unit', 'ratio', 'target', 'pass'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  const line = (c: string[]) =>
    c.map((x, i) => (i === 1 || i === 3 ? x.padStart(widths[i] as number) : x.padEnd(widths[i] as number))).join('  ').trimEnd();
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const c of cells) console.log(line(c));
}

async function redisVersion(url: string): Promise<string> {
  const c = new Redis(url, { lazyConnect: true });
  await c.connect();
  try {
    const info = await c.info('server');
    return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  } finally {
    c.disconnect();
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const load = SUITES[args.suite] ?? (() => externalSuite(args.suite));
  const suite = await load();
  const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
  const server = args.redis ? undefined : await startRedisServer();
  const url = args.redis ?? (server?.url as string);
  const startedAt = new Date();
  try {
    const version = await redisVersion(url);
    log(`suite ${args.suite}, ${args.records} records, redis ${version} at ${url}${server ? ' (local redis-server)' : ''}`);
    const ctx: BenchContext = {
      url,
      records: args.records,
      quick: args.quick,
      seed: args.seed,
      runId: `${startedAt.getTime().toString(36)}-${process.pid}`,
      log,
    };
    const t = performance.now();
    const results = await suite(ctx);
    const seconds = (performance.now() - t) / 1000;
    printTable(results);
    const failed = results.filter((r) => r.pass === false).map((r) => r.name);
    console.log(`\n${results.length} results in ${seconds.toFixed(1)} s; ${failed.length ? `targets missed: ${failed.join(', ')}` : 'all targets met'}`);

    const json = {
      suite: args.suite,
      startedAt: startedAt.toISOString(),
      node: process.version,
      redisVersion: version,
      records: args.records,
      quick: args.quick,
      seed: args.seed,
      platform: `${process.platform}-${process.arch}`,
      durationSeconds: Math.round(seconds * 10) / 10,
      results,
    };
    mkdirSync(args.out, { recursive: true });
    const file = join(args.out, `${startedAt.toISOString().replace(/[:.]/g, '-')}-${args.suite}.json`);
    writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
    console.log(`results: ${file}`);
    if (args.baseline) {
      const base = join(args.out, 'baseline.json');
      writeFileSync(base, `${JSON.stringify(json, null, 2)}\n`);
      console.log(`baseline: ${base}`);
    }
  } finally {
    await server?.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
});
