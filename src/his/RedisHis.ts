// RedisHis (`folio.his`): point history on RedisTimeSeries or sorted sets (spec section 3).
// docs/history.md describes the routing, key layout and the write and read protocols.
//
// - Pure rules live in config.ts (3.1), normalize.ts (3.2), merge.ts (3.3), span.ts (3.4).
// - A point's layout (`ts` | `zset`) is decided on its first write and recorded in its meta hash
//   (keys.hisMeta), so one point's history never splits across layouts.
// - TimeSeries writes go through a node-redis client (TS.MADD batches, pipelined, every reply
//   element checked); sorted-set writes, reads and meta go through the folio's ioredis connections.
import { HDateTime, HNum, type HDict, type HRef } from 'haystack-core';
import type { Pipeline, Redis } from 'ioredis';
import { HisWriteError, StorageError } from '../folio/errors.js';
import type { FolioInternals } from '../folio/internals.js';
import { toRel } from '../folio/refs.js';
import type { FolioContext, HisItem, HisWriteResult } from '../folio/types.js';
import { acquireCommitConn, makeCommitPool, storageError, type CommitPool } from '../storage/connection.js';
import { PreEncodedCommand, RespBuilder } from '../storage/respCommand.js';
import { detectBackend, openTsClient, type Detection, type HisBackend, type TsClient } from './backend.js';
import { decodeMember, encodeMember, MemberTails, memberMs, NumText, storedNum, toHisItem, tsCanHold, tsNumber } from './codec.js';
import { hisReadCheck, hisWriteCheck, type HisConfig } from './config.js';
import { normalizeColumns, normalizeItemsFast, type HisColumns, type NumCols, type SItem, type SVal } from './normalize.js';
import { msOf, toDateTime } from './tz.js';

export type { HisBackend } from './backend.js';
export type { HisColumns } from './normalize.js';

/** Storage layout of one point. */
export type HisLayout = 'ts' | 'zset';

export interface HisSpan {
  start: HDateTime;
  end: HDateTime;
}

export interface HisWriteOptions {
  /** remove the existing items in [start, end) before writing */
  clear?: HisSpan;
  /** remove every existing item before writing (the point's layout is decided again) */
  clearAll?: boolean;
  /** accepted for parity (Haxall suppresses a warning) */
  noWarn?: boolean;
  /** internal in Haxall: drop items outside [start, end) */
  clip?: HisSpan;
  /** accepted for parity: a unitless Number always takes the rec unit */
  unitSet?: boolean;
}

export interface HisReadOptions {
  /** at most this many items */
  limit?: number;
  /** drop items after now */
  clipFuture?: boolean;
}

export type HisFold = 'avg' | 'min' | 'max' | 'sum' | 'count' | 'first' | 'last';

export interface HisRollupOptions {
  fold: HisFold;
  /** bucket width; buckets align to epoch 0 and are labelled by their start */
  intervalMs: number;
}

export interface HisColumnsBatch extends HisColumns {
  id: HRef | string;
}

/** Open options RedisHis reads from the folio options. */
export interface HisOpenOptions {
  /** force the backend: `timeseries`, `zset`, or `auto` (default: detect) */
  hisBackend?: 'timeseries' | 'zset' | 'auto';
  /** samples per TS.MADD (default 1000) */
  hisBatchSize?: number;
  /** TS.MADD batches in flight per write (default 16) */
  hisInFlight?: number;
}

const PAGE = 10_000;
const ZADD_CHUNK = 1000;
const FOLDS = new Set<HisFold>(['avg', 'min', 'max', 'sum', 'count', 'first', 'last']);

/** Per-folio state shared by every view (internals.shared). */
interface HisState {
  forced: HisBackend | undefined;
  detection: Detection | undefined;
  detecting: Promise<Detection> | undefined;
  layouts: Map<string, HisLayout>;
  /** rel ids whose transient tags were set by this process */
  tagged: Set<string>;
  ts: Promise<TsClient> | undefined;
  pool: CommitPool | undefined;
  batchSize: number;
  inFlight: number;
  closed: boolean;
}

interface Stats {
  size: number;
  first: number | undefined;
  last: number | undefined;
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A TS reply error saying the key is gone or is not a series (moved to zset, cleared). */
function isMissingKeyErr(msg: string): boolean {
  return /key does not exist|not a TSDB key|WRONGTYPE/i.test(msg);
}

function fmtNum(v: number): string {
  return String(v);
}

/**
 * Runs `tasks` with at most `limit` in flight. `afterLastStarted` runs once, synchronously after the
 * last task was started (a task that sends a command sends it before its first await).
 */
async function runLimited(tasks: (() => Promise<void>)[], limit: number, afterLastStarted?: () => void): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const t = tasks[next++] as () => Promise<void>;
      const p = t();
      if (next === tasks.length) afterLastStarted?.();
      await p;
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
}

export class RedisHis {
  private readonly st: HisState;

