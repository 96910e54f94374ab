// RedisFolio: the Folio API (spec sections 1, 2 and 4) over Redis.
//
// Reads are served from an in-process RecCache loaded at open and kept in step by the change feed;
// filter queries are planned against Redis-side tag indexes (filter/plan.ts) and evaluated on the
// cached records. Commits are checked and applied in Redis (storage/commit.ts) and reach the cache
// only after EXEC succeeds. See docs/architecture.md.
import { HDict, HGrid, HRef, HRemove, type HDateTime, type HVal } from 'haystack-core';
import type { Redis } from 'ioredis';
import { Diff } from './Diff.js';
import {
  CommitError,
  ConcurrentChangeError,
  DiffError,
  FolioError,
  LoadError,
  PermissionError,
  ReadonlyReplicaError,
  ShutdownError,
  UnknownRecError,
} from './errors.js';
import { checkDiffs, checkIdPrefix } from './validate.js';
import { neverIndex } from './tagRules.js';
import { mapRefs, toAbs, toRel } from './refs.js';
import { compareDis, makeDictsGrid } from './readers.js';
import type { FolioContext, FolioHooks, ReadOptions } from './types.js';
import type { FolioInternals } from './internals.js';
import { RedisHis } from '../his/RedisHis.js';
import { compileFilter, type CompiledFilter } from '../filter/compile.js';
import { compileSearch } from '../filter/search.js';
import { planFilter, type Plan } from '../filter/plan.js';
import { planPath, type PathPlan } from '../filter/pathPlan.js';

/** How a read finds its candidates: the filter planner's plans, or a path walked over Ref indexes. */
export type FolioPlan = Plan | PathPlan;
import { termKey, type IndexTerm } from '../filter/indexTerms.js';
import { FolioKeys, LAYOUT_VERSION } from '../storage/keys.js';
import { migrateLayout1to2 } from '../storage/migrate.js';
import { decodeRec } from '../storage/codec.js';
import { RecCache, type Rec } from '../storage/recCache.js';
import {
  checkUrl,
  checkRedisOptions,
  acquireCommitConn,
  connectClient,
  makeClient,
  makeCommitPool,
  storageError,
  type CommitPool,
  type ConnectionOptions,
} from '../storage/connection.js';
import { modMs, runCommit, type PlannedDiff, type VerifiedDiff } from '../storage/commit.js';
import { applyEntries, compareStreamIds, drainFeed, feedHasGap, type FeedState, type StreamEntry } from '../storage/changeFeed.js';

const RESOLVED_UNDEFINED: Promise<undefined> = Promise.resolve(undefined);

export interface RedisFolioOptions extends ConnectionOptions {
  /** namespace of every key of this folio (default `db`); two names on one database share nothing */
  name?: string;
  /** e.g. `p:demo:r:`; ids are stored relative to it, so reopening with another prefix renames them */
  idPrefix?: string;
  hooks?: FolioHooks;
  /** open read-only: every write throws ReadonlyReplicaError */
  replica?: boolean;
  /** change-stream entries kept (approximate MAXLEN, default 100,000) */
  changeStreamMaxLen?: number;
  /** how long one blocking XREAD of the change feed waits (ms, default 2000) */
  feedBlockMs?: number;
  /**
   * after the feed applies entries it waits this long (ms, default 10) before reading again, so a
   * busy stream costs one read per interval; another process's commit is visible here within
   * this plus one round trip (or at once after `sync()`)
   */
  feedCoalesceMs?: number;
  /** log sink (default: none) */
  log?: (msg: string) => void;
  /** a commit whose transaction gets no answer for this long fails with a StorageError (default 30,000 ms) */
  commitTimeoutMs?: number;
  /** history backend: detected at open (`auto`, the default) or forced */
  hisBackend?: 'auto' | 'timeseries' | 'zset';
  /** samples per TS.MADD (default 1000) */
  hisBatchSize?: number;
  /** TS.MADD batches in flight (default 16) */
  hisInFlight?: number;
}

const MGET_CHUNK = 1000;

/** State shared by a folio and every view of it made by `withContext`. */
class FolioCore {
  readonly keys: FolioKeys;
  readonly cache = new RecCache();
  readonly feedState: FeedState;
  closed = false;
  hooks: FolioHooks | undefined;
  hooksSet = false;
  lastModMs = 0;
  readonly closeActions: (() => Promise<void>)[] = [];
  /** per-folio state of other managers (history), shared by every view of this folio */
  readonly shared = new Map<string, unknown>();
  private feedLoop: Promise<void> | undefined;

  constructor(
    readonly opts: RedisFolioOptions,
    readonly idPrefix: string | undefined,
    readonly main: Redis,
    readonly feed: Redis,
    readonly pool: CommitPool,
  ) {
    this.keys = new FolioKeys(opts.name ?? 'db');
    this.feedState = { keys: this.keys, idPrefix, cache: this.cache, lastId: '0-0', own: new Set() };
    if (opts.hooks) {
      this.hooks = opts.hooks;
      this.hooksSet = true;
    }
  }

