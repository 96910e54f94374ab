// `npm run bench -- his [--quick] [--redis URL]`: history write and read throughput (docs/history.md).
//
// Writes N points x M samples through: his.write on TimeSeries, his.write on the sorted-set
// fallback, the columnar path (writeColumns), the hxRedis-style path (one unpipelined ZADD per
// sample, on a subset), and as limits raw TS.MADD pipelines (ioredis, node-redis) and a raw
// multi-member ZADD pipeline. Also a fixed one-day span read as the series grows 10x, and memory
// per sample from INFO memory. Results: the table/JSON of bench/run.ts plus a self-contained HTML
// chart next to the JSON (bench/results/<time>-his.html).
//
// Write rows run in rounds (HIS_ROUNDS, default 3; --quick 1), every row once per round,
// interleaved, and each row reports its best round: the 2-core machine is shared and one row can
// lose 2x to a neighbour's burst. Every timed section starts after a full GC, so a row is not
// charged for collecting what the previous one (or the untimed item building) allocated.
//
// HIS_BEFORE=<dir of another checkout> also runs that checkout's his.write / writeColumns rows
// (its src/index.ts, sharing this node_modules) in the same rounds, so a before/after comparison
// of the client code sees the same load and the same servers: rows `before.*`, and
// `before.ratio.*` next to the ratio rows.
//
// Sizes: 20 points x 10,000 samples (--quick: 10 x 2,000). The long run is
// `npm run bench -- his --scale 100000x100000` (points x samples; bench/run.ts hands it over as
// HIS_SCALE, which can also be set directly). When the server has no TimeSeries module (the default local
// redis-server), the TS measurements run against an embedded engine in its own process.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { HDateTime, HDict, HMarker, HNum, HRef, HStr } from 'haystack-core';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { Diff, RedisFolio } from '../src/index.js';
import { moduleListHasTimeSeries } from '../src/his/backend.js';
import type { HisItem } from '../src/folio/types.js';
import type { BenchContext, BenchResult, Suite } from './suite.js';
import { unlinkMatching } from './keys.js';

const BATCH = 1000;
const IN_FLIGHT = 16;
const T_START = Date.UTC(2020, 0, 1);
const DAY = 86_400_000;

interface Sizes {
  points: number;
  samples: number;
  /** points of the hxRedis-style subset and its samples per point */
  slowPoints: number;
  slowSamples: number;
  /** read-latency series: base length (minute data) and repetitions */
  readBase: number;
  readReps: number;
  /** write rounds; each write row reports its best round */
  rounds: number;
}

function sizes(ctx: BenchContext): Sizes {
  const rounds = Number(process.env.HIS_ROUNDS ?? (ctx.quick ? 1 : 3));
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('HIS_ROUNDS must be an integer >= 1');
  const scale = process.env.HIS_SCALE;
  if (scale) {
    const m = /^(\d+)x(\d+)$/.exec(scale);
    if (!m) throw new Error('HIS_SCALE must be <points>x<samples>, e.g. 100000x100000');
    return { points: Number(m[1]), samples: Number(m[2]), slowPoints: 2, slowSamples: 2000, readBase: 14_400, readReps: 200, rounds: Number(process.env.HIS_ROUNDS ?? 1) };
  }
  return ctx.quick
    ? { points: 10, samples: 2000, slowPoints: 1, slowSamples: 500, readBase: 5_000, readReps: 50, rounds }
    : { points: 20, samples: 10_000, slowPoints: 2, slowSamples: 1000, readBase: 14_400, readReps: 200, rounds };
}

async function runLimited(tasks: (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) await (tasks[next++] as () => Promise<void>)();
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
}

/** Sensor-like values with one decimal. */
function values(point: number, n: number): Float64Array {
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = Math.round((20 + 5 * Math.sin((i + point * 17) / 60) + ((i * 7919) % 13) / 10) * 10) / 10;
  return v;
}
function stamps(n: number, stepMs = 1000, start = T_START): Float64Array {
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) t[i] = start + i * stepMs;
  return t;
}

