// Shared helpers of the Folio conformance suites (test/integration/folio-*.test.ts).
// Mirrors Haxall's AbstractFolioTest: addRec pops `id` into makeAdd, commit(rec, changes, flags),
// reopen, and "nothing written" snapshots (every live and trashed rec, plus curVer).
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import {
  HDateTime,
  HDict,
  HGrid,
  HMarker,
  HNum,
  HRef,
  HRemove,
  HStr,
  type HVal,
  Kind,
  valueToZinc,
} from 'haystack-core';
import { RedisFolio, Diff } from '../../src/index.js';
import type { Backend } from './backends.js';
import type { TestRedis } from './redis.js';
import { uniqueName } from './redis.js';

export type OpenOptions = Parameters<typeof RedisFolio.open>[0];
/** Options of a folio without the url (filled in from the file's server). */
export type FolioOpts = Partial<Omit<OpenOptions, 'url'>>;

// ---------------------------------------------------------------- values

export const m: HMarker = HMarker.make();
/** The removal marker (`None` / `Remove` in the spec). */
export const none: HRemove = HRemove.make();
export function n(val: number, unit?: string): HNum {
  return unit === undefined ? HNum.make(val) : HNum.make(val, unit);
}
export function s(val: string): HStr {
  return HStr.make(val);
}
export function ref(id: string, dis?: string): HRef {
  return dis === undefined ? HRef.make(id) : HRef.make(id, dis);
}
export function dict(values: Record<string, HVal | undefined | null>): HDict {
  return HDict.make(values as Record<string, HVal>);
}

/** The id (string) of a rec, Ref or string. */
export function idOf(x: HDict | HRef | string | undefined | null): string {
  if (x === undefined || x === null) throw new Error('idOf: no rec');
  if (typeof x === 'string') return x;
  if (x instanceof HRef) return x.value;
  const id = x.get<HRef>('id');
  if (!id) throw new Error(`idOf: rec has no id: ${x.toZinc()}`);
  return id.value;
}

/** Sorted ids of some recs. */
export function idsOf(recs: Iterable<HDict | undefined | null>): string[] {
  const out: string[] = [];
  for (const r of recs) out.push(r ? idOf(r) : '<null>');
  return out.sort();
}

/** Ids of recs, in their order. */
export function idsInOrder(recs: Iterable<HDict | undefined | null>): string[] {
  const out: string[] = [];
  for (const r of recs) out.push(r ? idOf(r) : '<null>');
  return out;
}

/** The rows of a grid as dicts. */
export function rows(grid: HGrid): HDict[] {
  return grid.getRows();
}

/** The mod of a rec, in epoch millis. */
export function modMillis(rec: HDict | undefined): number {
  const mod = rec?.get<HDateTime>('mod');
  if (!mod) throw new Error(`rec has no mod: ${rec?.toZinc()}`);
  return mod.date.getTime();
}

/** Tag names of a rec, sorted. */
export function tagNames(rec: HDict | undefined | null): string[] {
  if (!rec) return [];
  return [...rec.keys].sort();
}

/**
 * A canonical text of a value, independent of key order and Ref display names, for comparisons.
 * Display names of Refs are dropped because they may be recomputed; everything else is kept.
 */
export function canon(val: unknown): string {
  if (val === undefined) return 'undefined';
  if (val === null) return 'null';
  if (val instanceof HDict) {
    const keys = [...val.keys].sort();
    return `{${keys.map((k) => `${k}:${canon(val.get(k))}`).join(',')}}`;
  }
  if (val instanceof HRef) return `@${val.value}`;
  if (val instanceof HGrid) return val.toZinc();
  if (typeof val === 'object' && val !== null && 'toZinc' in val && typeof (val as HVal).toZinc === 'function') {
    const v = val as HVal;
    if (v.isKind(Kind.List)) {
      const arr = [...(val as unknown as Iterable<unknown>)];
      return `[${arr.map(canon).join(',')}]`;
    }
    return valueToZinc(v);
  }
  return String(val);
}