  constructor(
    private readonly folio: FolioInternals,
    private readonly cx: FolioContext | undefined,
  ) {
    this.st = folio.shared<HisState>('his', () => {
      const o = folio.options as HisOpenOptions;
      const forced = o.hisBackend === 'timeseries' || o.hisBackend === 'zset' ? o.hisBackend : undefined;
      if (o.hisBackend !== undefined && o.hisBackend !== 'auto' && forced === undefined) {
        throw new Error(`Invalid hisBackend ${JSON.stringify(o.hisBackend)}: use 'timeseries', 'zset' or 'auto'`);
      }
      const st: HisState = {
        forced,
        detection: undefined,
        detecting: undefined,
        layouts: new Map(),
        tagged: new Set(),
        ts: undefined,
        pool: undefined,
        batchSize: o.hisBatchSize ?? 1000,
        inFlight: o.hisInFlight ?? 16,
        closed: false,
      };
      folio.onClose(async () => {
        st.closed = true;
        const ts = st.ts;
        st.ts = undefined;
        if (ts) await ts.then((c) => c.close()).catch(() => undefined);
        if (st.pool) {
          const pool = st.pool;
          st.pool = undefined;
          await pool.drain().then(() => pool.clear()).catch(() => undefined);
        }
      });
      return st;
    });
    // detection starts when the manager is first used (folio.his), so it is usually done by the first call
    this.detectBackend().catch(() => undefined);
  }

  // ---------------------------------------------------------------- backend

  /** The detected (or forced) backend; undefined until detection finished. */
  get backend(): HisBackend | undefined {
    return this.st.detection?.backend;
  }

  /** How the backend was decided (`forced`, `MODULE LIST`, `TS probe`) and why. */
  get backendInfo(): Detection | undefined {
    return this.st.detection;
  }

  /** Detects the backend once per folio (MODULE LIST, else a TS probe), unless forced; logged. */
  async detectBackend(): Promise<HisBackend> {
    const st = this.st;
    if (st.detection) return st.detection.backend;
    st.detecting ??= (async () => {
      let d: Detection;
      if (st.forced) d = { backend: st.forced, how: 'forced', detail: 'hisBackend option' };
      else {
        try {
          d = await detectBackend(this.folio.main, this.folio.keys.hisMeta('__probe__'));
        } catch (e) {
          st.detecting = undefined;
          throw storageError(e, this.folio.connection.url, 'his backend detection');
        }
      }
      st.detection = d;
      // connect the TimeSeries client now, so the first write does not wait for it (a failure here
      // is reported by that write, which connects again)
      if (d.backend === 'timeseries' && !st.closed) this.tsClient().catch(() => undefined);
      this.folio.log(`hxredis ${this.folio.keys.name}: history backend ${d.backend} (${d.how}: ${d.detail})`);
      return d;
    })();
    return (await st.detecting).backend;
  }

  /** The layout a point's history is stored in, or undefined if it has none yet. */
  async layoutOf(id: HRef | string): Promise<HisLayout | undefined> {
    return this.layoutOfRel(this.rel(id));
  }

  // ---------------------------------------------------------------- write

  /**
   * FolioHis.write: validates and normalizes the items (spec 3.2) and merges them into the
   * point's history. Resolves to `{count, span}` (span of the submitted items); postHisWrite
   * receives the same object.
   */
  async write(id: HRef | string, items: HisItem[], opts: HisWriteOptions = {}): Promise<HisWriteResult> {
    const rec = this.folio.readRecChecked(id, this.cx, true);
    if (items.length === 0) return { count: 0 };
    const cfg = hisWriteCheck(rec);
    const norm = normalizeItemsFast(cfg, items, opts);
    return this.writeNormalized(rec, cfg, norm, opts);
  }

  /**
   * Columnar fast path for programmatic ingestion (Number and Bool points): epoch-ms timestamps
   * and values (Bool as 0/1), with the same validation and normalization as `write`.
   */
  async writeColumns(id: HRef | string, cols: HisColumns, opts: HisWriteOptions = {}): Promise<HisWriteResult> {
    const rec = this.folio.readRecChecked(id, this.cx, true);
    if (cols.ts.length === 0 && cols.val.length === 0) return { count: 0 };
    const cfg = hisWriteCheck(rec);
    const clip = opts.clip ? { start: msOf(opts.clip.start), end: msOf(opts.clip.end) } : undefined;
    const c = normalizeColumns(cfg, cols, { clip });
    return this.writeNormalized(rec, cfg, c, opts);
  }

  /** Many points at once (columnar): every batch is validated before anything is written. */
  async writeColumnsMany(batches: HisColumnsBatch[], opts: HisWriteOptions = {}): Promise<HisWriteResult[]> {
    const prepared = batches.map((b) => {
      const rec = this.folio.readRecChecked(b.id, this.cx, true);
      if (b.ts.length === 0 && b.val.length === 0) return undefined;
      const cfg = hisWriteCheck(rec);
      const clip = opts.clip ? { start: msOf(opts.clip.start), end: msOf(opts.clip.end) } : undefined;
      return { rec, cfg, cols: normalizeColumns(cfg, b, { clip }) };
    });
    const out: HisWriteResult[] = new Array(batches.length);
    const tasks = prepared.map((p, i) => async () => {
      out[i] = p ? await this.writeNormalized(p.rec, p.cfg, p.cols, opts) : { count: 0 };
    });
    await runLimited(tasks, 8);
    return out;
  }