async function hasTimeSeries(url: string): Promise<boolean> {
  const c = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await c.connect();
  try {
    return moduleListHasTimeSeries(await c.call('MODULE', 'LIST'));
  } catch {
    return false;
  } finally {
    c.disconnect();
  }
}

/** The embedded engine in its own process (so the client's CPU is not the server's). */
async function startEngineProcess(): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/engine/main.ts', '--memory', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    proc.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      const line = buf.split('\n')[0];
      if (buf.includes('\n') && line) resolve(line.trim());
    });
    proc.once('exit', (code) => reject(new Error(`engine exited with ${code}`)));
  });
  return { url, proc };
}

/** The folio module a his row runs: this checkout's, or HIS_BEFORE's. */
interface FolioMod {
  RedisFolio: typeof RedisFolio;
  Diff: typeof Diff;
}
const THIS: FolioMod = { RedisFolio, Diff };

async function openFolio(url: string, name: string, hisBackend: 'timeseries' | 'zset', mod: FolioMod = THIS): Promise<RedisFolio> {
  return mod.RedisFolio.open({ url, name, hisBackend } as Parameters<typeof RedisFolio.open>[0]);
}

async function addPoints(f: RedisFolio, n: number, { Diff }: FolioMod = THIS): Promise<HRef[]> {
  const ids: HRef[] = [];
  for (let i = 0; i < n; i += 500) {
    const diffs = [];
    for (let k = i; k < Math.min(n, i + 500); k++) {
      diffs.push(Diff.makeAdd({ dis: HStr.make(`p${k}`), point: HMarker.make(), his: HMarker.make(), kind: HStr.make('Number'), tz: HStr.make('UTC'), unit: HStr.make('kW') }));
    }
    for (const d of await f.commitAll(diffs)) ids.push((d.newRec as HDict).get('id') as HRef);
  }
  return ids;
}

function items(ts: Float64Array, val: Float64Array): HisItem[] {
  const out: HisItem[] = new Array(ts.length);
  for (let i = 0; i < ts.length; i++) {
    out[i] = { ts: HDateTime.make(new Date(ts[i] as number)), val: HNum.make(val[i] as number, 'kW') };
  }
  return out;
}

setFlagsFromString('--expose-gc');
const fullGc = runInNewContext('gc') as () => void;

/** Client CPU (user + system µs) of the last timed section: where the server is not the limit, the client is. */
let lastCpuUs = 0;
async function timed(f: () => Promise<void>): Promise<number> {
  fullGc();
  const cpu0 = process.cpuUsage();
  const t = performance.now();
  await f();
  const secs = (performance.now() - t) / 1000;
  const cpu = process.cpuUsage(cpu0);
  lastCpuUs = cpu.user + cpu.system;
  return secs;
}