/** Compares two recs by their canonical text (order of tags and Ref dis ignored). */
export function expectSameRec(actual: HDict | undefined | null, expected: HDict | undefined | null): void {
  expect(actual, 'rec missing').toBeTruthy();
  expect(canon(actual)).toBe(canon(expected));
}

// ---------------------------------------------------------------- folio lifecycle

const urls = new WeakMap<RedisFolio, { url: string; opts: FolioOpts }>();

export async function openFolio(url: string, opts: FolioOpts = {}): Promise<RedisFolio> {
  const full = { name: opts.name ?? uniqueName('folio'), ...opts, url } as OpenOptions;
  const folio = await RedisFolio.open(full);
  urls.set(folio, { url, opts: { ...opts, name: full.name } });
  return folio;
}

/** Closes the folio and opens it again with the same url and name (and the same options unless overridden). */
export async function reopen(folio: RedisFolio, override: FolioOpts = {}): Promise<RedisFolio> {
  const info = urls.get(folio);
  if (!info) throw new Error('reopen: folio was not opened with openFolio');
  if (!folio.isClosed()) await folio.close();
  const opts = { ...info.opts, ...override, name: info.opts.name };
  return openFolio(info.url, opts);
}

/**
 * One server per test file, a fresh folio per test (unique name), closed after each test.
 * Use `ctx.folio` inside tests; `ctx.track(f)` registers extra folios to close.
 */
export interface FolioCtx {
  url: string;
  folio: RedisFolio;
  /** opens a fresh folio (unique name unless given) and tracks it for closing */
  open(opts?: FolioOpts): Promise<RedisFolio>;
  /** reopen the given folio (default ctx.folio), replacing ctx.folio when it is the one */
  reopen(folio?: RedisFolio, override?: FolioOpts): Promise<RedisFolio>;
}

export function useFolio(backend: Backend, defaults: FolioOpts = {}): FolioCtx {
  let server: TestRedis | undefined;
  const open: RedisFolio[] = [];
  const ctx: FolioCtx = {
    url: '',
    folio: undefined as unknown as RedisFolio,
    async open(opts: FolioOpts = {}) {
      const f = await openFolio(ctx.url, { ...defaults, ...opts });
      open.push(f);
      return f;
    },
    async reopen(folio?: RedisFolio, override: FolioOpts = {}) {
      const target = folio ?? ctx.folio;
      const f = await reopen(target, override);
      open.push(f);
      if (target === ctx.folio) ctx.folio = f;
      return f;
    },
  };
  beforeAll(async () => {
    server = await backend.start();
    ctx.url = server.url;
  });
  afterAll(async () => {
    await server?.stop();
  });
  // a fresh folio per test
  // (beforeEach is registered by the caller through freshFolio so the order with other hooks is clear)
  afterEach(async () => {
    for (const f of open.splice(0)) {
      try {
        if (!f.isClosed()) await f.close();
      } catch {
        // closing a broken folio must not hide the test's own failure
      }
    }
  });
  return ctx;
}

/** Opens `ctx.folio` fresh; call from a beforeEach. */
export async function freshFolio(ctx: FolioCtx, opts: FolioOpts = {}): Promise<RedisFolio> {
  ctx.folio = await ctx.open(opts);
  return ctx.folio;
}

// ---------------------------------------------------------------- commits

type Changes = HDict | Record<string, unknown>;

/** AbstractFolioTest.addRec: pops `id` (Ref or string) into makeAdd, commits and returns the new rec. */
export async function addRec(folio: RedisFolio, tags: Changes): Promise<HDict> {
  const map: Record<string, unknown> = {};
  if (tags instanceof HDict) {
    for (const k of tags.keys) map[k] = tags.get(k);
  } else {
    Object.assign(map, tags);
  }
  const id = map.id;
  delete map.id;
  const diff =
    id === undefined ? Diff.makeAdd(map) : Diff.makeAdd(map, typeof id === 'string' ? HRef.make(id) : (id as HRef));
  const res = await folio.commit(diff);
  if (!res.newRec) throw new Error('addRec: commit returned no newRec');
  return res.newRec;
}

