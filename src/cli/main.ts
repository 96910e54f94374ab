// The hxredis command line: serve, import, export, his import, bench, engine.
// Exit codes: 0 done, 1 failed (the cause on one line), 2 bad usage.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HDict, HGrid, HRef, TrioWriter, type HVal } from 'haystack-core';
import { Diff } from '../folio/Diff.js';
import { tagRule } from '../folio/tagRules.js';
import { startEngine } from '../engine/index.js';
import { startServer } from '../server/server.js';
import { zincGrid } from '../server/zinc.js';
import { oneLine } from '../server/errors.js';
import { InputError, planImport, readRecordFile, type SourcedRecord } from './records.js';
import { importHisFiles } from './hisImport.js';
import { progressBar } from './progress.js';
import { demoDir, openStore, packageRoot, packageVersion, type Store } from './store.js';

class UsageError extends Error {}

const COMMON_STORE = `  --redis URL        use this Redis (redis://host:port/db) instead of the embedded engine
  --data DIR         embedded engine data directory (default ./hxredis-data)
  --name NAME        folio name (default demo)
  --id-prefix P      the folio's id prefix, such as p:demo:r: (default none)`;

const HELP: Record<string, string> = {
  main: `hxredis: a Project Haystack Folio on Redis, with a Haystack HTTP API

usage: hxredis <command> [options]

commands:
  serve              Haystack HTTP API server (embedded engine in ./hxredis-data, Carytown demo)
  import FILE...     import Zinc, Trio or Hayson JSON records, all or nothing
  export             write every record (or --filter) as Zinc, Trio or JSON
  his import FILE... import Zinc history grids (ts,val)
  bench              run the benchmark harness
  engine             run the embedded engine as a standalone Redis-compatible server

'hxredis <command> --help' describes each command. Exit codes: 0 ok, 1 failed, 2 bad usage.`,
  serve: `usage: hxredis serve [options]

Serves the Haystack HTTP API (ops under /api/{project}/{op}) over the embedded engine in
./hxredis-data, created if missing and loaded with the Carytown demo on first start, or over
--redis URL. Stops gracefully on Ctrl-C / SIGTERM.

options:
${COMMON_STORE}
  --host HOST        address to bind (default 127.0.0.1; non-loopback needs --token)
  --port N           port (default 8080, or a free one if 8080 is taken; 0 = a free port)
  --project NAME     project name in URLs (default: the folio name)
  --token T          require 'Authorization: Bearer T' (default: $HXREDIS_TOKEN)
  --demo             load the Carytown demo into an empty folio (the default with the embedded engine)
  --no-demo          never load the demo
  --max-body BYTES   largest request body (default 16777216)
  --quiet            no request log
  -h, --help         this help`,
  import: `usage: hxredis import [options] FILE...

Imports records from Zinc (.zinc), Trio (.trio) or JSON (.json: Hayson, or JSON v3) files. All or
nothing: every file is parsed and every record validated first, then everything is committed in
one atomic batch; a bad row anywhere means nothing is written and the error names the file, the
row and the problem. Ids in the files are kept. 'mod' and computed tags (hisSize, ...) are
dropped; transient-only tags (curVal, ...) are committed transiently.

options:
${COMMON_STORE}
  --format F         zinc, trio or json (default: by file extension)
  --upsert           update records that exist already (default: an existing id is an error)
  --dry-run          validate only
  -h, --help         this help`,
  export: `usage: hxredis export [options]

Writes records (not trash), sorted by id, as one Zinc grid, Trio or a Hayson JSON grid. 'mod' and
computed tags (hisSize, hisStart, hisEnd) are left out, so an export imports back as it was.

options:
${COMMON_STORE}
  --format F         zinc (default), trio or json
  --filter F         a Haystack filter (default: every record)
  -o, --out FILE     write to FILE (default: standard output)
  -h, --help         this help`,
  his: `usage: hxredis his import [options] FILE...

Imports Zinc history grids with 'ts' and 'val' columns. The point of a file is --point, the grid
meta 'id', the record whose 'hisURI' is the file name, or the record whose id is the file name
without .zinc. Timestamps are converted to the point's tz; unitless numbers take the point's unit;
numbers are turned into Bool/Str for Bool/Str points. Every file is checked before any is written.

options:
${COMMON_STORE}
  --point ID         the point (one file only)
  -h, --help         this help`,
  bench: `usage: hxredis bench [folio|his|engine|codec] [--records N] [--quick] [--redis URL] [--out DIR]
                     [--baseline] [--seed N] [--scale PxS]

Runs the benchmark harness (bench/run.ts, needs the repository's devDependencies). Without
--redis it starts a throwaway redis-server; pass --redis URL for Redis Stack. --scale sets the his
suite's points x samples (e.g. 100000x100000, the documented long run). See docs/benchmarks.md.`,
  engine: `usage: hxredis engine [options]

Runs the embedded engine (Redis-compatible, SQLite storage) as a standalone server. Prints its URL.

options:
  --data DIR         data directory (default ./hxredis-data; the database is DIR/engine.sqlite)
  --port N           port (default 6379; 0 = a free port)
  --host HOST        loopback address to bind (default 127.0.0.1)
  --password P       require AUTH P (default: $HXREDIS_ENGINE_PASSWORD)
  --memory           keep nothing on disk
  -h, --help         this help`,
};

