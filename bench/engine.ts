// The `engine` suite (`npm run bench -- engine [--records N] [--quick]`): the embedded engine
// against redis-server in one run.
//   1. raw pipelined SET/GET/ZADD/TS.MADD on both (TS.MADD on redis-server only when it has the
//      TimeSeries module), ratio = how many times slower the engine is;
//   2. every figure of the folio suite (bench/folio.ts), run once on redis-server and once on the
//      engine, with the same ratio.
// Target: every ratio <= 3 (the engine issue). The engine runs in its own process on a temporary
// SQLite file (WAL, as users run it), as redis-server runs in its own.
// Run directly, `npx tsx bench/engine.ts` prints only the raw pipeline table.
import { connect, type Socket } from 'node:net';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { runSuite as folioSuite } from './folio.js';
import { round } from './stats.js';
import type { BenchResult, Suite } from './suite.js';

export interface EngineBenchRow {
  name: string;
  engineOpsPerSec: number;
  redisOpsPerSec?: number;
  /** a second engine build (ENGINE_BEFORE, bench/engine.ts run directly): before/after in one run */
  beforeOpsPerSec?: number;
}

function encode(args: string[]): Buffer {
  let s = `*${args.length}\r\n`;
  for (const a of args) s += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
  return Buffer.from(s);
}

/** Counts complete top-level replies in a byte stream (enough RESP2 for these benchmarks). */
class ReplyCounter {
  private buf: Buffer = Buffer.alloc(0);
  count = 0;
  errors = 0;
  feed(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    let p = 0;
    for (;;) {
      const end = this.skip(p);
      if (end < 0) break;
      if (this.buf[p] === 45) this.errors++;
      p = end;
      this.count++;
    }
    this.buf = this.buf.subarray(p);
  }
  /** Returns the offset after one reply at p, or -1 if incomplete. */
  private skip(p: number): number {
    if (p >= this.buf.length) return -1;
    const nl = this.buf.indexOf('\r\n', p);
    if (nl < 0) return -1;
    const t = this.buf[p];
    const n = Number(this.buf.subarray(p + 1, nl).toString('latin1'));
    if (t === 36) return n < 0 ? nl + 2 : nl + 2 + n + 2 <= this.buf.length ? nl + 2 + n + 2 : -1;
    if (t === 42) {
      let q = nl + 2;
      for (let i = 0; i < n; i++) {
        q = this.skip(q);
        if (q < 0) return -1;
      }
      return q;
    }
    return nl + 2;
  }
}

function open(url: string): Promise<Socket> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(u.port), u.hostname, () => resolve(s));
    s.once('error', reject);
  });
}

/** Sends `total` commands in pipelined batches and returns commands per second. */
export async function pipelined(url: string, total: number, batch: number, make: (i: number) => string[]): Promise<number> {
  const sock = await open(url);
  sock.setNoDelay(true);
  const counter = new ReplyCounter();
  let waiter: (() => void) | null = null;
  let want = 0;
  sock.on('data', (d: Buffer) => {
    counter.feed(d);
    if (waiter && counter.count >= want) {
      const w = waiter;
      waiter = null;
      w();
    }
  });
  const batches: Buffer[] = [];
  for (let i = 0; i < total; i += batch) {
    const parts: Buffer[] = [];
    for (let j = i; j < Math.min(total, i + batch); j++) parts.push(encode(make(j)));
    batches.push(Buffer.concat(parts));
  }
  const t0 = process.hrtime.bigint();
  let sent = 0;
  // keep up to eight batches in flight, like a client pipelining continuously
  for (const b of batches) {
    sock.write(b);
    sent += Math.min(batch, total - sent);
    if (sent - counter.count > batch * 8) {
      want = sent - batch;
      await new Promise<void>((r) => (waiter = r));
    }
  }
  want = total;
  if (counter.count < total) await new Promise<void>((r) => (waiter = r));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  sock.destroy();
  if (counter.errors) throw new Error(`${counter.errors} error replies from ${url}`);
  return total / secs;
}