  private async writeNormalized(
    rec: HDict,
    cfg: HisConfig,
    data: SItem[] | NumCols,
    opts: HisWriteOptions,
  ): Promise<HisWriteResult> {
    const abs = this.folio.absId(rec.get('id') as HRef);
    const rel = toRel(abs, this.folio.idPrefix);
    const n = Array.isArray(data) ? data.length : data.ts.length;
    const firstMs = Array.isArray(data) ? data[0]?.ms : data.ts[0];
    const lastMs = Array.isArray(data) ? data[n - 1]?.ms : data.ts[n - 1];
    const clear = opts.clear ? { start: msOf(opts.clear.start), end: msOf(opts.clear.end) } : undefined;

    try {
      if (opts.clearAll) await this.clearAllRel(rel);
      let stats: Stats | undefined;
      const hasValues = Array.isArray(data) ? data.some((i) => i.v !== null) : n > 0;
      // a write with values decides the layout itself (ensureLayout): no separate lookup first
      if (!hasValues && (await this.layoutOfRel(rel)) === undefined) {
        // only removals (or nothing) on a point with no history: nothing to do
        stats = { size: 0, first: undefined, last: undefined };
      } else {
        const holdable = Array.isArray(data) ? data.every((i) => tsCanHold(i.ms, i.v)) : (data.ts[0] ?? 0) >= 0 && allFinite(data.val);
        const layout = await this.ensureLayout(rel, cfg, holdable);
        if (layout === 'ts') {
          stats = await this.tsWrite(rec, cfg, rel, data, clear);
        } else {
          stats = await this.zsetWrite(rel, cfg, data, clear);
        }
      }
      this.setTags(cfg, abs, rel, stats);
    } catch (e) {
      if (e instanceof HisWriteError || e instanceof StorageError) throw e;
      throw storageError(e, this.folio.connection.url, 'his write');
    }

    const result: HisWriteResult =
      n === 0
        ? { count: 0 }
        : {
            count: n,
            span: { start: toDateTime(firstMs as number, cfg.tz, cfg.iana), end: toDateTime(lastMs as number, cfg.tz, cfg.iana) },
          };
    this.folio.hooks()?.postHisWrite?.({ rec, result, cxInfo: this.cx?.commitInfo?.() });
    return result;
  }

  // ---------------------------------------------------------------- layout

  private rel(id: HRef | string): string {
    return toRel(this.folio.absId(id), this.folio.idPrefix);
  }

  private async layoutOfRel(rel: string, fresh = false): Promise<HisLayout | undefined> {
    if (!fresh) {
      const cached = this.st.layouts.get(rel);
      if (cached) return cached;
    }
    const v = await this.folio.main.hget(this.folio.keys.hisMeta(rel), 'layout');
    const lay = v === 'ts' || v === 'zset' ? v : undefined;
    if (lay) this.st.layouts.set(rel, lay);
    else this.st.layouts.delete(rel);
    return lay;
  }

  /**
   * The layout for a write: a point's first write decides (HSETNX, so concurrent first writers
   * agree); a TS point that receives samples a series cannot hold is migrated to zset first.
   */
  private async ensureLayout(rel: string, cfg: HisConfig, holdable: boolean): Promise<HisLayout> {
    const keys = this.folio.keys;
    let lay = this.st.layouts.get(rel);
    if (lay === undefined) {
      const backend = await this.detectBackend();
      const want: HisLayout = backend === 'timeseries' && (cfg.kind === 'Number' || cfg.kind === 'Bool') && holdable ? 'ts' : 'zset';
      if (want === 'zset') {
        const res = await this.folio.main.multi().hsetnx(keys.hisMeta(rel), 'layout', want).hget(keys.hisMeta(rel), 'layout').exec();
        const cur = res?.[1]?.[1];
        lay = cur === 'ts' || cur === 'zset' ? cur : want;
        // a ts point found here (decided by another writer): make sure its series exists
        if (lay === 'ts') await this.ensureTsKey(rel, cfg);
      } else {
        lay = await this.ensureTsKey(rel, cfg, true);
      }
      this.st.layouts.set(rel, lay);
    }
    if (lay === 'ts' && !holdable) {
      await this.migrateToZset(rel, cfg);
      lay = 'zset';
    }
    return lay;
  }

  private pool(): CommitPool {
    this.st.pool ??= makeCommitPool({ ...this.folio.connection, poolSize: 8 });
    return this.st.pool;
  }

  /**
   * Runs `f` on a dedicated connection (for WATCH ... MULTI/EXEC). The connection is UNWATCHed
   * before it goes back unless `f` cleared `w.watching` (an EXEC, run or aborted, ends the WATCH).
   */
  private async withConn<T>(f: (c: Redis, w: { watching: boolean }) => Promise<T>): Promise<T> {
    const pool = this.pool();
    const c = await acquireCommitConn(pool);
    const w = { watching: true };
    try {
      return await f(c, w);
    } finally {
      if (w.watching) await c.unwatch().catch(() => undefined);
      await pool.release(c).catch(() => undefined);
    }
  }