/** AbstractFolioTest.commit: commits `new Diff(rec, changes, flags)` and returns the new rec (undefined on remove). */
export async function commit(
  folio: RedisFolio,
  rec: HDict,
  changes: Changes | null,
  flags = 0,
): Promise<HDict | undefined> {
  const res = await folio.commit(new Diff(rec, changes, flags));
  return res.newRec ?? undefined;
}

/** Re-reads a rec by its id (checked). */
export async function reread(folio: RedisFolio, rec: HDict | HRef | string): Promise<HDict> {
  const r = await folio.readById(typeof rec === 'string' || rec instanceof HRef ? rec : (rec.get('id') as HRef));
  if (!r) throw new Error('reread: checked readById returned undefined');
  return r;
}

// ---------------------------------------------------------------- nothing-written snapshots

export interface Snapshot {
  live: Map<string, string>;
  trash: Map<string, string>;
  curVer: number;
}

async function recMap(grid: HGrid): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const r of grid.getRows()) out.set(idOf(r), canon(r));
  return out;
}

/** Every live and trashed rec (canonical text) and curVer (after sync). */
export async function snapshot(folio: RedisFolio): Promise<Snapshot> {
  await folio.sync();
  return {
    live: await recMap(await folio.readAll('id')),
    trash: await recMap(await folio.readTrash('id')),
    curVer: await folio.curVer(),
  };
}

/** Asserts that nothing changed since the snapshot: same recs, tags, mods, trash and curVer. */
export async function expectNothingWritten(folio: RedisFolio, before: Snapshot): Promise<void> {
  const after = await snapshot(folio);
  expect(Object.fromEntries(after.live), 'live recs changed').toEqual(Object.fromEntries(before.live));
  expect(Object.fromEntries(after.trash), 'trash changed').toEqual(Object.fromEntries(before.trash));
  expect(after.curVer, 'curVer changed').toBe(before.curVer);
}

/** The sync'ed curVer. */
export async function curVer(folio: RedisFolio): Promise<number> {
  await folio.sync();
  return folio.curVer();
}

/**
 * Runs `fn` (which must reject, or throw synchronously) and asserts the error class (and message
 * pattern), then that nothing was written.
 */
export async function expectFailsCleanly(
  folio: RedisFolio,
  fn: () => Promise<unknown> | unknown,
  errClass: abstract new (...args: never[]) => Error,
  message?: string | RegExp,
): Promise<Error> {
  const before = await snapshot(folio);
  const err = await catchErr(fn);
  expect(err, `expected ${errClass.name}, got ${describeErr(err)}`).toBeInstanceOf(errClass);
  if (message !== undefined) {
    if (typeof message === 'string') expect(err.message).toContain(message);
    else expect(err.message).toMatch(message);
  }
  await expectNothingWritten(folio, before);
  return err;
}

/** The error thrown (sync) or rejected (async) by `fn`; fails if it succeeds. */
export async function catchErr(fn: () => Promise<unknown> | unknown): Promise<Error> {
  let result: unknown;
  try {
    result = await fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error(`expected an error, but it succeeded with ${describeVal(result)}`);
}

/** The error thrown synchronously by `fn` (e.g. a Diff constructor); fails if none. */
export function catchSync(fn: () => unknown): Error {
  let result: unknown;
  try {
    result = fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error(`expected a synchronous error, but it returned ${describeVal(result)}`);
}

export function describeErr(e: unknown): string {
  if (e instanceof Error) return `${e.constructor.name}: ${e.message}`;
  return String(e);
}

function describeVal(v: unknown): string {
  if (v instanceof HDict || v instanceof HGrid) return v.toZinc();
  if (v instanceof Diff) return `Diff(${v.id?.value})`;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** Waits long enough for `Date.now()` to move on (mods are millisecond precision). */
export function tick(ms = 2): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