async function send(url: string, cmds: string[][]): Promise<void> {
  await pipelined(url, cmds.length, cmds.length, (i) => cmds[i]);
}

/** Whether the server at url has the TimeSeries module (MODULE LIST names `timeseries`). */
async function hasTimeSeries(url: string): Promise<boolean> {
  const c = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await c.connect();
  try {
    const mods = (await c.call('MODULE', 'LIST')) as unknown[];
    return JSON.stringify(mods).toLowerCase().includes('"timeseries"');
  } catch {
    return false;
  } finally {
    c.disconnect();
  }
}

/**
 * Raw pipelines on redis-server (when given) and the engine. Each target runs the whole sequence
 * `reps` times (FLUSHALL in between) and keeps its best rate per figure: a shared machine is noisy.
 */
export async function runEngineBench(opts: {
  redisUrl?: string;
  engineUrl: string;
  beforeUrl?: string;
  n?: number;
  reps?: number;
}): Promise<EngineBenchRow[]> {
  const n = opts.n ?? 200_000;
  const reps = opts.reps ?? 3;
  const batch = 1000;
  const samplesPerMadd = 50;
  const targets: Array<['engine' | 'redis' | 'before', string]> = [];
  if (opts.redisUrl) targets.push(['redis', opts.redisUrl]);
  if (opts.beforeUrl) targets.push(['before', opts.beforeUrl]);
  targets.push(['engine', opts.engineUrl]);
  const rows: EngineBenchRow[] = [
    { name: 'SET', engineOpsPerSec: 0 },
    { name: 'GET', engineOpsPerSec: 0 },
    { name: 'ZADD', engineOpsPerSec: 0 },
    { name: 'TS.MADD', engineOpsPerSec: 0 },
  ];
  for (let rep = 0; rep < reps; rep++) for (const [who, url] of targets) {
    await send(url, [['FLUSHALL']]);
    const set = await pipelined(url, n, batch, (i) => ['SET', `key:${i % 100000}`, `value-${i}`]);
    const get = await pipelined(url, n, batch, (i) => ['GET', `key:${i % 100000}`]);
    const zadd = await pipelined(url, n, batch, (i) => ['ZADD', `z:${i % 16}`, String(i), `member:${i}`]);
    const put = (r: EngineBenchRow, v: number) => {
      if (who === 'engine') r.engineOpsPerSec = Math.max(r.engineOpsPerSec, v);
      else if (who === 'before') r.beforeOpsPerSec = Math.max(r.beforeOpsPerSec ?? 0, v);
      else r.redisOpsPerSec = Math.max(r.redisOpsPerSec ?? 0, v);
    };
    put(rows[0] as EngineBenchRow, set);
    put(rows[1] as EngineBenchRow, get);
    put(rows[2] as EngineBenchRow, zadd);
    if (who !== 'redis' || (await hasTimeSeries(url))) {
      const series = 20;
      await send(url, Array.from({ length: series }, (_, s) => ['TS.CREATE', `ts:${s}`, 'DUPLICATE_POLICY', 'LAST']));
      const calls = Math.floor(n / samplesPerMadd);
      const rate = await pipelined(url, calls, 200, (i) => {
        const args = ['TS.MADD'];
        for (let j = 0; j < samplesPerMadd; j++) {
          const k = i * samplesPerMadd + j;
          args.push(`ts:${k % series}`, String(1_600_000_000_000 + Math.floor(k / series) * 1000), String((k % 1000) / 10));
        }
        return args;
      });
      put(rows[3] as EngineBenchRow, rate * samplesPerMadd);
    }
    await send(url, [['FLUSHALL']]);
  }
  return rows;
}

/** The slowdown factor of the engine for one figure: > 1 means the engine is slower. */
function slowdown(unit: string, engine: number, redis: number): number | undefined {
  if (!(engine > 0) || !(redis > 0)) return undefined;
  // rates: higher is better; times: lower is better
  return /\/s$/.test(unit) ? redis / engine : engine / redis;
}