  /**
   * Creates the point's series (DUPLICATE_POLICY LAST, labels) if the meta says ts — or, with
   * `decide`, if the meta is still empty, setting `layout=ts` in the same MULTI (a point's first
   * write). Two round trips: `WATCH meta` + `HGET layout` pipelined, then `MULTI [HSETNX]
   * TS.CREATE EXEC` (EXEC ends the WATCH). Resolves to the layout the meta holds.
   */
  private async ensureTsKey(rel: string, _cfg: HisConfig, decide = false): Promise<HisLayout> {
    const keys = this.folio.keys;
    const meta = keys.hisMeta(rel);
    const key = keys.hisTs(rel);
    return this.withConn(async (c, w) => {
      for (let attempt = 0; attempt < 10; attempt++) {
        w.watching = true;
        const pre = (await c.pipeline().watch(meta).hget(meta, 'layout').exec()) ?? [];
        for (const [err] of pre) if (err) throw err;
        const cur = pre[1]?.[1];
        if (cur === 'zset') return 'zset';
        if (cur !== 'ts' && !decide) return 'zset';
        const m = c.multi();
        if (cur !== 'ts') m.hsetnx(meta, 'layout', 'ts');
        m.call('TS.CREATE', key, 'DUPLICATE_POLICY', 'LAST', 'LABELS', 'hxfolio', keys.name, 'hxpoint', rel);
        const res = await m.exec();
        w.watching = false;
        if (res === null) continue;
        const err = res[res.length - 1]?.[0];
        if (err && !/already exists/i.test(errText(err))) throw err;
        return 'ts';
      }
      throw new StorageError(`his: could not create the series of @${rel}: too much contention`);
    });
  }

  /**
   * Moves a TS point to a sorted set (one MULTI: samples, DEL of the series, meta), when it gets
   * values a series cannot hold (NA, ±inf, NaN, before 1970). Watches the series and the meta, so a
   * concurrent TS write retries the migration rather than being lost.
   */
  private async migrateToZset(rel: string, cfg: HisConfig): Promise<void> {
    const keys = this.folio.keys;
    const tsKey = keys.hisTs(rel);
    await this.withConn(async (c) => {
      for (let attempt = 0; attempt < 20; attempt++) {
        await c.watch(keys.hisMeta(rel), tsKey);
        if ((await c.hget(keys.hisMeta(rel), 'layout')) !== 'ts') return;
        let samples: [number, string][] = [];
        try {
          samples = (await c.call('TS.RANGE', tsKey, '-', '+')) as [number, string][];
        } catch (e) {
          if (!isMissingKeyErr(errText(e))) throw e;
        }
        const m = c.multi();
        for (let i = 0; i < samples.length; i += ZADD_CHUNK) {
          const args: (string | number)[] = [];
          for (const [t, v] of samples.slice(i, i + ZADD_CHUNK)) {
            const num = storedNum(Number(v)); // the float32 (a server may answer 21.2999992370605): stored as 21.3
            const sv: SVal = cfg.kind === 'Bool' ? num !== 0 : num;
            args.push(Number(t), encodeMember(Number(t), sv as Exclude<SVal, null>));
          }
          m.zadd(keys.hisZset(rel), ...args);
        }
        m.del(tsKey).hset(keys.hisMeta(rel), 'layout', 'zset');
        const res = await m.exec();
        if (res === null) continue;
        for (const [err] of res) if (err) throw err;
        this.folio.log(`hxredis ${keys.name}: history of @${rel} moved from TimeSeries to a sorted set (${samples.length} samples)`);
        this.st.layouts.set(rel, 'zset');
        return;
      }
      throw new StorageError(`his: could not migrate @${rel} to a sorted set: too much contention`);
    });
  }

  private async clearAllRel(rel: string): Promise<void> {
    const keys = this.folio.keys;
    await this.folio.main.multi().del(keys.hisZset(rel), keys.hisTs(rel), keys.hisMeta(rel)).exec();
    this.st.layouts.delete(rel);
  }

  // ---------------------------------------------------------------- zset write