  log(msg: string): void {
    this.opts.log?.(msg);
  }

  async load(): Promise<void> {
    const { main, keys } = this;
    await main.hsetnx(keys.meta, 'layout', String(LAYOUT_VERSION));
    let layout = await main.hget(keys.meta, 'layout');
    if (layout === '1') {
      if (this.opts.replica) throw new LoadError(`Folio ${keys.name} has key layout 1; open it once without replica to migrate it to layout ${LAYOUT_VERSION}`);
      const moved = await migrateLayout1to2(main, keys);
      this.log(`folio ${keys.name}: key layout 1 -> 2 (${moved} history keys renamed)`);
      layout = await main.hget(keys.meta, 'layout');
    }
    if (layout !== String(LAYOUT_VERSION)) {
      throw new LoadError(`Folio ${keys.name} has key layout ${layout}; this hxredis reads layout ${LAYOUT_VERSION}`);
    }
    // remember the stream position first: anything committed while we load is replayed after
    const last = (await main.xrevrange(keys.changes, '+', '-', 'COUNT', 1)) as StreamEntry[];
    const lastId = last[0]?.[0] ?? '0-0';
    const relIds = await main.smembers(keys.all);
    this.cache.clear();
    for (let i = 0; i < relIds.length; i += MGET_CHUNK * 16) {
      const pipe = main.pipeline();
      const slices: string[][] = [];
      for (let j = i; j < Math.min(relIds.length, i + MGET_CHUNK * 16); j += MGET_CHUNK) {
        const slice = relIds.slice(j, j + MGET_CHUNK);
        slices.push(slice);
        pipe.mget(...slice.map((id) => keys.rec(id)));
      }
      const res = (await pipe.exec()) ?? [];
      res.forEach(([err, vals], k) => {
        if (err) throw err;
        const slice = slices[k] as string[];
        (vals as (string | null)[]).forEach((text, n) => {
          if (text === null) return; // removed between SMEMBERS and MGET: the feed replays it
          const rel = slice[n] as string;
          const rec = decodeRec(text, this.idPrefix, keys.rec(rel));
          this.cache.put(toAbs(rel, this.idPrefix), rec, text);
        });
      });
    }
    this.feedState.lastId = lastId;
    this.feedState.own.clear();
    await drainFeed(main, this.feedState);
  }

  startFeed(): void {
    const blockMs = this.opts.feedBlockMs ?? 2000;
    const coalesceMs = this.opts.feedCoalesceMs ?? 10;
    const loop = async () => {
      let failures = 0;
      while (!this.closed) {
        try {
          if (failures > 0 && (await feedHasGap(this.feed, this.feedState))) {
            this.log(`hxredis ${this.keys.name}: change stream trimmed past this cache, reloading`);
            await this.load();
          }
          const res = (await this.feed.xread(
            'COUNT',
            1000,
            'BLOCK',
            blockMs,
            'STREAMS',
            this.keys.changes,
            this.feedState.lastId,
          )) as [string, StreamEntry[]][] | null;
          if (res?.[0]) {
            await applyEntries(this.main, this.feedState, res[0][1]);
            // coalesce: under a stream of commits, one XREAD per interval instead of one per
            // commit (each would cost the writers a Redis round trip); bounds staleness by this
            await sleep(coalesceMs);
          }
          failures = 0;
        } catch (e) {
          if (this.closed) break;
          failures++;
          this.log(`hxredis ${this.keys.name}: change feed: ${(e as Error).message}`);
          await sleep(Math.min(2000, 50 * 2 ** Math.min(failures, 6)));
        }
      }
    };
    this.feedLoop = loop();
  }

  /**
   * Commit connections this process borrowed from the pool and keeps at hand: a commit takes one
   * without a trip through generic-pool's request queue and timers (it stays counted as borrowed,
   * so the pool's limit still holds).
   */
  private readonly idle: Redis[] = [];

  /**
   * Commit transactions in flight, checked by one sweep timer (not a timer per commit: arming and
   * clearing one cost a single-diff commit about 5 us). A transaction past its deadline fails
   * with a timeout and its connection is dropped, so a late EXEC reply can never be mistaken for
   * a later commit's.
   */
  private readonly watched = new Set<{ conn: Redis; deadline: number; fail: (e: Error) => void }>();
  private sweep: NodeJS.Timeout | undefined;

  private stopSweepIfIdle(): void {
    if (this.closed && this.watched.size === 0 && this.sweep) {
      clearInterval(this.sweep);
      this.sweep = undefined;
    }
  }