/** Folio figures that measure the bench process, not the server: reported, not targeted. */
const NOT_SERVER = new Set(['open.rss']);

export const TARGET_RATIO = 3;

/**
 * The suite: starts the engine (its own process, temporary SQLite file), then measures raw
 * pipelines and the folio suite on ctx.url (redis-server) and on the engine.
 */
export const runSuite: Suite = async (ctx) => {
  const out: BenchResult[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'hxredis-engine-bench-'));
  const engine = await spawnEngine(dir);
  ctx.log(`engine at ${engine.url} (SQLite file in ${dir})`);
  try {
    // -------------------------------------------------------------- raw pipelines
    const n = ctx.quick ? 50_000 : 200_000;
    ctx.log(`raw pipelines: ${n} commands each, batches of 1000, best of ${ctx.quick ? 1 : 3} alternating runs per backend`);
    const raw = await runEngineBench({ engineUrl: engine.url, redisUrl: ctx.url, n, reps: ctx.quick ? 1 : 3 });
    const rawNotes: Record<string, string> = {
      SET: 'SET key:<i mod 100k> value-<i>: 100k new keys, then overwrites',
      GET: 'GET of the 100k keys just written',
      ZADD: 'ZADD z:<i mod 16> <i> member:<i>: one new member per call, 16 sorted sets',
      'TS.MADD': 'samples/s: TS.MADD with 50 samples per call over 20 series (DUPLICATE_POLICY LAST)',
    };
    for (const r of raw) {
      const ratio = r.redisOpsPerSec === undefined ? undefined : r.redisOpsPerSec / r.engineOpsPerSec;
      const redisNote =
        r.redisOpsPerSec === undefined ? 'redis-server: n/a (no TimeSeries module)' : `redis-server ${Math.round(r.redisOpsPerSec)}/s`;
      const row: BenchResult = {
        name: `raw.${r.name}`,
        value: round(r.engineOpsPerSec),
        unit: r.name === 'TS.MADD' ? 'samples/s' : 'ops/s',
        note: `${rawNotes[r.name] ?? ''}; ${n} commands, best of ${ctx.quick ? 1 : 3}; ${redisNote}; ratio = redis-server/engine`,
      };
      if (ratio !== undefined) {
        row.ratio = round(ratio);
        row.target = `ratio <= ${TARGET_RATIO}`;
        row.pass = ratio <= TARGET_RATIO;
      }
      out.push(row);
      ctx.log(`  raw.${r.name}: engine ${Math.round(r.engineOpsPerSec)}/s, ${redisNote}${ratio ? `, ratio ${round(ratio)}` : ''}`);
    }

    // -------------------------------------------------------------- folio suite on both
    const quiet = (prefix: string) => (msg: string) => ctx.log(`${prefix} ${msg}`);
    ctx.log(`folio suite on redis-server (${ctx.records} records)`);
    const onRedis = await folioSuite({ ...ctx, runId: `${ctx.runId}-r`, log: quiet('[redis]') });
    ctx.log(`folio suite on the engine (${ctx.records} records)`);
    const onEngine = await folioSuite({ ...ctx, url: engine.url, runId: `${ctx.runId}-e`, log: quiet('[engine]') });
    const byName = new Map(onRedis.map((r) => [r.name, r]));
    for (const e of onEngine) {
      const r = byName.get(e.name);
      const ratio = r ? slowdown(e.unit, e.value, r.value) : undefined;
      const own = e.target ? `; folio target ${e.target}: ${e.pass ? 'met' : 'missed'} on the engine, ${r?.pass ? 'met' : 'missed'} on redis-server` : '';
      const row: BenchResult = {
        name: `folio.${e.name}`,
        value: e.value,
        unit: e.unit,
        note: `redis-server ${r ? r.value : 'n/a'} ${e.unit}; ratio = engine/redis-server slowdown${own}`,
      };
      if (ratio !== undefined) {
        row.ratio = round(ratio);
        if (!NOT_SERVER.has(e.name)) {
          row.target = `ratio <= ${TARGET_RATIO}`;
          row.pass = ratio <= TARGET_RATIO;
        } else row.note += ' (client process figure: no target)';
      }
      out.push(row);
    }
    // the engine's own size on disk after everything
    await engine.stop();
    const size = ['engine.sqlite', 'engine.sqlite-wal'].reduce((s, f) => {
      try {
        return s + statSync(join(dir, f)).size;
      } catch {
        return s;
      }
    }, 0);
    out.push({ name: 'engine.fileSize', value: round(size / 2 ** 20), unit: 'MiB', note: 'SQLite file (+WAL) after the run (the suites delete what they wrote)' });
  } finally {
    await engine.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
};