const storeOpts = {
  redis: { type: 'string' },
  data: { type: 'string', default: 'hxredis-data' },
  name: { type: 'string', default: 'demo' },
  'id-prefix': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T, positionals = false) {
  try {
    return parseArgs({ args, options, allowPositionals: positionals, strict: true });
  } catch (e) {
    throw new UsageError(oneLine((e as Error).message));
  }
}

function intArg(v: string | undefined, name: string, min = 0): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min) throw new UsageError(`--${name} must be a whole number >= ${min}, not ${JSON.stringify(v)}`);
  return Number(v);
}

const out = (s: string): void => void process.stdout.write(`${s}\n`);
const info = (s: string): void => void process.stderr.write(`${s}\n`);

function storeFrom(v: { redis?: string; data?: string; name?: string; 'id-prefix'?: string }) {
  return { redis: v.redis, data: v.data ?? 'hxredis-data', name: v.name ?? 'demo', idPrefix: v['id-prefix'] };
}

// ---------------------------------------------------------------- import

export async function importFiles(
  store: Store,
  files: string[],
  opts: { format?: string; upsert?: boolean; dryRun?: boolean } = {},
): Promise<{ records: number; transient: number; dropped: number }> {
  const recs: SourcedRecord[] = [];
  for (const f of files) recs.push(...readRecordFile(f, opts.format));
  const folio = store.folio;
  const ids = recs.map((r) => r.dict.get('id')).filter((v): v is HRef => v instanceof HRef);
  const existing = new Map<string, HDict>();
  const idPrefix = folio.idPrefix;
  const found = await folio.readByIdsList(
    ids.map((r) => r.value),
    false,
  );
  found.forEach((rec) => {
    if (rec) existing.set((rec.get('id') as HRef).value, rec);
  });
  // trash is invisible to readById: an id in the trash would fail the add at commit time
  const bar = progressBar('validating', recs.length);
  const plan = planImport(recs, { idPrefix, existing, upsert: !!opts.upsert, onProgress: (n) => bar.update(n) });
  bar.done();
  if (opts.dryRun || plan.diffs.length === 0) return { records: plan.diffs.length, transient: plan.transient.size, dropped: plan.dropped };
  let done: Diff[];
  try {
    done = await folio.commitAll(plan.diffs);
  } catch (e) {
    const msg = (e as Error).message;
    const m = /Rec already exists: @?(\S+)/.exec(msg);
    const src = m ? recs.find((r) => (r.dict.get('id') as HRef | undefined)?.value === m[1]) : undefined;
    if (src) throw new InputError(src.file, src.row, `${msg} (in the trash?)`, src.line);
    throw new Error(`nothing imported: ${msg}`);
  }
  if (plan.transient.size) {
    const byId = new Map(done.map((d) => [d.id.value, d.newRec as HDict]));
    const tdiffs: Diff[] = [];
    for (const [id, tags] of plan.transient) {
      const rec = byId.get(idPrefix && !id.startsWith(idPrefix) ? idPrefix + id : id);
      if (rec) tdiffs.push(new Diff(rec, tags, Diff.forceTransient));
    }
    if (tdiffs.length) await folio.commitAll(tdiffs);
  }
  return { records: done.length, transient: plan.transient.size, dropped: plan.dropped };
}