  /**
   * One MULTI per point, guarded by WATCH: existing samples at the written timestamps are removed
   * (exactly one sample per timestamp), removals and `clear` applied, new members added, and the
   * stats for the transient tags read in the same transaction. Two round trips when nothing is
   * overwritten: `WATCH` + layout + `ZCOUNT` of the written range pipelined, then `MULTI ... EXEC`
   * (which ends the WATCH, so no `UNWATCH`); the members at overwritten timestamps are read
   * (watched) only when the range already holds samples. The ZADD arguments are built once, not
   * per retry, with each timestamp's text shared by score and member.
   */
  private async zsetWrite(rel: string, cfg: HisConfig, data: SItem[] | NumCols, clear?: { start: number; end: number }): Promise<Stats> {
    const keys = this.folio.keys;
    const zkey = keys.hisZset(rel);
    const meta = keys.hisMeta(rel);
    const n = Array.isArray(data) ? data.length : data.ts.length;
    const msAt = Array.isArray(data) ? (i: number) => (data[i] as SItem).ms : (i: number) => data.ts[i] as number;
    const min = n > 0 ? msAt(0) : undefined;
    const max = n > 0 ? msAt(n - 1) : undefined;

    // ZADD commands of ZADD_CHUNK samples, their RESP built here once (not per retry)
    const chunks: Buffer[] = [];
    const tails = new MemberTails();
    let b: RespBuilder | undefined;
    let inChunk = 0;
    const add = (ms: number, tail: Uint8Array) => {
      if (!b) {
        b = new RespBuilder(64 * Math.min(n, ZADD_CHUNK) + zkey.length);
        b.str('ZADD').str(zkey);
      }
      b.intPair(ms, tail);
      if (++inChunk >= ZADD_CHUNK) {
        chunks.push(b.done());
        b = undefined;
        inChunk = 0;
      }
    };
    if (Array.isArray(data)) {
      for (const it of data) if (it.v !== null) add(it.ms, tails.of(it.v));
    } else {
      const { ts, val } = data;
      const bool = cfg.kind === 'Bool';
      for (let i = 0; i < n; i++) {
        const v = val[i] as number;
        add(ts[i] as number, bool ? tails.bool(v !== 0) : tails.num(v));
      }
    }
    if (b) chunks.push((b as RespBuilder).done());

    return this.withConn(async (c, w) => {
      for (let attempt = 0; attempt < 20; attempt++) {
        const pre = c.pipeline().watch(zkey, meta).hget(meta, 'layout');
        if (min !== undefined) pre.zcount(zkey, min, max as number);
        w.watching = true;
        const preRes = (await pre.exec()) ?? [];
        for (const [err] of preRes) if (err) throw err;
        const layout = preRes[1]?.[1];
        if (layout !== 'zset' && layout !== null) throw new StorageError(`his: layout of @${rel} changed to ${String(layout)} during a write`);
        const overlap = Number(preRes[2]?.[1] ?? 0);
        // existing members at the written timestamps (found while watched, removed in the MULTI)
        let gone: string[] | undefined;
        if (overlap > 0 && overlap <= 4 * n + 1000) {
          const existing = (await c.zrangebyscore(zkey, min as number, max as number)) as string[];
          const written = new Set<number>();
          for (let i = 0; i < n; i++) written.add(msAt(i));
          gone = existing.filter((mem) => written.has(memberMs(mem)));
        }
        const m = c.multi();
        m.hsetnx(meta, 'layout', 'zset');
        if (clear) m.zremrangebyscore(zkey, clear.start, `(${clear.end}`);
        if (gone) {
          for (let i = 0; i < gone.length; i += ZADD_CHUNK) m.zrem(zkey, ...gone.slice(i, i + ZADD_CHUNK));
        } else if (overlap > 0) {
          for (let i = 0; i < n; i++) m.zremrangebyscore(zkey, msAt(i), msAt(i));
        }
        // a MULTI is an ioredis Pipeline, whose typed face lacks sendCommand
        for (const bytes of chunks) (m as unknown as Pipeline).sendCommand(new PreEncodedCommand('zadd', [zkey], bytes));
        m.zcard(zkey).zrange(zkey, '0', '0').zrange(zkey, '-1', '-1');
        const res = await m.exec();
        w.watching = false; // EXEC ended the WATCH, whether it ran or was aborted
        if (res === null) continue; // a concurrent write touched the point: retry
        for (const [err] of res) if (err) throw err;
        const size = Number(res[res.length - 3]?.[1] ?? 0);
        const first = (res[res.length - 2]?.[1] as string[])[0];
        const last = (res[res.length - 1]?.[1] as string[])[0];
        return {
          size,
          first: first === undefined ? undefined : memberMs(first),
          last: last === undefined ? undefined : memberMs(last),
        };
      }
      throw new StorageError(`his: write of @${rel} retried too often (concurrent writers)`);
    });
  }

  // ---------------------------------------------------------------- TimeSeries write

  private tsClient(): Promise<TsClient> {
    if (this.st.closed) return Promise.reject(new StorageError('his: folio is closed'));
    if (!this.st.ts) {
      const p = openTsClient(this.folio.connection, (m) => this.folio.log(m));
      this.st.ts = p;
      p.catch(() => {
        if (this.st.ts === p) this.st.ts = undefined;
      });
    }
    return this.st.ts;
  }