  /** Runs a commit transaction on `conn` under the commit timeout. */
  guard<T>(conn: Redis, run: () => Promise<T>): Promise<T> {
    const timeoutMs = this.opts.commitTimeoutMs ?? 30_000;
    if (!this.sweep) {
      const every = Math.max(10, Math.min(1000, Math.floor(timeoutMs / 4)));
      this.sweep = setInterval(() => {
        const now = performance.now();
        for (const w of this.watched) {
          if (now < w.deadline) continue;
          this.watched.delete(w);
          w.conn.disconnect();
          w.fail(new Error(`connection timeout: no answer within ${timeoutMs} ms`));
        }
        this.stopSweepIfIdle();
      }, every);
      this.sweep.unref();
    }
    return new Promise<T>((resolve, reject) => {
      const w = { conn, deadline: performance.now() + timeoutMs, fail: reject };
      this.watched.add(w);
      run().then(
        (v) => {
          this.watched.delete(w);
          resolve(v);
        },
        (e: unknown) => {
          this.watched.delete(w);
          reject(e as Error);
        },
      );
    });
  }

  async borrow(): Promise<Redis> {
    for (let c = this.idle.pop(); c; c = this.idle.pop()) {
      if (c.status === 'ready') return c;
      await this.pool.destroy(c).catch(() => undefined);
    }
    return acquireCommitConn(this.pool);
  }

  giveBack(c: Redis): void {
    // a commit waiting in the pool's queue gets the connection: kept at hand here, it would stay
    // counted as borrowed and the waiters would starve until the acquire timeout
    if (!this.closed && c.status === 'ready' && this.pool.pending === 0) this.idle.push(c);
    else void this.pool.release(c).catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    // commits still in flight keep their timeout: the sweep stops itself once they settle
    this.stopSweepIfIdle();
    for (const c of this.idle.splice(0)) await this.pool.release(c).catch(() => undefined);
    for (const f of this.closeActions) await f().catch(() => undefined);
    this.feed.disconnect();
    await this.feedLoop?.catch(() => undefined);
    // a pool create may be stuck connecting to a Redis that is away: do not wait on it forever
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((r) => (timer = setTimeout(r, 2000)));
    await Promise.race([this.pool.drain().then(() => this.pool.clear()), timeout]).catch(() => undefined);
    clearTimeout(timer); // nothing of a closed folio may keep the process alive
    if (this.main.status === 'ready') {
      // QUIT lets queued replies arrive; with Redis away there is nothing to wait for
      await this.main.quit().catch(() => this.main.disconnect());
    } else {
      this.main.disconnect();
    }
  }
}

export class RedisFolio {
  private readonly core: FolioCore;
  private readonly cx: FolioContext | undefined;

  private constructor(core: FolioCore, cx: FolioContext | undefined) {
    this.core = core;
    this.cx = cx;
  }

  /** Connects, loads every record into the cache and starts following the change stream. */
  static async open(opts: RedisFolioOptions): Promise<RedisFolio> {
    checkUrl(opts.url);
    checkRedisOptions(opts);
    if (opts.idPrefix !== undefined) checkIdPrefix(opts.idPrefix);
    new FolioKeys(opts.name ?? 'db'); // validates the name before any connection is made
    const main = await connectClient(makeClient(opts, 'main'), opts.url);
    let feed: Redis | undefined;
    try {
      feed = await connectClient(makeClient(opts, 'feed'), opts.url);
      const core = new FolioCore(opts, opts.idPrefix || undefined, main, feed, makeCommitPool(opts));
      try {
        await core.load();
      } catch (e) {
        throw e instanceof LoadError ? e : storageError(e, opts.url, 'Open');
      }
      core.startFeed();
      const folio = new RedisFolio(core, undefined);
      // history backend detection (MODULE LIST, else a TS probe) happens at open, and is logged
      await folio.his.detectBackend();
      return folio;
    } catch (e) {
      main.disconnect();
      feed?.disconnect();
      throw e;
    }
  }

  /** A view of the same folio whose reads and commits are checked against `cx`. */
  withContext(cx: FolioContext): RedisFolio {
    return new RedisFolio(this.core, cx);
  }

  get name(): string {
    return this.core.keys.name;
  }

  /** The history manager of this folio (spec section 3), checked against this view's context. */
  get his(): RedisHis {
    this.hisView ??= new RedisHis(this.internals(), this.cx);
    return this.hisView;
  }
  private hisView: RedisHis | undefined;