async function cmdImport(args: string[]): Promise<void> {
  const { values: v, positionals } = parse(
    args,
    { ...storeOpts, format: { type: 'string' }, upsert: { type: 'boolean' }, 'dry-run': { type: 'boolean' } },
    true,
  );
  if (v.help) return out(HELP.import as string);
  if (positionals.length === 0) throw new UsageError('import needs at least one FILE');
  if (v.format && !['zinc', 'trio', 'json'].includes(v.format)) throw new UsageError(`--format must be zinc, trio or json`);
  const store = await openStore(storeFrom(v));
  try {
    const r = await importFiles(store, positionals, { format: v.format, upsert: v.upsert, dryRun: v['dry-run'] });
    out(
      `${v['dry-run'] ? 'validated' : 'imported'} ${r.records} records from ${positionals.length} file(s) into ${store.where}` +
        (r.transient ? ` (${r.transient} with transient tags)` : '') +
        (r.dropped ? ` (${r.dropped} computed tags dropped)` : ''),
    );
  } finally {
    await store.close();
  }
}

// ---------------------------------------------------------------- export

/** A record as exported: no `mod`, no computed never-tags. */
export function exportable(rec: HDict): HDict {
  const obj: Record<string, HVal> = {};
  for (const k of rec.keys) {
    if (k === 'mod' || (k !== 'id' && tagRule(k)?.kind === 'never')) continue;
    obj[k] = rec.get(k) as HVal;
  }
  return HDict.make(obj);
}

export async function exportRecords(store: Store, format: string, filter = 'id'): Promise<string> {
  const recs = (await store.folio.readAllList(filter)).map(exportable);
  recs.sort((a, b) => {
    const x = (a.get('id') as HRef).value;
    const y = (b.get('id') as HRef).value;
    return x < y ? -1 : x > y ? 1 : 0;
  });
  const names: string[] = ['id'];
  const seen = new Set(names);
  for (const r of recs) {
    for (const k of r.keys) {
      if (!seen.has(k)) {
        seen.add(k);
        names.push(k);
      }
    }
  }
  const grid = HGrid.make({ columns: names.map((name) => ({ name })), rows: recs });
  switch (format) {
    case 'zinc':
      return zincGrid(grid);
    case 'json':
      return `${JSON.stringify(grid.toJSON(), null, 1)}\n`;
    case 'trio': {
      const w = new TrioWriter();
      for (const r of recs) w.addDict(r);
      return w.toTrio();
    }
    default:
      throw new UsageError(`--format must be zinc, trio or json, not ${format}`);
  }
}

async function cmdExport(args: string[]): Promise<void> {
  const { values: v } = parse(args, {
    ...storeOpts,
    format: { type: 'string', default: 'zinc' },
    filter: { type: 'string' },
    out: { type: 'string', short: 'o' },
  });
  if (v.help) return out(HELP.export as string);
  if (!['zinc', 'trio', 'json'].includes(v.format ?? '')) throw new UsageError('--format must be zinc, trio or json');
  const store = await openStore(storeFrom(v));
  try {
    const text = await exportRecords(store, v.format as string, v.filter);
    if (v.out) writeFileSync(v.out, text);
    else process.stdout.write(text);
  } finally {
    await store.close();
  }
}