  /**
   * TS.MADD batches of `hisBatchSize` samples, `hisInFlight` in flight on one pipelined node-redis
   * connection; removals and `clear` as TS.DEL. Every element of every reply is checked: a
   * per-sample error fails the write with a HisWriteError naming the sample. If the series is gone
   * (moved to zset or cleared by another process), the failed samples are routed again once.
   */
  private async tsWrite(
    rec: HDict,
    cfg: HisConfig,
    rel: string,
    data: SItem[] | { ts: Float64Array; val: Float64Array },
    clear: { start: number; end: number } | undefined,
    retried = false,
  ): Promise<Stats> {
    const key = this.folio.keys.hisTs(rel);
    const client = await this.tsClient();
    const send = (args: string[]) => client.sendCommand(args) as Promise<unknown>;

    let ts: ArrayLike<number>;
    let val: ArrayLike<number>;
    const dels: number[] = [];
    if (Array.isArray(data)) {
      const t: number[] = [];
      const v: number[] = [];
      for (const it of data) {
        if (it.v === null) dels.push(it.ms);
        else {
          t.push(it.ms);
          v.push(tsNumber(it.v as number | boolean));
        }
      }
      ts = t;
      val = v;
    } else {
      ts = data.ts;
      val = data.val;
    }

    const ignoreMissing = (e: unknown) => {
      if (!isMissingKeyErr(errText(e))) throw e;
    };
    if (clear && clear.end - 1 >= 0) {
      await send(['TS.DEL', key, String(Math.max(0, clear.start)), String(clear.end - 1)]).catch(ignoreMissing);
    }

    const failures: { index: number; msg: string }[] = [];
    const tasks: (() => Promise<void>)[] = [];
    const B = this.st.batchSize;
    const nums = new NumText();
    for (let i = 0; i < ts.length; i += B) {
      const start = i;
      const end = Math.min(i + B, ts.length);
      tasks.push(async () => {
        const args: string[] = new Array(1 + (end - start) * 3);
        args[0] = 'TS.MADD';
        let k = 1;
        for (let j = start; j < end; j++) {
          args[k++] = key;
          args[k++] = String(ts[j]);
          args[k++] = nums.get(val[j] as number);
        }
        const reply = await send(args);
        if (!Array.isArray(reply) || reply.length !== end - start) {
          throw new StorageError(`his: unexpected TS.MADD reply for @${rel}: ${String(reply)}`);
        }
        for (let j = 0; j < reply.length; j++) {
          const r = reply[j] as unknown;
          if (r instanceof Error) failures.push({ index: start + j, msg: r.message });
          else if (typeof r !== 'number' && typeof r !== 'string') failures.push({ index: start + j, msg: `unexpected reply ${String(r)}` });
        }
      });
    }
    for (const ms of dels) {
      tasks.push(async () => {
        await send(['TS.DEL', key, String(ms), String(ms)]).catch(ignoreMissing);
      });
    }
    // TS.INFO for the tags goes out right behind the last batch on the same connection (node-redis
    // keeps the order), so its reply covers this write without another round trip
    let info: Promise<unknown> | undefined;
    await runLimited(tasks, this.st.inFlight, () => {
      info = send(['TS.INFO', key]);
      info.catch(() => undefined);
    });

    if (failures.length > 0) {
      failures.sort((a, b) => a.index - b.index);
      if (!retried && failures.every((f) => isMissingKeyErr(f.msg))) {
        // the series is gone: another process moved the point to zset or cleared it
        const items: SItem[] = failures.map((f) => ({ ms: ts[f.index] as number, v: cfg.kind === 'Bool' ? val[f.index] !== 0 : (val[f.index] as number) }));
        this.st.layouts.delete(rel);
        const lay = await this.ensureLayout(rel, cfg, true);
        if (lay === 'zset') return this.zsetWrite(rel, cfg, items);
        await this.ensureTsKey(rel, cfg);
        return this.tsWrite(rec, cfg, rel, items, undefined, true);
      }
      const f = failures[0] as { index: number; msg: string };
      const when = toDateTime(ts[f.index] as number, cfg.tz, cfg.iana).toZinc();
      const more = failures.length > 1 ? ` (and ${failures.length - 1} more rejected samples)` : '';
      throw new HisWriteError(rec, `TS.MADD rejected sample {ts:${when}, val:${fmtNum(val[f.index] as number)}}: ${f.msg}${more}`);
    }
    if (!info) return this.tsStats(rel);
    return this.tsStatsOf(info);
  }

  private tsStats(rel: string): Promise<Stats> {
    return this.tsStatsOf(this.folio.main.call('TS.INFO', this.folio.keys.hisTs(rel)));
  }

  /** Stats from a TS.INFO reply (RESP2 field/value array); a missing series is an empty history. */
  private async tsStatsOf(reply: Promise<unknown>): Promise<Stats> {
    let info: unknown[];
    try {
      info = (await reply) as unknown[];
    } catch (e) {
      if (isMissingKeyErr(errText(e))) return { size: 0, first: undefined, last: undefined };
      throw e;
    }
    const get = (name: string) => {
      const i = info.findIndex((x, k) => k % 2 === 0 && String(x) === name);
      return i >= 0 ? Number(info[i + 1]) : undefined;
    };
    const size = get('totalSamples') ?? 0;
    return { size, first: size > 0 ? get('firstTimestamp') : undefined, last: size > 0 ? get('lastTimestamp') : undefined };
  }

  private async zsetStats(rel: string): Promise<Stats> {
    const zkey = this.folio.keys.hisZset(rel);
    const res = (await this.folio.main.pipeline().zcard(zkey).zrange(zkey, '0', '0').zrange(zkey, '-1', '-1').exec()) ?? [];
    for (const [err] of res) if (err) throw err;
    const first = (res[1]?.[1] as string[])[0];
    const last = (res[2]?.[1] as string[])[0];
    return { size: Number(res[0]?.[1] ?? 0), first: first && memberMs(first), last: last && memberMs(last) } as Stats;
  }

  /** Transient hisSize / hisStart / hisEnd (rec tz); all removed when the history is empty. */
  private setTags(cfg: HisConfig, abs: string, rel: string, s: Stats): void {
    this.st.tagged.add(rel);
    if (s.size === 0 || s.first === undefined || s.last === undefined) {
      this.folio.setTransientTags(abs, { hisSize: undefined, hisStart: undefined, hisEnd: undefined });
      return;
    }
    this.folio.setTransientTags(abs, {
      hisSize: HNum.make(s.size),
      hisStart: toDateTime(s.first, cfg.tz, cfg.iana),
      hisEnd: toDateTime(s.last, cfg.tz, cfg.iana),
    });
  }