  /** The narrow view of this folio that history code uses (src/folio/internals.ts). */
  private internals(): FolioInternals {
    const core = this.core;
    return {
      keys: core.keys,
      idPrefix: core.idPrefix,
      connection: core.opts,
      main: core.main,
      options: core.opts as unknown as Readonly<Record<string, unknown>>,
      log: (msg) => core.log(msg),
      hooks: () => core.hooks,
      readRecChecked: (id, cx, write) => {
        if (core.closed) throw new ShutdownError(write ? 'Cannot write, folio is closed' : 'Cannot read, folio is closed');
        if (write && core.opts.replica) throw new ReadonlyReplicaError('Cannot write, folio is replica');
        const abs = this.absId(id);
        const rec = core.cache.get(abs);
        if (!rec || rec.isTrash) throw new UnknownRecError(`@${abs}`);
        const dict = core.cache.visible(rec);
        if (cx && !cx.canRead(dict)) throw new PermissionError(`Cannot read: @${abs}`);
        if (write && cx && !cx.canWrite({ oldRec: dict, diff: undefined })) throw new PermissionError(`Cannot write: @${abs}`);
        return dict;
      },
      setTransientTags: (id, tags) => {
        const rec = core.cache.get(id);
        if (!rec) return;
        const obj = { ...(rec.transient?.toObj() ?? {}) } as Record<string, HVal>;
        for (const [name, val] of Object.entries(tags)) {
          if (val === undefined) delete obj[name];
          else obj[name] = val;
        }
        core.cache.setTransient(rec, HDict.make(obj));
      },
      absId: (id) => this.absId(id),
      onClose: (f) => {
        core.closeActions.push(f);
      },
      isClosed: () => core.closed,
      shared: <T>(key: string, make: () => T): T => {
        if (!core.shared.has(key)) core.shared.set(key, make());
        return core.shared.get(key) as T;
      },
    };
  }
  get idPrefix(): string | undefined {
    return this.core.idPrefix;
  }
  get hooks(): FolioHooks | undefined {
    return this.core.hooks;
  }
  set hooks(hooks: FolioHooks | undefined) {
    if (this.core.hooksSet) throw new Error('Cannot modify hooks more than once');
    this.core.hooks = hooks;
    this.core.hooksSet = true;
  }
  isClosed(): boolean {
    return this.core.closed;
  }
  isReadable(): boolean {
    return !this.core.closed;
  }
  isWritable(): boolean {
    return !this.core.closed && !this.core.opts.replica;
  }

  // ---------------------------------------------------------------- reads by id