/** The engine in its own process, as redis-server is, so the bench client does not share its event loop. */
function spawnEngine(dir: string, main = fileURLToPath(new URL('../src/engine/main.ts', import.meta.url))): Promise<{ url: string; stop: () => Promise<void> }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', main, '--data', dir, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /redis:\/\/[^\s]+/.exec(out);
      if (m) {
        resolve({
          url: m[0],
          stop: () =>
            new Promise<void>((r) => {
              if (proc.exitCode !== null || proc.signalCode !== null) return r();
              proc.once('exit', () => r());
              proc.kill('SIGTERM');
            }),
        });
      }
    });
    proc.once('exit', (code) => reject(new Error(`engine exited early (${code})`)));
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hxredis-engine-bench-'));
  const path = join(dir, 'engine.sqlite');
  const engine = await spawnEngine(dir);
  // ENGINE_BEFORE=<other checkout>/src/engine/main.ts: that build runs too, alternating, for before/after ratios
  const beforeMain = process.env.ENGINE_BEFORE;
  const beforeDir = beforeMain ? mkdtempSync(join(tmpdir(), 'hxredis-engine-before-')) : undefined;
  const before = beforeMain && beforeDir ? await spawnEngine(beforeDir, beforeMain) : undefined;
  let redisUrl: string | undefined;
  let stopRedis = async () => {};
  try {
    const { findRedisServer, startRedisServer } = await import('../test/harness/redis.js');
    if (findRedisServer()) {
      const r = await startRedisServer();
      redisUrl = r.url;
      stopRedis = r.stop;
    }
  } catch {
    redisUrl = undefined;
  }
  try {
    const rows = await runEngineBench({ engineUrl: engine.url, beforeUrl: before?.url, redisUrl, n: Number(process.env.N ?? 200_000) });
    for (const r of rows) {
      const ratio = r.redisOpsPerSec ? `  redis ${Math.round(r.redisOpsPerSec).toLocaleString()}/s  ratio ${(r.redisOpsPerSec / r.engineOpsPerSec).toFixed(2)}x` : '';
      const prev =
        r.beforeOpsPerSec && r.redisOpsPerSec
          ? `  | before ${Math.round(r.beforeOpsPerSec).toLocaleString()}/s  ratio ${(r.redisOpsPerSec / r.beforeOpsPerSec).toFixed(2)}x`
          : r.beforeOpsPerSec
            ? `  | before ${Math.round(r.beforeOpsPerSec).toLocaleString()}/s`
            : '';
      console.log(`${r.name.padEnd(10)} engine ${Math.round(r.engineOpsPerSec).toLocaleString()}/s${ratio}${prev}`);
    }
    await before?.stop();
    await engine.stop();
    const size = ['', '-wal'].reduce((s, ext) => {
      try {
        return s + statSync(path + ext).size;
      } catch {
        return s;
      }
    }, 0);
    console.log(`sqlite file after the run: ${(size / 1048576).toFixed(1)} MiB`);
  } finally {
    await stopRedis();
    await before?.stop();
    rmSync(dir, { recursive: true, force: true });
    if (beforeDir) rmSync(beforeDir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