  /** Recomputes the transient tags from Redis (after another process wrote, or a tz change). */
  async refreshTags(id: HRef | string): Promise<void> {
    const rec = this.folio.readRecChecked(id, this.cx, false);
    const cfg = hisReadCheck(rec);
    const abs = this.folio.absId(id);
    const rel = toRel(abs, this.folio.idPrefix);
    const lay = await this.layoutOfRel(rel);
    const s = lay === 'ts' ? await this.tsStats(rel) : lay === 'zset' ? await this.zsetStats(rel) : { size: 0, first: undefined, last: undefined };
    this.setTags(cfg, abs, rel, s);
  }

  // ---------------------------------------------------------------- read

  /**
   * FolioHis.read: every item without a span; with a span, the items in [start, end), the last
   * item before start (only if an in-span item exists) and up to two items at or after end.
   */
  async read(id: HRef | string, span?: HisSpan, opts: HisReadOptions = {}): Promise<HisItem[]> {
    const out: HisItem[] = [];
    for await (const it of this.readStream(id, span, opts)) out.push(it);
    return out;
  }

  /** The streaming form of `read`: pages of 10,000 samples, fetched as the consumer goes. */
  async *readStream(id: HRef | string, span?: HisSpan, opts: HisReadOptions = {}): AsyncGenerator<HisItem> {
    const rec = this.folio.readRecChecked(id, this.cx, false);
    const cfg = hisReadCheck(rec);
    const abs = this.folio.absId(id);
    const rel = toRel(abs, this.folio.idPrefix);
    const limit = opts.limit ?? Infinity;
    if (limit <= 0) return;
    const now = opts.clipFuture ? Date.now() : Infinity;
    await this.maybeRefreshTags(rec, cfg, abs, rel);
    let emitted = 0;
    try {
      for await (const it of this.rawRange(rel, span ? msOf(span.start) : -Infinity, span ? msOf(span.end) : Infinity, !!span)) {
        if (it.ms > now) return;
        yield toHisItem(cfg, it);
        if (++emitted >= limit) return;
      }
    } catch (e) {
      if (e instanceof StorageError) throw e;
      throw storageError(e, this.folio.connection.url, 'his read');
    }
  }

  private async maybeRefreshTags(rec: HDict, cfg: HisConfig, abs: string, rel: string): Promise<void> {
    const start = rec.get('hisStart');
    const stale = start instanceof HDateTime && start.timezone !== cfg.tz;
    if (!stale && this.st.tagged.has(rel)) return;
    const lay = await this.layoutOfRel(rel);
    const s = lay === 'ts' ? await this.tsStats(rel) : lay === 'zset' ? await this.zsetStats(rel) : { size: 0, first: undefined, last: undefined };
    this.setTags(cfg, abs, rel, s);
  }

  /**
   * Stored samples of a range, ascending. With `neighbours`: the previous sample (only if the
   * range has one) and the next two, as spec 3.4. Pages through the range; never reads the
   * whole series.
   */
  private async *rawRange(rel: string, startMs: number, endMs: number, neighbours: boolean, retried = false): AsyncGenerator<SItem> {
    const lay = await this.layoutOfRel(rel, retried);
    if (lay === undefined) return;
    const gen = lay === 'zset' ? this.zsetRange(rel, startMs, endMs, neighbours) : this.tsRange(rel, startMs, endMs, neighbours);
    let yielded = false;
    try {
      for await (const it of gen) {
        yielded = true;
        yield it;
      }
    } catch (e) {
      if (!retried && !yielded && lay === 'ts' && isMissingKeyErr(errText(e))) {
        // moved to zset (or cleared) by another process: look again
        yield* this.rawRange(rel, startMs, endMs, neighbours, true);
        return;
      }
      throw e;
    }
  }

  private async *zsetRange(rel: string, startMs: number, endMs: number, neighbours: boolean): AsyncGenerator<SItem> {
    const main = this.folio.main;
    const zkey = this.folio.keys.hisZset(rel);
    const lo = startMs === -Infinity ? '-inf' : String(startMs);
    const hi = endMs === Infinity ? '+inf' : `(${endMs}`;
    const p = main.pipeline();
    if (neighbours) p.zrevrangebyscore(zkey, `(${lo}`, '-inf', 'LIMIT', 0, 1);
    p.zrangebyscore(zkey, lo, hi, 'LIMIT', 0, PAGE);
    if (neighbours && endMs !== Infinity) p.zrangebyscore(zkey, endMs, '+inf', 'LIMIT', 0, 2);
    const res = (await p.exec()) ?? [];
    for (const [err] of res) if (err) throw err;
    let k = 0;
    const prev = neighbours ? (res[k++]?.[1] as string[]) : [];
    let page = res[k++]?.[1] as string[];
    const next = neighbours && endMs !== Infinity ? (res[k++]?.[1] as string[]) : [];
    if (page.length > 0 && prev[0] !== undefined) yield decodeMember(prev[0]);
    for (;;) {
      for (const mem of page) yield decodeMember(mem);
      if (page.length < PAGE) break;
      const lastMs = memberMs(page[page.length - 1] as string);
      page = (await main.zrangebyscore(zkey, `(${lastMs}`, hi, 'LIMIT', 0, PAGE)) as string[];
    }
    for (const mem of next) yield decodeMember(mem);
  }