  readById(id: HRef | string, checked = true): Promise<HDict | undefined> {
    // not async: the hot path hands out the record's resolved promise (RecCache.visiblePromise)
    try {
      this.checkRead();
      const rec = this.recById(id, checked, false);
      return rec ? this.core.cache.visiblePromise(rec) : RESOLVED_UNDEFINED;
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  async readByIdTrash(id: HRef | string, checked = true): Promise<HDict | undefined> {
    this.checkRead();
    return this.byId(id, checked, true);
  }

  async readByIdsList(ids: (HRef | string)[], checked = true): Promise<(HDict | undefined)[]> {
    this.checkRead();
    let unknown: string | undefined;
    let denied: string | undefined;
    const out = ids.map((id) => {
      const abs = this.absId(id);
      const rec = this.core.cache.get(abs);
      if (!rec || rec.isTrash) {
        unknown ??= abs;
        return undefined;
      }
      const dict = this.core.cache.visible(rec);
      if (this.cx && !this.cx.canRead(dict)) {
        denied ??= abs;
        return undefined;
      }
      return dict;
    });
    if (checked) {
      if (denied !== undefined) throw new PermissionError(`Cannot read: @${denied}`);
      if (unknown !== undefined) throw new UnknownRecError(`@${unknown}`);
    }
    return out;
  }

  async readByIds(ids: (HRef | string)[], checked = true): Promise<HGrid> {
    return makeDictsGrid(await this.readByIdsList(ids, checked));
  }

  async readByIdPersistentTags(id: HRef | string, checked = true): Promise<HDict | undefined> {
    this.checkRead();
    const rec = this.recById(id, checked, false);
    return rec ? this.withDis(rec.persistent) : undefined;
  }

  async readByIdTransientTags(id: HRef | string, checked = true): Promise<HDict | undefined> {
    this.checkRead();
    const rec = this.recById(id, checked, false);
    if (!rec) return undefined;
    return rec.transient ? this.withDis(rec.transient) : HDict.make({});
  }

  // ---------------------------------------------------------------- reads by filter

  async read(filter: string, checked = true): Promise<HDict | undefined> {
    this.checkRead();
    const list = await this.readAllList(filter, { limit: 1 });
    if (list[0]) return list[0];
    if (checked) throw new UnknownRecError(filter);
    return undefined;
  }

  async readAllList(filter: string, opts: ReadOptions = {}): Promise<HDict[]> {
    this.checkRead();
    const out: HDict[] = [];
    await this.each(filter, opts, false, (d) => {
      out.push(d);
      return undefined;
    });
    return opts.sort ? this.sortByDis(out) : out;
  }

  async readAll(filter: string, opts: ReadOptions = {}): Promise<HGrid> {
    return makeDictsGrid(await this.readAllList(filter, opts), opts.gridMeta);
  }

  async readCount(filter: string, opts: ReadOptions = {}): Promise<number> {
    this.checkRead();
    let n = 0;
    await this.each(filter, opts, false, () => {
      n++;
      return undefined;
    });
    return n;
  }

  async readAllEachWhile<T>(filter: string, opts: ReadOptions | null | undefined, f: (rec: HDict) => T | undefined): Promise<T | undefined> {
    this.checkRead();
    return this.each(filter, opts ?? {}, false, f);
  }

  async readTrash(filter: string, opts: ReadOptions = {}): Promise<HGrid> {
    this.checkRead();
    const out: HDict[] = [];
    await this.each(filter, opts, true, (d) => {
      out.push(d);
      return undefined;
    });
    return makeDictsGrid(opts.sort ? this.sortByDis(out) : out, opts.gridMeta);
  }

  /** The plan a filter gets (for tests, benchmarks and `explain`-style tooling). */
  explain(filter: string): FolioPlan {
    return this.plan(compileFilter(filter));
  }

  // ---------------------------------------------------------------- commits

  async commit(diff: Diff): Promise<Diff> {
    const [res] = await this.commitAll([diff]);
    return res as Diff;
  }

  async commitAll(diffs: Diff[]): Promise<Diff[]> {
    this.checkWrite();
    if (!Array.isArray(diffs)) throw new DiffError('commitAll takes an array of Diffs');
    for (const d of diffs) {
      if (!(d instanceof Diff)) throw new DiffError('commitAll takes Diff instances');
    }
    checkDiffs(diffs);
    const { core } = this;
    // permission checks on the caller's side, before anything is read from Redis (spec 2.3 step 3)
    if (this.cx) {
      for (const d of diffs) {
        const id = this.absId(d.id);
        const rec = core.cache.get(id);
        const old = rec ? core.cache.visible(rec) : undefined;
        if (old && !this.cx.canRead(old)) throw new PermissionError(`Cannot read: @${id}`);
        if (!this.cx.canWrite({ oldRec: old, diff: d })) throw new PermissionError(`Cannot write: @${id}`);
      }
    }
    const planned = diffs.map((d) => this.planDiff(d));
    if (diffs[0]?.isTransient) return this.commitTransient(diffs, planned);
    return this.commitPersistent(diffs, planned);
  }

  async commitRemoveTrash(): Promise<number> {
    this.checkWrite();
    const trash: Diff[] = [];
    for (const rec of this.core.cache.map.values()) {
      if (rec.isTrash) trash.push(new Diff(this.core.cache.visible(rec), null, Diff.remove | Diff.force));
    }
    if (trash.length === 0) throw new DiffError('No diffs to commit');
    await this.commitAll(trash);
    return trash.length;
  }

  async curVer(): Promise<number> {
    this.checkRead();
    try {
      return Number((await this.core.main.get(this.core.keys.ver)) ?? 0);
    } catch (e) {
      throw storageError(e, this.core.opts.url, 'curVer');
    }
  }

  /** Applies every commit made before this call (by any process) and refreshes display names. */
  async sync(): Promise<void> {
    this.checkRead();
    const { core } = this;
    try {
      if (await feedHasGap(core.main, core.feedState)) await core.load();
      else await drainFeed(core.main, core.feedState);
    } catch (e) {
      throw storageError(e, core.opts.url, 'Sync');
    }
    core.cache.refreshDis();
  }

  async close(): Promise<void> {
    if (this.core.closed) return;
    await this.core.close();
  }

  // ---------------------------------------------------------------- internals

  private checkRead(): void {
    if (this.core.closed) throw new ShutdownError('Cannot read, folio is closed');
  }

  private checkWrite(): void {
    if (this.core.closed) throw new ShutdownError('Cannot write, folio is closed');
    if (this.core.opts.replica) throw new ReadonlyReplicaError('Cannot write, folio is replica');
  }

  private absId(id: HRef | string): string {
    return toAbs(typeof id === 'string' ? (id.startsWith('@') ? id.slice(1) : id) : id.value, this.core.idPrefix);
  }

  private recById(id: HRef | string, checked: boolean, includeTrash: boolean): Rec | undefined {
    const abs = this.absId(id);
    const rec = this.core.cache.get(abs);
    if (!rec || (!includeTrash && rec.isTrash)) {
      if (checked) throw new UnknownRecError(`@${abs}`);
      return undefined;
    }
    if (this.cx && !this.cx.canRead(this.core.cache.visible(rec))) {
      if (checked) throw new PermissionError(`Cannot read: @${abs}`);
      return undefined;
    }
    return rec;
  }

  private byId(id: HRef | string, checked: boolean, includeTrash: boolean): HDict | undefined {
    const rec = this.recById(id, checked, includeTrash);
    return rec ? this.core.cache.visible(rec) : undefined;
  }

  /** Refs of a layer dict with display names attached, as in `visible`. */
  private withDis(dict: HDict): HDict {
    return mapRefs(dict, (ref) => {
      const dis = this.core.cache.disOf(ref.value);
      return dis === undefined ? HRef.make(ref.value) : HRef.make(ref.value, dis);
    }) as HDict;
  }

  private sortByDis(list: HDict[]): HDict[] {
    const dis = (d: HDict) => this.core.cache.disOf((d.get('id') as HRef).value) ?? '';
    return [...list].sort((a, b) => compareDis(dis(a), dis(b)));
  }

  private resolve = (ref: HRef): HDict | undefined => this.core.cache.get(toAbs(ref.value, this.core.idPrefix))?.merged;

  private plan(filter: CompiledFilter): FolioPlan {
    const { cache } = this.core;
    const prefix = this.core.idPrefix;
    // indexes hold Ref ids relative to the idPrefix (storage/commit.ts termKeysOf)
    const refId = prefix ? (id: string) => toRel(toAbs(id, prefix), prefix) : undefined;
    const plan = planFilter(filter, { total: cache.size, tagCount: (t) => cache.tagCount(t) }, { neverIndex, refId });
    // transient tags are not indexed: a plan that leans on one could miss records
    if (plan.kind === 'index' && plan.union.some((g) => g.some((t) => cache.hasTransientTag(t.tag)))) {
      return { kind: 'scan' };
    }
    if (plan.kind === 'scan') {
      const path = planPath(
        filter,
        { indexed: (t) => !neverIndex(t) && !cache.hasTransientTag(t), refOnly: (t) => cache.refOnly(t) },
        { refId },
      );
      if (path) return path;
    }
    return plan;
  }

  /** Candidate records of a plan, in cache order (so a limited read is a prefix of the full one). */
  private async candidates(plan: FolioPlan): Promise<Iterable<Rec>> {
    const { cache } = this.core;
    switch (plan.kind) {
      case 'empty':
        return [];
      case 'scan':
        return cache.map.values();
      case 'byId':
        return this.recsOf(new Set(plan.ids));
      case 'path': {
        const ids = await this.pathLookup(plan);
        if (!ids) return cache.map.values();
        return this.recsOf(ids);
      }
      case 'index':
        return this.recsOf(await this.indexLookup(plan.union));
    }
  }

  /** Cached records of relative ids, in cache order. */
  private recsOf(relIds: Iterable<string>): Rec[] {
    const { cache, idPrefix } = this.core;
    const recs: Rec[] = [];
    for (const rel of relIds) {
      const rec = cache.get(toAbs(rel, idPrefix));
      if (rec) recs.push(rec);
    }
    return recs.sort((a, b) => a.seq - b.seq);
  }

  /**
   * The records a path plan reaches: the leaf term's set, then one SUNION per hop of the
   * `eq hop=r:<id>` sets (one round trip each). Undefined (scan instead) when a hop fans out to
   * more ids than a scan would cost.
   */
  private async pathLookup(plan: PathPlan): Promise<Set<string> | undefined> {
    const { keys, main, cache } = this.core;
    const limit = Math.max(1000, cache.size * 0.25);
    try {
      let ids = await main.smembers(keys.index(termKey(plan.leaf)));
      for (let i = plan.hops.length - 1; i >= 0 && ids.length > 0; i--) {
        if (ids.length > limit) return undefined;
        const hop = plan.hops[i] as string;
        ids = await main.sunion(...ids.map((id) => keys.index(termKey({ kind: 'eq', tag: hop, value: `r:${id}` }))));
      }
      return new Set(ids);
    } catch (e) {
      throw storageError(e, this.core.opts.url, 'Index lookup');
    }
  }

  /** One pipeline: SINTER (or SMEMBERS) per AND group; the union is taken here. */
  private async indexLookup(union: IndexTerm[][]): Promise<Set<string>> {
    const { keys, main } = this.core;
    const pipe = main.pipeline();
    for (const group of union) {
      const groupKeys = group.map((t) => keys.index(termKey(t)));
      if (groupKeys.length === 1) pipe.smembers(groupKeys[0] as string);
      else pipe.sinter(...groupKeys);
    }
    let res: [Error | null, unknown][] | null;
    try {
      res = await pipe.exec();
    } catch (e) {
      throw storageError(e, this.core.opts.url, 'Index lookup');
    }
    const out = new Set<string>();
    for (const [err, ids] of res ?? []) {
      if (err) throw storageError(err, this.core.opts.url, 'Index lookup');
      for (const id of ids as string[]) out.add(id);
    }
    return out;
  }

  /** The read pipeline of spec 1.2: trash, permission, search, count, callback, limit. */
  private async each<T>(
    filterText: string,
    opts: ReadOptions,
    trash: boolean,
    f: (rec: HDict) => T | undefined,
  ): Promise<T | undefined> {
    const filter = compileFilter(filterText);
    const search = opts.search ? compileSearch(opts.search) : undefined;
    const limit = opts.limit ?? Number.POSITIVE_INFINITY;
    if (limit <= 0) return undefined;
    const { cache } = this.core;
    const candidates = await this.candidates(opts.forceScan ? { kind: 'scan' } : this.plan(filter));
    let count = 0;
    for (const rec of candidates) {
      if (rec.isTrash !== trash) continue;
      if (!filter.matches(rec.merged, this.resolve)) continue;
      const dict = cache.visible(rec);
      if (this.cx && !this.cx.canRead(dict)) continue;
      if (search && !search(rec.merged, cache.disOf(rec.id) ?? rec.id, this.resolve)) continue;
      count++;
      const r = f(dict);
      if (r !== undefined && r !== null) return r;
      if (count >= limit) return undefined;
    }
    return undefined;
  }

  /** Normalizes a caller's diff: absolute id, absolute refs in the changes (spec 2.5). */
  private planDiff(d: Diff): PlannedDiff {
    const prefix = this.core.idPrefix;
    const id = this.absId(d.id);
    const changes = prefix ? (mapRefs(d.changes, (r) => HRef.make(toAbs(r.value, prefix))) as HDict) : d.changes;
    return { id, isAdd: d.isAdd, isRemove: d.isRemove, isForce: d.isForce, oldMod: d.oldMod, changes };
  }

  private async commitPersistent(diffs: Diff[], planned: PlannedDiff[]): Promise<Diff[]> {
    const { core } = this;
    const cxInfo = this.cx?.commitInfo?.();
    let conn: Redis;
    try {
      // fail fast while Redis is away: the pool would otherwise wait for a connection to appear
      if (core.main.status !== 'ready') throw new Error(`connection is ${core.main.status}`);
      conn = await core.borrow();
    } catch (e) {
      throw storageError(e, core.opts.url, 'Commit');
    }
    let result;
    try {
      // a Redis that stops answering fails the commit after commitTimeoutMs (FolioCore.guard)
      result = await core.guard(conn, () => runCommit(
        conn,
        {
          keys: core.keys,
          idPrefix: core.idPrefix,
          changeStreamMaxLen: core.opts.changeStreamMaxLen ?? 100_000,
          lastModMs: core.lastModMs,
          verifyExtra: (v) => this.checkLayerOverlap(v, false),
          cached: (id) => {
            const rec = core.cache.get(id);
            return rec && { text: rec.storedText, persistent: rec.persistent };
          },
          beforeWrite: (verified) => {
            verified.forEach((v, i) => {
              core.hooks?.preCommit?.({ diff: diffs[i] as Diff, oldRec: this.oldVisible(v), cxInfo });
            });
          },
        },
        planned,
      ));
    } catch (e) {
      await core.pool.destroy(conn).catch(() => undefined);
      // our own errors (verify, hooks) pass through; anything from the connection is a StorageError
      if (e instanceof FolioError || !isRedisFailure(e)) throw e;
      throw storageError(e, core.opts.url, 'Commit');
    }
    core.giveBack(conn);

    // EXEC succeeded: only now does the local image change
    core.lastModMs = Math.max(core.lastModMs, result.newModMs);
    // our own entry, unless the feed (or a sync) already read it as anyone's: then it is applied
    // and must not linger in `own`
    if (compareStreamIds(result.streamId, core.feedState.lastId) > 0) core.feedState.own.add(result.streamId);
    const out = result.diffs.map((v, i) => {
      const oldRec = this.oldVisible(v);
      const cached = core.cache.get(v.id);
      const transient = cached?.transient;
      // concurrent commits of this process may resolve out of order: never roll a record back
      const cachedMod = cached?.mod;
      const cachedMs = cachedMod ? modMs(cachedMod) : -1;
      if (cachedMs <= result.newModMs) {
        // an update recounts only the tags it changed (and mod); an add or a different base recounts all
        const delta = v.oldPersistent && !v.isAdd ? { base: v.oldPersistent, tags: [...v.changes.keys, 'mod'] } : undefined;
        if (v.newPersistent) core.cache.put(v.id, v.newPersistent, v.newText, delta);
        else core.cache.delete(v.id);
      }
      const rec = core.cache.get(v.id);
      if (rec && transient) core.cache.setTransient(rec, transient);
      const newRec = rec ? core.cache.visible(rec) : undefined;
      return Diff.makeAll({
        id: newRec ? (newRec.get('id') as HRef) : HRef.make(v.id),
        oldMod: v.oldPersistent?.get('mod') as HDateTime | undefined,
        oldRec,
        newMod: v.newPersistent ? result.newMod : undefined,
        newRec,
        changes: (diffs[i] as Diff).changes,
        flags: (diffs[i] as Diff).flags,
      });
    });
    await this.dropHistory(result.diffs.filter((v) => v.isRemove).map((v) => v.id));
    for (const d of out) core.hooks?.postCommit?.({ diff: d, oldRec: d.oldRec, cxInfo });
    return out;
  }

  /**
   * A removed record's history goes with it. History keys live in other hash slots (one per
   * point), so this is a DEL after the commit rather than part of its transaction; a failure here
   * leaves orphaned history keys, never a half-removed record.
   */
  private async dropHistory(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const { keys, idPrefix, main } = this.core;
    try {
      const pipe = main.pipeline();
      for (const id of ids) {
        const rel = toRel(id, idPrefix);
        pipe.del(keys.hisZset(rel), keys.hisTs(rel), keys.hisMeta(rel));
      }
      await pipe.exec();
    } catch (e) {
      this.core.log(`hxredis ${keys.name}: could not delete history of removed records: ${(e as Error).message}`);
    }
  }

  /** The pre-commit dict of a verified diff: Redis's persistent tags + this process's transient ones. */
  private oldVisible(v: VerifiedDiff): HDict | undefined {
    if (!v.oldPersistent) return undefined;
    const cached = this.core.cache.get(v.id);
    // the usual case: Redis held exactly what the cache holds, whose visible dict is already built
    if (cached && cached.persistent === v.oldPersistent) return this.core.cache.visible(cached);
    const transient = cached?.transient;
    const obj = transient ? { ...v.oldPersistent.toObj(), ...transient.toObj() } : v.oldPersistent.toObj();
    return this.withDis(HDict.make(obj as Record<string, HVal>));
  }

  /** HxFolio's layer rule: a tag lives in one layer; crossing it is a CommitError (spec 2.3). */
  private checkLayerOverlap(v: VerifiedDiff, transient: boolean): void {
    if (v.isAdd || v.isRemove) return;
    const rec = this.core.cache.get(v.id);
    for (const name of v.changes.keys) {
      if (transient) {
        if (v.oldPersistent?.has(name)) throw new CommitError(`Cannot update persistent tag transiently: ${name}`);
      } else if (rec?.transient?.has(name)) {
        throw new CommitError(`Cannot update transient tag persistently: ${name}`);
      }
    }
  }

  /**
   * Transient commits change only this process's transient layer (never Redis, never curVer), but
   * the `mod` check still reads the record from Redis.
   */
  private async commitTransient(diffs: Diff[], planned: PlannedDiff[]): Promise<Diff[]> {
    const { core } = this;
    const cxInfo = this.cx?.commitInfo?.();
    let stored: (string | null)[];
    try {
      stored = await core.main.mget(...planned.map((p) => core.keys.rec(toRel(p.id, core.idPrefix))));
    } catch (e) {
      throw storageError(e, core.opts.url, 'Commit');
    }
    const verified: VerifiedDiff[] = planned.map((p, i) => {
      const text = stored[i] ?? null;
      if (text === null) throw new CommitError(`Rec not found: ${p.id}`);
      const oldPersistent = decodeRec(text, core.idPrefix, core.keys.rec(toRel(p.id, core.idPrefix)));
      const cur = oldPersistent.get('mod') as HDateTime | undefined;
      if (!p.isForce && !(cur && p.oldMod && cur.equals(p.oldMod))) {
        throw new ConcurrentChangeError(`${p.id}: ${cur?.toZinc() ?? 'null'} != ${p.oldMod?.toZinc() ?? 'null'}`);
      }
      return { ...p, oldPersistent, newPersistent: oldPersistent, newText: text };
    });
    verified.forEach((v) => this.checkLayerOverlap(v, true));
    verified.forEach((v, i) => core.hooks?.preCommit?.({ diff: diffs[i] as Diff, oldRec: this.oldVisible(v), cxInfo }));
    const out = verified.map((v, i) => {
      const oldRec = this.oldVisible(v);
      // our cache may lag Redis (another process's commit not yet fed): take Redis's persistent tags
      const cachedRec = core.cache.get(v.id);
      const rec =
        cachedRec && cachedRec.storedText === v.newText ? cachedRec : core.cache.put(v.id, v.oldPersistent as HDict, v.newText);
      const obj: Record<string, HVal> = { ...(rec.transient?.toObj() ?? {}) } as Record<string, HVal>;
      for (const name of v.changes.keys) {
        const val = v.changes.get(name);
        if (!val || val instanceof HRemove) delete obj[name];
        else obj[name] = val;
      }
      core.cache.setTransient(rec, HDict.make(obj));
      const newRec = core.cache.visible(rec);
      const mod = rec.mod;
      return Diff.makeAll({
        id: newRec.get('id') as HRef,
        oldMod: mod,
        oldRec,
        newMod: mod,
        newRec,
        changes: (diffs[i] as Diff).changes,
        flags: (diffs[i] as Diff).flags,
      });
    });
    for (const d of out) core.hooks?.postCommit?.({ diff: d, oldRec: d.oldRec, cxInfo });
    return out;
  }
}

/** Errors that come from ioredis or the socket rather than from our code or a hook. */
function isRedisFailure(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const ctor = e.constructor.name;
  return (
    ['AbortError', 'ReplyError', 'MaxRetriesPerRequestError', 'ClusterAllFailedError'].includes(ctor) ||
    'code' in e ||
    /connection|stream isn't writeable|command timed out|socket|ECONN|EPIPE/i.test(e.message)
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