async function usedMemory(c: Redis): Promise<number> {
  const info = await c.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

export const runSuite: Suite = async (ctx) => {
  const sz = sizes(ctx);
  const results: BenchResult[] = [];
  const rate = (name: string, samples: number, secs: number, note: string) => {
    const r: BenchResult = { name, value: Math.round(samples / secs), unit: 'samples/s', note };
    results.push(r);
    ctx.log(`${name}: ${r.value} samples/s (${samples} samples in ${secs.toFixed(2)} s)`);
    return r.value;
  };
  const zUrl = ctx.url;
  let engine: { url: string; proc: ChildProcess } | undefined;
  let tsUrl = ctx.url;
  if (!(await hasTimeSeries(ctx.url))) {
    engine = await startEngineProcess();
    tsUrl = engine.url;
    ctx.log(`no TimeSeries module at ${ctx.url}: TS measurements on the embedded engine at ${tsUrl}`);
  }
  const tsServer = engine ? 'embedded engine (own process)' : 'the given server';
  const zc = new Redis(zUrl);
  const tc = new Redis(tsUrl);
  const nr = createClient({ url: tsUrl });
  await nr.connect();
  const prefix = `hxbench:${ctx.runId}`;
  const fname = `hb-${ctx.runId}`;
  const total = sz.points * sz.samples;
  const data = Array.from({ length: sz.points }, (_, p) => ({ ts: stamps(sz.samples), val: values(p, sz.samples) }));
  const fmt = (x: number) => String(x);

  try {
    // ------------------------------------------------ raw limits
    const madd = async (send: (args: string[]) => Promise<unknown>, keyOf: (p: number) => string) => {
      const tasks: (() => Promise<void>)[] = [];
      for (let p = 0; p < sz.points; p++) {
        const { ts, val } = data[p] as { ts: Float64Array; val: Float64Array };
        const key = keyOf(p);
        for (let i = 0; i < ts.length; i += BATCH) {
          tasks.push(async () => {
            const end = Math.min(i + BATCH, ts.length);
            const args: string[] = ['TS.MADD'];
            for (let j = i; j < end; j++) args.push(key, fmt(ts[j] as number), fmt(val[j] as number));
            const r = (await send(args)) as unknown[];
            if (r.some((x) => x instanceof Error)) throw new Error('raw TS.MADD: per-sample error');
          });
        }
      }
      await runLimited(tasks, IN_FLIGHT);
    };
    const rawZadd = async (r: number) => {
      const tasks: (() => Promise<void>)[] = [];
      for (let p = 0; p < sz.points; p++) {
        const { ts, val } = data[p] as { ts: Float64Array; val: Float64Array };
        for (let i = 0; i < ts.length; i += BATCH) {
          tasks.push(async () => {
            const args: (string | number)[] = [];
            for (let j = i; j < Math.min(i + BATCH, ts.length); j++) args.push(ts[j] as number, `${ts[j]}|n:${val[j]}`);
            await zc.zadd(`${prefix}:z${r}:${p}`, ...args);
          });
        }
      }
      await runLimited(tasks, IN_FLIGHT);
    };
    // hxRedis-style: one unpipelined ZADD per sample, on a subset
    const slowN = sz.slowPoints * sz.slowSamples;
    const hxStyle = async (r: number, c: Redis = zc) => {
      for (let p = 0; p < sz.slowPoints; p++) {
        const { ts, val } = data[p] as { ts: Float64Array; val: Float64Array };
        for (let j = 0; j < sz.slowSamples; j++) await c.zadd(`${prefix}:slow${r}:${p}`, ts[j] as number, `${ts[j]}|n:${val[j]}`);
      }
    };

    // ------------------------------------------------ his paths
    const his = async (name: string, url: string, backend: 'timeseries' | 'zset', columnar: boolean, mod: FolioMod = THIS) => {
      const f = await openFolio(url, `${fname}-${name}`, backend, mod);
      try {
        const ids = await addPoints(f, sz.points, mod);
        const pre = columnar ? undefined : data.map((d) => items(d.ts, d.val));
        await f.his.detectBackend();
        // Untimed, as the raw rows' TS.CREATE is: each point's first write (one sample a day
        // before the data) decides its layout and creates its series, and opens the connections.
        // What that costs per point is its own row (his.firstWrite.*).
        const t0 = performance.now();
        await runLimited(
          ids.map((id) => async () => {
            await f.his.writeColumns(id, { ts: new Float64Array([T_START - DAY]), val: new Float64Array([0]) });
          }),
          4,
        );
        const firstMs = (performance.now() - t0) / ids.length;
        const secs = await timed(async () => {
          await runLimited(
            ids.map((id, p) => async () => {
              if (columnar) await f.his.writeColumns(id, data[p] as { ts: Float64Array; val: Float64Array });
              else await f.his.write(id, pre?.[p] as HisItem[]);
            }),
            4,
          );
        });
        const cpuUs = lastCpuUs;
        const layout = await f.his.layoutOf(ids[0] as HRef);
        return { secs, layout, firstMs, cpuUs };
      } finally {
        await f.close();
      }
    };

    const beforeDir = process.env.HIS_BEFORE;
    const before = beforeDir ? ((await import(pathToFileURL(join(resolve(beforeDir), 'src/index.ts')).href)) as FolioMod) : undefined;
    if (before) ctx.log(`HIS_BEFORE: his rows also run with ${resolve(beforeDir as string)}/src`);

    // ------------------------------------------------ rounds: every write row once per round, best round kept
    const best = new Map<string, number>();
    // client CPU per row, of the round kept (the best one)
    const cpuOf = new Map<string, number>();
    const keep = (name: string, secs: number, cpuUs = lastCpuUs) => {
      if (secs < (best.get(name) ?? Infinity)) {
        best.set(name, secs);
        cpuOf.set(name, cpuUs);
      }
    };
    const layouts: Record<string, string | undefined> = {};
    for (let r = 0; r < sz.rounds; r++) {
      for (let p = 0; p < sz.points; p++) {
        await tc.call('TS.CREATE', `${prefix}:io${r}:${p}`, 'DUPLICATE_POLICY', 'LAST');
        await tc.call('TS.CREATE', `${prefix}:nr${r}:${p}`, 'DUPLICATE_POLICY', 'LAST');
      }
      keep('raw.tsmadd.ioredis', await timed(() => madd((a) => tc.call(a[0] as string, ...a.slice(1)), (p) => `${prefix}:io${r}:${p}`)));
      keep('raw.tsmadd.node-redis', await timed(() => madd((a) => nr.sendCommand(a) as Promise<unknown>, (p) => `${prefix}:nr${r}:${p}`)));
      keep('raw.zadd.pipeline', await timed(() => rawZadd(r)));
      keep('hxredis-style.zadd', await timed(() => hxStyle(r)));
      // the TS ratio's baseline on the TS server itself, when that is another server (the engine)
      if (engine) keep('hxredis-style.zadd.ts-server', await timed(() => hxStyle(r, tc)));
      const ours = async () => {
        const a = await his(`ts${r}`, tsUrl, 'timeseries', false);
        keep('his.write.timeseries', a.secs, a.cpuUs);
        keep('his.firstWrite.timeseries', a.firstMs);
        layouts.ts = a.layout;
        const c = await his(`col${r}`, tsUrl, 'timeseries', true);
        keep('his.writeColumns.timeseries', c.secs, c.cpuUs);
        layouts.col = c.layout;
        const z = await his(`z${r}`, zUrl, 'zset', false);
        keep('his.write.zset', z.secs, z.cpuUs);
        keep('his.firstWrite.zset', z.firstMs);
        layouts.z = z.layout;
      };
      const theirs = async (mod: FolioMod) => {
        keep('before.his.write.timeseries', (await his(`bts${r}`, tsUrl, 'timeseries', false, mod)).secs);
        keep('before.his.writeColumns.timeseries', (await his(`bcol${r}`, tsUrl, 'timeseries', true, mod)).secs);
        keep('before.his.write.zset', (await his(`bz${r}`, zUrl, 'zset', false, mod)).secs);
      };
      // with HIS_BEFORE, the two alternate which goes first
      if (before && r % 2 === 1) await theirs(before);
      await ours();
      if (before && r % 2 === 0) await theirs(before);
      ctx.log(`write round ${r + 1}/${sz.rounds} done`);
      // untimed: drop this round's keys so every round starts from the same server state
      await unlinkMatching(zc, `${prefix}*`);
      await unlinkMatching(zc, `hxhis:\\{${fname}*`);
      await unlinkMatching(tc, `${prefix}*`);
      await unlinkMatching(tc, `hxhis:\\{${fname}*`);
      if (before) {
        // HIS_BEFORE may be a checkout on key layout 1 (`hxhis:<name>:{<name>:<id>}:...`)
        await unlinkMatching(zc, `hxhis:${fname}*`);
        await unlinkMatching(tc, `hxhis:${fname}*`);
      }
    }
    const secsOf = (name: string) => best.get(name) as number;
    const rounds = `best of ${sz.rounds} rounds`;
    const rawIo = rate('raw.tsmadd.ioredis', total, secsOf('raw.tsmadd.ioredis'), `TS.MADD ${BATCH}/call, ${IN_FLIGHT} in flight, ioredis, on ${tsServer}, ${rounds}`);
    const rawNr = rate('raw.tsmadd.node-redis', total, secsOf('raw.tsmadd.node-redis'), `TS.MADD ${BATCH}/call, ${IN_FLIGHT} in flight, node-redis, on ${tsServer}, ${rounds}`);
    const rawTs = Math.max(rawIo, rawNr);
    const rawZ = rate('raw.zadd.pipeline', total, secsOf('raw.zadd.pipeline'), `multi-member ZADD ${BATCH}/call, ${IN_FLIGHT} in flight, ioredis, ${rounds}`);
    const slow = rate('hxredis-style.zadd', slowN, secsOf('hxredis-style.zadd'), `one awaited ZADD per sample, ${sz.slowPoints} x ${sz.slowSamples}, ${rounds}`);
    const slowTs = engine
      ? rate('hxredis-style.zadd.ts-server', slowN, secsOf('hxredis-style.zadd.ts-server'), `one awaited ZADD per sample on the TS server (${tsServer}), ${sz.slowPoints} x ${sz.slowSamples}, ${rounds}`)
      : slow;
    const hisTs = rate('his.write.timeseries', total, secsOf('his.write.timeseries'), `his.write, HisItem arrays built beforehand, layout ${layouts.ts}, on ${tsServer}, ${rounds}`);
    const col = rate('his.writeColumns.timeseries', total, secsOf('his.writeColumns.timeseries'), `writeColumns (epoch ms + Float64Array), layout ${layouts.col}, on ${tsServer}, ${rounds}`);
    const hisZ = rate('his.write.zset', total, secsOf('his.write.zset'), `his.write on the sorted-set fallback, layout ${layouts.z}, ${rounds}`);

    for (const label of ['timeseries', 'zset'] as const) {
      const ms = Math.round(secsOf(`his.firstWrite.${label}`) * 1000) / 1000;
      results.push({ name: `his.firstWrite.${label}`, value: ms, unit: 'ms', note: `per point, 4 points at a time: a point's first write (layout decided, series created; untimed in the his.write rows), ${rounds}` });
    }
    const ratio = (name: string, value: number, target: number, note: string) => {
      const r = Math.round(value * 100) / 100;
      results.push({ name, value: r, unit: 'x', ratio: r, target: `>= ${target}`, pass: r >= target, note });
    };
    ratio('ratio.his-ts/raw-tsmadd', hisTs / rawTs, 0.8, 'his.write on TS vs the faster raw TS.MADD pipeline');
    ratio('ratio.his-ts/hxredis-style', hisTs / slowTs, 50, `his.write on TS vs one unpipelined ZADD per sample${engine ? ', both on the TS server' : ''}`);
    if (engine) {
      // the same ratio across servers (his.write on the engine, hxRedis-style on redis-server), for reference
      const r = Math.round((hisTs / slow) * 100) / 100;
      results.push({ name: 'ratio.his-ts/hxredis-style.zset-server', value: r, unit: 'x', ratio: r, note: 'his.write on TS (engine) vs one unpipelined ZADD per sample on redis-server: two servers, no target' });
    }
    ratio('ratio.columnar/raw-tsmadd', col / rawTs, 1.0, 'writeColumns vs the faster raw TS.MADD pipeline');
    ratio('ratio.his-zset/raw-zadd', hisZ / rawZ, 0.8, 'his.write on the fallback vs the raw ZADD pipeline');
    ratio('ratio.his-zset/hxredis-style', hisZ / slow, 30, 'his.write on the fallback vs one unpipelined ZADD per sample');
    // client CPU per sample: what each row costs the client, whichever side limited its throughput
    // (on a server faster than the client, as Redis Stack is, this is what the ratios become)
    const clientRows = ['raw.tsmadd.ioredis', 'raw.tsmadd.node-redis', 'raw.zadd.pipeline', 'his.write.timeseries', 'his.writeColumns.timeseries', 'his.write.zset'];
    if (before) clientRows.push('before.his.write.timeseries', 'before.his.writeColumns.timeseries', 'before.his.write.zset');
    for (const name of clientRows) {
      const us = (cpuOf.get(name) ?? NaN) / total;
      results.push({ name: `client.${name}`, value: Math.round(us * 1000) / 1000, unit: 'us/sample', note: 'client CPU (user+system) per sample in the kept round' });
    }
    if (before) {
      const bTs = rate('before.his.write.timeseries', total, secsOf('before.his.write.timeseries'), `HIS_BEFORE his.write, on ${tsServer}, ${rounds}`);
      const bCol = rate('before.his.writeColumns.timeseries', total, secsOf('before.his.writeColumns.timeseries'), `HIS_BEFORE writeColumns, on ${tsServer}, ${rounds}`);
      const bZ = rate('before.his.write.zset', total, secsOf('before.his.write.zset'), `HIS_BEFORE his.write on the sorted-set fallback, ${rounds}`);
      const info = (name: string, value: number, note: string) => {
        const r = Math.round(value * 100) / 100;
        results.push({ name, value: r, unit: 'x', ratio: r, note });
      };
      info('before.ratio.his-ts/raw-tsmadd', bTs / rawTs, 'HIS_BEFORE his.write on TS vs the faster raw TS.MADD pipeline');
      info('before.ratio.his-ts/hxredis-style', bTs / slowTs, `HIS_BEFORE his.write on TS vs one unpipelined ZADD per sample${engine ? ', both on the TS server' : ''}`);
      info('before.ratio.columnar/raw-tsmadd', bCol / rawTs, 'HIS_BEFORE writeColumns vs the faster raw TS.MADD pipeline');
      info('before.ratio.his-zset/raw-zadd', bZ / rawZ, 'HIS_BEFORE his.write on the fallback vs the raw ZADD pipeline');
      info('before.ratio.his-zset/hxredis-style', bZ / slow, 'HIS_BEFORE his.write on the fallback vs one unpipelined ZADD per sample');
    }

    // ------------------------------------------------ fixed one-day span read as the series grows 10x
    for (const [label, url, backend] of [['timeseries', tsUrl, 'timeseries'], ['zset', zUrl, 'zset']] as const) {
      const f = await openFolio(url, `${fname}-read-${label}`, backend);
      try {
        const [id] = await addPoints(f, 1);
        const lat: number[] = [];
        let written = 0;
        for (const size of [sz.readBase, sz.readBase * 10]) {
          // minute data; the series grows, the read span stays the first full day
          const add = size - written;
          const ts = stamps(add, 60_000, T_START + written * 60_000);
          for (let i = 0; i < add; i += 100_000) {
            await f.his.writeColumns(id as HRef, { ts: ts.subarray(i, i + 100_000), val: values(0, add).subarray(i, i + 100_000) });
          }
          written = size;
          const span = { start: HDateTime.make(new Date(T_START + DAY)), end: HDateTime.make(new Date(T_START + 2 * DAY)) };
          await f.his.read(id as HRef, span);
          const t = performance.now();
          for (let k = 0; k < sz.readReps; k++) await f.his.read(id as HRef, span);
          const ms = (performance.now() - t) / sz.readReps;
          lat.push(ms);
          results.push({ name: `read.oneday.${label}.${size}`, value: Math.round(ms * 1000) / 1000, unit: 'ms', note: `one-day span (1,443 items) of a ${size}-sample series` });
        }
        const r = Math.round(((lat[1] as number) / (lat[0] as number)) * 100) / 100;
        results.push({ name: `ratio.read-growth.${label}`, value: r, unit: 'x', ratio: r, target: '<= 1.5', pass: r <= 1.5, note: 'one-day read latency, series 10x longer' });
      } finally {
        await f.close();
      }
    }

    // ------------------------------------------------ memory per sample (INFO memory)
    for (const [label, client, isEngine] of [['timeseries', tc, Boolean(engine)], ['zset', zc, false]] as const) {
      const n = Math.min(total, 500_000);
      const before = await usedMemory(client);
      const key = `${prefix}:mem:${label}`;
      const ts = stamps(n);
      const val = values(3, n);
      if (label === 'timeseries') {
        await client.call('TS.CREATE', key, 'DUPLICATE_POLICY', 'LAST');
        for (let i = 0; i < n; i += BATCH) {
          const args: string[] = [];
          for (let j = i; j < Math.min(n, i + BATCH); j++) args.push(key, fmt(ts[j] as number), fmt(val[j] as number));
          await client.call('TS.MADD', ...args);
        }
      } else {
        for (let i = 0; i < n; i += BATCH) {
          const args: (string | number)[] = [];
          for (let j = i; j < Math.min(n, i + BATCH); j++) args.push(ts[j] as number, `${ts[j]}|n:${val[j]}`);
          await client.zadd(key, ...args);
        }
      }
      const after = await usedMemory(client);
      if (isEngine) {
        // the engine's used_memory is its Node heap (GC makes the delta meaningless, even negative);
        // its samples live in SQLite, whose bytes per sample docs/engine.md measures on disk
        ctx.log(`memory.${label}: not measured (embedded engine: INFO used_memory is its Node heap)`);
      } else {
        results.push({
          name: `memory.${label}`,
          value: Math.round(((after - before) / n) * 10) / 10,
          unit: 'B/sample',
          note: `INFO used_memory delta over ${n} samples`,
        });
      }
    }
  } finally {
    await unlinkMatching(zc, `${prefix}*`).catch(() => undefined);
    await unlinkMatching(zc, `hxhis:\\{${fname}*`).catch(() => undefined);
    await unlinkMatching(zc, `\\{hx:${fname}*`).catch(() => undefined);
    if (!engine) {
      await unlinkMatching(tc, `${prefix}*`).catch(() => undefined);
      await unlinkMatching(tc, `hxhis:\\{${fname}*`).catch(() => undefined);
      await unlinkMatching(tc, `\\{hx:${fname}*`).catch(() => undefined);
    }
    zc.disconnect();
    tc.disconnect();
    await nr.close().catch(() => undefined);
    if (engine) engine.proc.kill('SIGTERM');
  }
  writeChart(results, sz);
  return results;
};

/** A self-contained HTML bar chart of the throughput rows and the ratio rows. */
function writeChart(results: BenchResult[], sz: Sizes): void {
  const bars = results.filter((r) => r.unit === 'samples/s');
  const max = Math.max(...bars.map((b) => b.value), 1);
  const w = 900;
  const rowH = 28;
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${bars.length * rowH + 20}" font-family="sans-serif" font-size="12">`,
    ...bars.map((b, i) => {
      const bw = Math.max(1, Math.round((b.value / max) * (w - 420)));
      const y = 10 + i * rowH;
      return `<text x="0" y="${y + 16}">${b.name}</text><rect x="220" y="${y}" width="${bw}" height="20" fill="${b.name.startsWith('raw') ? '#999' : b.name.startsWith('his') ? '#2a7ab9' : '#d9822b'}"/><text x="${225 + bw}" y="${y + 15}">${b.value.toLocaleString('en-US')} samples/s</text>`;
    }),
    '</svg>',
  ].join('\n');
  const rows = results
    .filter((r) => r.unit !== 'samples/s')
    .map((r) => `<tr><td>${r.name}</td><td>${r.value} ${r.unit}</td><td>${r.target ?? ''}</td><td>${r.pass === undefined ? '' : r.pass ? 'PASS' : 'FAIL'}</td><td>${r.note ?? ''}</td></tr>`)
    .join('\n');
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>hxredis his bench</title>
<style>body{font-family:sans-serif;margin:2em}td{padding:2px 10px;border-bottom:1px solid #ddd}</style></head><body>
<h1>hxredis history benchmark</h1><p>${sz.points} points x ${sz.samples.toLocaleString('en-US')} samples; ${new Date().toISOString()}</p>
${svg}
<table><tr><th>name</th><th>value</th><th>target</th><th></th><th>note</th></tr>${rows}</table></body></html>\n`;
  const dir = 'bench/results';
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-his.html`);
  writeFileSync(file, html);
  console.error(`[bench] chart: ${file}`);
}