  private async *tsRange(rel: string, startMs: number, endMs: number, neighbours: boolean): AsyncGenerator<SItem> {
    const main = this.folio.main;
    const key = this.folio.keys.hisTs(rel);
    const lo = Math.max(0, startMs === -Infinity ? 0 : startMs);
    const hi = endMs === Infinity ? '+' : String(endMs - 1);
    const toItems = (rows: unknown): SItem[] => (rows as [number, string][]).map(([t, v]) => ({ ms: Number(t), v: Number(v) }));
    const p = main.pipeline();
    const hasPrev = neighbours && startMs > 0;
    if (hasPrev) p.call('TS.REVRANGE', key, '0', String(startMs - 1), 'COUNT', '1');
    const inRange = endMs === Infinity || endMs - 1 >= lo;
    if (inRange) p.call('TS.RANGE', key, String(lo), hi, 'COUNT', String(PAGE));
    const hasNext = neighbours && endMs !== Infinity;
    if (hasNext) p.call('TS.RANGE', key, String(Math.max(0, endMs)), '+', 'COUNT', '2');
    const res = (await p.exec()) ?? [];
    for (const [err] of res) if (err) throw err;
    let k = 0;
    const prev = hasPrev ? toItems(res[k++]?.[1]) : [];
    let page = inRange ? toItems(res[k++]?.[1]) : [];
    const next = hasNext ? toItems(res[k++]?.[1]) : [];
    if (page.length > 0 && prev[0] !== undefined) yield prev[0];
    for (;;) {
      yield* page;
      if (page.length < PAGE) break;
      const lastMs = (page[page.length - 1] as SItem).ms;
      if (hi !== '+' && lastMs + 1 > Number(hi)) break;
      page = toItems(await main.call('TS.RANGE', key, String(lastMs + 1), hi, 'COUNT', String(PAGE)));
    }
    yield* next;
  }

  // ---------------------------------------------------------------- rollup

  /**
   * Buckets of `intervalMs` (aligned to epoch 0, labelled by their start) over [start, end), folded
   * with avg/min/max/sum/count/first/last: TS aggregation on the server for TS points, computed
   * here over the streamed range for sorted-set points. Non-numeric samples (NA) are skipped.
   */
  async rollup(id: HRef | string, span: HisSpan, opts: HisRollupOptions): Promise<HisItem[]> {
    const rec = this.folio.readRecChecked(id, this.cx, false);
    const cfg = hisReadCheck(rec);
    const { fold, intervalMs } = opts;
    if (!FOLDS.has(fold)) throw new HisWriteError(rec, `Unknown rollup fold: ${String(fold)}`);
    if (!Number.isInteger(intervalMs) || intervalMs <= 0) throw new HisWriteError(rec, `Invalid rollup interval: ${intervalMs}`);
    const rel = this.rel(id);
    const startMs = msOf(span.start);
    const endMs = msOf(span.end);
    const unit = fold === 'count' ? undefined : cfg.kind === 'Number' ? cfg.unit : undefined;
    // min/max/first/last are stored samples (read back as float32); avg and sum are folded over
    // the stored texts' values on either backend, so TS and sorted-set points agree exactly
    const sample = fold === 'min' || fold === 'max' || fold === 'first' || fold === 'last';
    const mk = (ms: number, v: number) => {
      const n = sample ? storedNum(v) : v;
      return { ts: toDateTime(ms, cfg.tz, cfg.iana), val: unit ? HNum.make(n, unit) : HNum.make(n) };
    };
    const lay = await this.layoutOfRel(rel);
    if (lay === undefined || endMs <= startMs) return [];
    try {
      if (lay === 'ts') {
        if (endMs - 1 < 0) return [];
        const rows = (await this.folio.main.call(
          'TS.RANGE', this.folio.keys.hisTs(rel), String(Math.max(0, startMs)), String(endMs - 1), 'AGGREGATION', fold, String(intervalMs),
        )) as [number, string][];
        return rows.map(([t, v]) => mk(Number(t), Number(v)));
      }
    } catch (e) {
      if (!isMissingKeyErr(errText(e))) throw storageError(e, this.folio.connection.url, 'his rollup');
      // moved to zset by another process: fold here
    }
    const out: HisItem[] = [];
    let bucket = NaN;
    let acc = 0;
    let cnt = 0;
    const flush = () => {
      if (cnt === 0) return;
      out.push(mk(bucket, fold === 'avg' ? acc / cnt : fold === 'count' ? cnt : acc));
    };
    for await (const it of this.rawRange(rel, startMs, endMs, false)) {
      const v = typeof it.v === 'number' ? it.v : typeof it.v === 'boolean' ? (it.v ? 1 : 0) : NaN;
      if (Number.isNaN(v)) continue;
      const b = Math.floor(it.ms / intervalMs) * intervalMs;
      if (b !== bucket) {
        flush();
        bucket = b;
        cnt = 0;
        acc = fold === 'min' ? Infinity : fold === 'max' ? -Infinity : 0;
      }
      cnt++;
      switch (fold) {
        case 'avg':
        case 'sum':
          acc += v;
          break;
        case 'min':
          acc = Math.min(acc, v);
          break;
        case 'max':
          acc = Math.max(acc, v);
          break;
        case 'first':
          if (cnt === 1) acc = v;
          break;
        case 'last':
          acc = v;
          break;
        case 'count':
          break;
      }
    }
    flush();
    return out;
  }
}

function allFinite(a: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i] as number)) return false;
  return true;
}