// ---------------------------------------------------------------- his import

async function cmdHis(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === '--help' || sub === '-h' || sub === undefined) {
    if (sub === undefined) throw new UsageError(`his needs a subcommand: 'hxredis his import FILE...'`);
    return out(HELP.his as string);
  }
  if (sub !== 'import') throw new UsageError(`unknown his subcommand: ${sub} (only 'import')`);
  const { values: v, positionals } = parse(rest, { ...storeOpts, point: { type: 'string' } }, true);
  if (v.help) return out(HELP.his as string);
  if (positionals.length === 0) throw new UsageError('his import needs at least one FILE');
  if (v.point && positionals.length !== 1) throw new UsageError('--point takes exactly one FILE');
  const store = await openStore(storeFrom(v));
  try {
    const r = await importHisFiles(store.folio, positionals, { point: v.point });
    out(`imported ${r.items} history items from ${r.files} file(s)${r.coerced ? ` (${r.coerced} values converted to the point kind)` : ''}`);
  } finally {
    await store.close();
  }
}

// ---------------------------------------------------------------- serve

/** Loads the Carytown records and history into the folio. */
export async function loadDemo(store: Store): Promise<{ records: number; his: number; hisError?: string }> {
  const dir = demoDir();
  const r = await importFiles(store, [join(dir, 'carytown.zinc')]);
  const hisFiles = readdirSync(dir)
    .filter((f) => f.endsWith('.zinc') && f !== 'carytown.zinc')
    .sort()
    .map((f) => join(dir, f));
  try {
    const h = await importHisFiles(store.folio, hisFiles, { skipNonPoints: true });
    return { records: r.records, his: h.items };
  } catch (e) {
    return { records: r.records, his: 0, hisError: oneLine((e as Error).message) };
  }
}

async function cmdServe(args: string[]): Promise<void> {
  const { values: v } = parse(args, {
    ...storeOpts,
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    project: { type: 'string' },
    token: { type: 'string' },
    demo: { type: 'boolean' },
    'no-demo': { type: 'boolean' },
    'max-body': { type: 'string' },
    quiet: { type: 'boolean' },
  });
  if (v.help) return out(HELP.serve as string);
  const port = intArg(v.port, 'port');
  if (port !== undefined && port > 65535) throw new UsageError('--port must be at most 65535');
  const maxBody = intArg(v['max-body'], 'max-body', 1);
  const token = v.token ?? (process.env.HXREDIS_TOKEN || undefined);
  const host = v.host as string;
  const { isLoopback } = await import('../server/server.js');
  if (!isLoopback(host) && !token) throw new UsageError(`refusing to listen on ${host} without a token: pass --token (or bind 127.0.0.1)`);
  const store = await openStore(storeFrom(v));
  let server;
  try {
    const wantDemo = !v['no-demo'] && (v.demo || !v.redis);
    if (wantDemo && (await store.folio.readCount('id')) === 0) {
      info(`loading the Carytown demo into ${store.where} ...`);
      const d = await loadDemo(store);
      info(`  ${d.records} records, ${d.his} history items${d.hisError ? ` (history not loaded: ${d.hisError})` : ''}`);
    }
    const common = {
      folio: store.folio,
      project: v.project ?? store.folio.name,
      host,
      token,
      maxBodyBytes: maxBody,
      version: packageVersion(),
      log: v.quiet ? undefined : (l: string) => info(l),
    };
    try {
      server = await startServer({ ...common, port: port ?? 8080 });
    } catch (e) {
      if (port !== undefined || (e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
      server = await startServer({ ...common, port: 0 });
    }
  } catch (e) {
    await store.close();
    throw e;
  }
  const project = v.project ?? store.folio.name;
  const api = `${server.url}/api/${project}`;
  const auth = token ? ` -H 'Authorization: Bearer ${token.length > 4 ? '<token>' : token}'` : '';
  // one write, so a reader of the first line has them all
  out(
    [
      `hxredis serving project "${project}" from ${store.where}${store.engine ? ' (embedded engine)' : ''}`,
      `  listening on ${server.url}  (port ${server.port})`,
      `  open:  ${server.url}/`,
      `  curl${auth} '${api}/about'`,
      `  curl${auth} '${api}/read?filter=site'`,
      `  curl${auth} -H 'Accept: application/json' '${api}/read?filter=point&limit=5'`,
      'Ctrl-C stops the server.',
    ].join('\n'),
  );
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (sig: string) => {
      if (stopping) return;
      stopping = true;
      info(`${sig}: finishing requests and closing ...`);
      server
        .close()
        .then(() => store.close())
        .then(
          () => resolve(),
          (e: unknown) => {
            info(`error while closing: ${oneLine(String(e))}`);
            resolve();
          },
        );
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  info('stopped');
}

// ---------------------------------------------------------------- engine, bench

async function cmdEngine(args: string[]): Promise<void> {
  const { values: v } = parse(args, {
    data: { type: 'string', default: 'hxredis-data' },
    port: { type: 'string', default: '6379' },
    host: { type: 'string', default: '127.0.0.1' },
    password: { type: 'string' },
    memory: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (v.help) return out(HELP.engine as string);
  const port = intArg(v.port, 'port') as number;
  if (port > 65535) throw new UsageError('--port must be at most 65535');
  const { mkdirSync } = await import('node:fs');
  if (!v.memory) mkdirSync(v.data as string, { recursive: true });
  const eng = await startEngine({
    path: v.memory ? ':memory:' : join(v.data as string, 'engine.sqlite'),
    port,
    host: v.host,
    password: v.password ?? process.env.HXREDIS_ENGINE_PASSWORD,
  });
  out(eng.url);
  await new Promise<void>((resolve) => {
    const stop = () => void eng.stop().then(resolve, resolve);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

async function cmdBench(args: string[]): Promise<void> {
  if (args.includes('--help') || args.includes('-h')) return out(HELP.bench as string);
  const root = packageRoot();
  const runTs = join(root, 'bench', 'run.ts');
  const tsx = join(root, 'node_modules', '.bin', 'tsx');
  if (!existsSync(runTs) || !existsSync(tsx)) {
    throw new Error('the benchmark harness needs the hxredis repository with its devDependencies (bench/run.ts and tsx)');
  }
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(tsx, [runTs, ...args], { cwd: root, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0)));
  });
  if (code !== 0) throw new Error(`benchmark exited with code ${code}`);
}

// ---------------------------------------------------------------- main

const COMMANDS: Record<string, (args: string[]) => Promise<void>> = {
  serve: cmdServe,
  import: cmdImport,
  export: cmdExport,
  his: cmdHis,
  bench: cmdBench,
  engine: cmdEngine,
};

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
      out(HELP.main as string);
      return cmd === undefined ? 2 : 0;
    }
    if (cmd === '--version' || cmd === '-v') {
      out(packageVersion());
      return 0;
    }
    const f = COMMANDS[cmd];
    if (!f) throw new UsageError(`unknown command: ${cmd} (try hxredis --help)`);
    await f(rest);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      info(`hxredis: ${e.message}`);
      return 2;
    }
    const err = e as Error;
    const cause = err.cause instanceof Error && !err.message.includes(err.cause.message) ? `: ${err.cause.message}` : '';
    info(`hxredis: error: ${oneLine(err.message + cause)}`);
    if (process.env.HXREDIS_DEBUG) info(err.stack ?? '');
    return 1;
  }
}
