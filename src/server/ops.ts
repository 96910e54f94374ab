// The Haystack ops. Each takes the request grid and returns the response grid; errors are thrown
// (HttpError or a folio error) and turned into error grids by the server.
import { hostname } from 'node:os';
import {
  HDate,
  HDateTime,
  HDict,
  HGrid,
  HMarker,
  HNum,
  HRef,
  HStr,
  Kind,
  ZincReader,
  valueIsKind,
  type HVal,
} from 'haystack-core';
import { Diff } from '../folio/Diff.js';
import type { RedisFolio } from '../folio/RedisFolio.js';
import type { HisItem } from '../folio/types.js';
import { HttpError, badRequest, oneLine } from './errors.js';
import { FORMATS } from './formats.js';
import { addDays, dateTimeAt, localTzName, startOfDayMs, toTz, todayIn } from './tz.js';
import { DEFAULT_LEASE_MS, MAX_LEASE_MS, MIN_LEASE_MS, fingerprint, type WatchRegistry } from './watches.js';
import { pointWrite, priorityGrid } from './pointWrite.js';

export interface OpContext {
  folio: RedisFolio;
  project: string;
  watches: WatchRegistry;
  bootTime: HDateTime;
  version: string;
  /** rows a read returns at most */
  maxReadRows: number;
  /** history items a hisRead returns at most */
  maxHisRows: number;
}

export interface OpDef {
  name: string;
  summary: string;
  /** ops that change nothing may be called with GET */
  get: boolean;
  fn: (cx: OpContext, req: HGrid) => Promise<HGrid>;
}

// ---------------------------------------------------------------- helpers

const empty = () => HGrid.make({});

function firstRow(req: HGrid): HDict {
  return req.getRows()[0] ?? HDict.make({});
}

function strArg(d: HDict, name: string, required: true): string;
function strArg(d: HDict, name: string, required?: boolean): string | undefined;
function strArg(d: HDict, name: string, required = false): string | undefined {
  const v = d.get(name);
  if (v === undefined || v === null) {
    if (required) throw badRequest(`Missing '${name}'`);
    return undefined;
  }
  if (valueIsKind<HStr>(v, Kind.Str)) return v.value;
  if (valueIsKind<HRef>(v, Kind.Ref)) return v.value;
  if (valueIsKind<HDate>(v, Kind.Date) || valueIsKind<HDateTime>(v, Kind.DateTime)) return (v as HVal).toZinc();
  throw badRequest(`'${name}' must be a Str, not ${v.toZinc()}`);
}

function refArg(d: HDict, name: string): string {
  const v = d.get(name);
  if (v === undefined || v === null) throw badRequest(`Missing '${name}'`);
  let id: string;
  if (valueIsKind<HRef>(v, Kind.Ref)) id = v.value;
  else if (valueIsKind<HStr>(v, Kind.Str)) id = v.value.replace(/^@/, '');
  else throw badRequest(`'${name}' must be a Ref, not ${v.toZinc()}`);
  if (!/^[A-Za-z0-9_:\-.~]+$/.test(id)) throw badRequest(`Invalid Ref id: ${JSON.stringify(id)}`);
  return id;
}

function numArg(d: HDict, name: string): number | undefined {
  const v = d.get(name);
  if (v === undefined || v === null) return undefined;
  if (valueIsKind<HNum>(v, Kind.Number)) return v.value;
  if (valueIsKind<HStr>(v, Kind.Str) && /^-?\d+(\.\d+)?$/.test(v.value.trim())) return Number(v.value);
  throw badRequest(`'${name}' must be a Number, not ${v.toZinc()}`);
}

/** A grid from records, with at least an `id` column when every row is empty. */
function recsGrid(rows: HDict[], meta?: Record<string, HVal>): HGrid {
  const names: string[] = [];
  const seen = new Set<string>();
  for (const r of rows) {
    for (const k of r.keys) {
      if (!seen.has(k)) {
        seen.add(k);
        names.push(k);
      }
    }
  }
  if (rows.length && names.length === 0) names.push('id');
  // id first, then the rest in first-seen order
  names.sort((a, b) => (a === 'id' ? -1 : b === 'id' ? 1 : 0));
  return HGrid.make({ meta: HDict.make(meta ?? {}), columns: names.map((name) => ({ name })), rows });
}

// ---------------------------------------------------------------- about, ops, formats

async function about(cx: OpContext): Promise<HGrid> {
  const row = HDict.make({
    haystackVersion: HStr.make('4.0'),
    tz: HStr.make(localTzName()),
    serverName: HStr.make(hostname()),
    serverTime: dateTimeAt(Date.now(), localTzName()),
    serverBootTime: cx.bootTime,
    productName: HStr.make('hxredis'),
    productUri: HStr.make('https://github.com/hxredis/hxredis'),
    productVersion: HStr.make(cx.version),
    vendorName: HStr.make('hxredis'),
    vendorUri: HStr.make('https://github.com/hxredis/hxredis'),
    moduleName: HStr.make('hxredis'),
    moduleVersion: HStr.make(cx.version),
    projName: HStr.make(cx.project),
    folioName: HStr.make(cx.folio.name),
    curVer: HNum.make(await cx.folio.curVer()),
  });
  return HGrid.make({ rows: [row] });
}

async function opsOp(): Promise<HGrid> {
  return HGrid.make({
    columns: [{ name: 'name' }, { name: 'summary' }],
    rows: OPS.map((o) => HDict.make({ name: HStr.make(o.name), summary: HStr.make(o.summary) })),
  });
}

async function formats(): Promise<HGrid> {
  return HGrid.make({
    columns: [{ name: 'mime' }, { name: 'receive' }, { name: 'send' }],
    rows: FORMATS.map((f) =>
      HDict.make({
        mime: HStr.make(f.mime),
        ...(f.receive ? { receive: HMarker.make() } : {}),
        ...(f.send ? { send: HMarker.make() } : {}),
      }),
    ),
  });
}

// ---------------------------------------------------------------- read, nav

async function read(cx: OpContext, req: HGrid): Promise<HGrid> {
  const cols = req.getColumns().map((c) => c.name);
  const row0 = firstRow(req);
  if (cols.includes('filter')) {
    const filter = strArg(row0, 'filter', true);
    const limitArg = numArg(row0, 'limit');
    if (limitArg !== undefined && !Number.isFinite(limitArg)) throw badRequest('limit must be finite');
    const limit = Math.min(limitArg ?? cx.maxReadRows, cx.maxReadRows);
    const recs = await cx.folio.readAllList(filter, { limit });
    return recsGrid(recs);
  }
  if (cols.includes('id')) {
    const ids = req.getRows().map((r) => refArg(r, 'id'));
    if (ids.length > cx.maxReadRows) throw badRequest(`Too many ids (limit ${cx.maxReadRows})`);
    const recs = await cx.folio.readByIdsList(ids, false);
    return recsGrid(recs.map((r) => r ?? HDict.make({})));
  }
  throw badRequest("read needs a 'filter' or an 'id' column");
}

async function nav(cx: OpContext, req: HGrid): Promise<HGrid> {
  const row0 = firstRow(req);
  const navIdVal = row0.get('navId');
  let recs: HDict[];
  let childFilter: ((rec: HDict) => string | undefined) | undefined;
  if (navIdVal === undefined || navIdVal === null) {
    recs = await cx.folio.readAllList('site', { sort: true, limit: cx.maxReadRows });
    childFilter = () => 'has';
  } else {
    const id = refArg(row0, 'navId');
    const parent = await cx.folio.readById(id, false);
    if (!parent) throw new HttpError(404, `Unknown navId: @${id}`, 'UnknownRecErr');
    const absId = (parent.get('id') as HRef).value;
    if (parent.has('site')) {
      const equips = await cx.folio.readAllList(`equip and siteRef==@${absId}`, { sort: true, limit: cx.maxReadRows });
      const points = await cx.folio.readAllList(`point and siteRef==@${absId} and not equipRef`, {
        sort: true,
        limit: cx.maxReadRows,
      });
      recs = [...equips, ...points];
      childFilter = (r) => (r.has('equip') ? 'has' : undefined);
    } else if (parent.has('equip')) {
      recs = await cx.folio.readAllList(`point and equipRef==@${absId}`, { sort: true, limit: cx.maxReadRows });
    } else {
      recs = [];
    }
  }
  const rows = recs.map((r) => {
    if (!childFilter?.(r)) return r;
    const obj: Record<string, HVal> = {};
    for (const k of r.keys) obj[k] = r.get(k) as HVal;
    obj.navId = r.get('id') as HRef;
    return HDict.make(obj);
  });
  return recsGrid(rows);
}

// ---------------------------------------------------------------- history

export interface Span {
  start: HDateTime;
  end: HDateTime;
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

function parseDate(s: string): { y: number; m: number; d: number } | undefined {
  const m = DATE_RE.exec(s);
  if (!m) return undefined;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const t = new Date(Date.UTC(y, mo - 1, d));
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== mo - 1 || t.getUTCDate() !== d) {
    throw badRequest(`Invalid date in range: ${s}`);
  }
  return { y, m: mo, d };
}

function parseDateTime(s: string, tz: string): HDateTime {
  let v: HVal | null | undefined;
  try {
    v = ZincReader.readValue(s);
  } catch (e) {
    throw badRequest(`Invalid range: ${s}: ${oneLine((e as Error).message)}`);
  }
  if (!valueIsKind<HDateTime>(v, Kind.DateTime)) throw badRequest(`Invalid range: ${s}`);
  return toTz(v, tz);
}

/**
 * A hisRead range in the point's tz: `today`, `yesterday`, `YYYY-MM-DD`, `date,date` (inclusive
 * days), `dateTime,dateTime` (end exclusive), or one `dateTime` (to now).
 */
export function parseRange(range: string, tz: string, nowMs = Date.now()): Span {
  const r = range.trim();
  const at = (ms: number) => dateTimeAt(ms, tz);
  const day = (d: { y: number; m: number; d: number }) => startOfDayMs(d.y, d.m, d.d, tz);
  if (r === 'today' || r === 'yesterday') {
    const today = todayIn(tz, nowMs);
    const d = r === 'today' ? today : addDays(today, -1);
    return { start: at(day(d)), end: at(day(addDays(d, 1))) };
  }
  const parts = r.split(',').map((p) => p.trim());
  if (parts.length === 0 || parts.length > 2 || parts.some((p) => !p)) throw badRequest(`Invalid range: ${range}`);
  const dates = parts.map(parseDate);
  if (dates.every((d) => d !== undefined)) {
    const d0 = dates[0] as { y: number; m: number; d: number };
    const d1 = (dates[1] ?? d0) as { y: number; m: number; d: number };
    const start = day(d0);
    const end = day(addDays(d1, 1));
    if (end <= start) throw badRequest(`Invalid range: ${range}: end is before start`);
    return { start: at(start), end: at(end) };
  }
  if (dates.some((d) => d !== undefined)) throw badRequest(`Invalid range: ${range}: mixes dates and dateTimes`);
  const start = parseDateTime(parts[0] as string, tz);
  const end = parts[1] === undefined ? at(nowMs) : parseDateTime(parts[1], tz);
  if (end.date.getTime() <= start.date.getTime()) throw badRequest(`Invalid range: ${range}: end is not after start`);
  return { start, end };
}

async function hisRec(cx: OpContext, id: string): Promise<{ rec: HDict; tz: string }> {
  const rec = await cx.folio.readById(id);
  if (!rec) throw new HttpError(404, `Unknown rec: @${id}`, 'UnknownRecErr');
  if (!rec.has('his')) throw badRequest(`Not a his point: @${id}`);
  const tz = rec.get('tz')?.toString();
  if (!tz) throw badRequest(`His point has no tz: @${id}`);
  return { rec, tz };
}

async function hisRead(cx: OpContext, req: HGrid): Promise<HGrid> {
  const row0 = firstRow(req);
  const id = refArg(row0, 'id');
  const range = strArg(row0, 'range', true);
  const { rec, tz } = await hisRec(cx, id);
  const span = parseRange(range, tz);
  const t0 = span.start.date.getTime();
  const t1 = span.end.date.getTime();
  const items = (await cx.folio.his.read(id, span)).filter((it) => {
    const t = it.ts.date.getTime();
    return t >= t0 && t < t1;
  });
  if (items.length > cx.maxHisRows) throw badRequest(`Range has ${items.length} items, more than the limit ${cx.maxHisRows}`);
  const unit = rec.get('unit');
  return HGrid.make({
    meta: HDict.make({ id: rec.get('id') as HRef, hisStart: span.start, hisEnd: span.end }),
    columns: [
      { name: 'ts', meta: HDict.make({ tz: HStr.make(tz) }) },
      { name: 'val', meta: HDict.make({ ...(unit ? { unit } : {}), ...(rec.get('kind') ? { kind: rec.get('kind') as HVal } : {}) }) },
    ],
    rows: items.map((it) => HDict.make({ ts: toTz(it.ts, tz), val: it.val })),
  });
}

async function hisWrite(cx: OpContext, req: HGrid): Promise<HGrid> {
  const id = refArg(req.meta, 'id');
  const { tz } = await hisRec(cx, id);
  const items: HisItem[] = req.getRows().map((row, i) => {
    const ts = row.get('ts');
    if (!valueIsKind<HDateTime>(ts, Kind.DateTime)) throw badRequest(`hisWrite row ${i + 1}: 'ts' must be a DateTime`);
    const val = row.get('val');
    if (val === undefined || val === null) throw badRequest(`hisWrite row ${i + 1}: missing 'val'`);
    return { ts: toTz(ts, tz), val };
  });
  const res = await cx.folio.his.write(id, items);
  return HGrid.make({ meta: HDict.make({ count: HNum.make(res.count) }) });
}

// ---------------------------------------------------------------- pointWrite

async function pointWriteOp(cx: OpContext, req: HGrid): Promise<HGrid> {
  const row0 = firstRow(req);
  const id = refArg(row0, 'id');
  const levelArg = numArg(row0, 'level');
  if (levelArg === undefined) {
    const rec = await cx.folio.readById(id);
    if (!rec?.has('point')) throw badRequest(`Not a point: @${id}`);
    return priorityGrid(rec);
  }
  const val = row0.get('val');
  const rec = await pointWrite(cx.folio, id, {
    level: levelArg,
    val: val === null || val === undefined ? undefined : val,
    who: strArg(row0, 'who'),
    duration: row0.get('duration'),
  });
  return priorityGrid(rec);
}

// ---------------------------------------------------------------- watches

function leaseArg(meta: HDict): number | undefined {
  const v = meta.get('lease');
  if (v === undefined || v === null) return undefined;
  if (!valueIsKind<HNum>(v, Kind.Number)) throw badRequest("'lease' must be a Number");
  const ids = v.unit ? [v.unit.symbol, ...v.unit.ids] : ['s'];
  const mult = ids.includes('ms') ? 1 : ids.includes('min') ? 60_000 : ids.includes('h') ? 3600_000 : ids.includes('s') ? 1000 : undefined;
  if (mult === undefined) throw badRequest(`'lease' unit must be ms, s, min or h`);
  return Math.max(MIN_LEASE_MS, Math.min(MAX_LEASE_MS, v.value * mult));
}

function watchMeta(w: { id: string; leaseMs: number }): HDict {
  return HDict.make({ watchId: HStr.make(w.id), lease: HNum.make(w.leaseMs / 1000, 's') });
}

async function watchSub(cx: OpContext, req: HGrid): Promise<HGrid> {
  const meta = req.meta;
  const watchId = strArg(meta, 'watchId');
  const lease = leaseArg(meta);
  let w;
  if (watchId) {
    w = cx.watches.get(watchId);
    if (!w) throw new HttpError(404, `Unknown watch: ${watchId}`, 'UnknownWatchErr');
    if (lease !== undefined) w.leaseMs = lease;
  } else {
    w = cx.watches.open(strArg(meta, 'watchDis') ?? 'watch', lease ?? DEFAULT_LEASE_MS);
  }
  w.touch();
  const ids = req.getRows().map((r) => refArg(r, 'id'));
  const recs = await cx.folio.readByIdsList(ids, false);
  const rows: HDict[] = [];
  recs.forEach((rec, i) => {
    const key = rec ? (rec.get('id') as HRef).value : (ids[i] as string);
    w.ids.set(key, { fp: fingerprint(rec) });
    rows.push(rec ?? HDict.make({}));
  });
  return recsGrid(rows, Object.fromEntries(watchMeta(w).keys.map((k) => [k, watchMeta(w).get(k) as HVal])));
}

async function watchUnsub(cx: OpContext, req: HGrid): Promise<HGrid> {
  const meta = req.meta;
  const watchId = strArg(meta, 'watchId', true);
  if (meta.has('close') || req.getRows().length === 0) {
    cx.watches.close(watchId);
    return empty();
  }
  const w = cx.watches.get(watchId);
  if (!w) return empty();
  for (const r of req.getRows()) {
    const id = refArg(r, 'id');
    w.ids.delete(id);
    const abs = (await cx.folio.readById(id, false))?.get('id') as HRef | undefined;
    if (abs) w.ids.delete(abs.value);
  }
  return empty();
}

async function watchPoll(cx: OpContext, req: HGrid): Promise<HGrid> {
  const meta = req.meta;
  const watchId = strArg(meta, 'watchId', true);
  const w = cx.watches.get(watchId);
  if (!w) throw new HttpError(404, `Unknown or expired watch: ${watchId}`, 'UnknownWatchErr');
  w.touch();
  const refresh = meta.has('refresh');
  const ids = [...w.ids.keys()];
  const recs = await cx.folio.readByIdsList(ids, false);
  const rows: HDict[] = [];
  recs.forEach((rec, i) => {
    const id = ids[i] as string;
    const entry = w.ids.get(id);
    if (!entry) return;
    const fp = fingerprint(rec);
    if (!refresh && fp === entry.fp) return;
    const wasThere = entry.fp !== '';
    entry.fp = fp;
    if (rec) rows.push(rec);
    else if (wasThere || refresh) rows.push(HDict.make({ id: HRef.make(id), removed: HMarker.make() }));
  });
  return recsGrid(rows, Object.fromEntries(watchMeta(w).keys.map((k) => [k, watchMeta(w).get(k) as HVal])));
}

// ---------------------------------------------------------------- commit

/** A row's tags with null cells (columns the row does not use) dropped. */
function rowTags(row: HDict, skip: string[]): Record<string, HVal> {
  const out: Record<string, HVal> = {};
  for (const k of row.keys) {
    if (skip.includes(k)) continue;
    const v = row.get(k);
    if (v !== undefined && v !== null) out[k] = v;
  }
  return out;
}

async function commit(cx: OpContext, req: HGrid): Promise<HGrid> {
  const mode = strArg(req.meta, 'commit', true);
  const force = req.meta.has('force');
  const transient = req.meta.has('transient');
  const rows = req.getRows();
  if (rows.length === 0) throw badRequest('commit: no rows');
  const diffs: Diff[] = [];
  for (const [i, row] of rows.entries()) {
    const where = `commit row ${i + 1}`;
    try {
      if (mode === 'add') {
        const idVal = row.get('id');
        const changes = rowTags(row, ['id', 'mod']);
        diffs.push(idVal === undefined || idVal === null ? Diff.makeAdd(changes) : Diff.makeAdd(changes, refArg(row, 'id')));
      } else if (mode === 'update' || mode === 'remove') {
        const id = refArg(row, 'id');
        const mod = row.get('mod');
        let old: HDict;
        if (valueIsKind<HDateTime>(mod, Kind.DateTime)) old = HDict.make({ id: HRef.make(id), mod });
        else if (force) {
          const cur = await cx.folio.readByIdTrash(id, false);
          if (!cur) throw new HttpError(404, `Unknown rec: @${id}`, 'UnknownRecErr');
          old = cur;
        } else throw badRequest(`'mod' is required (or a 'force' marker in the grid meta)`);
        const flags = (mode === 'remove' ? Diff.remove : 0) | (force ? Diff.force : 0) | (transient ? Diff.transient : 0);
        diffs.push(new Diff(old, mode === 'remove' ? null : rowTags(row, ['id', 'mod']), flags));
      } else {
        throw badRequest(`commit: unknown mode ${JSON.stringify(mode)} (add, update or remove)`);
      }
    } catch (e) {
      if (e instanceof HttpError && e.message.startsWith('commit:')) throw e;
      const err = e as Error & { status?: number };
      err.message = `${where}: ${err.message}`;
      throw err;
    }
  }
  const res = await cx.folio.commitAll(diffs);
  if (mode === 'remove') return recsGrid(res.map((d) => HDict.make({ id: d.id })));
  return recsGrid(res.map((d) => d.newRec ?? HDict.make({ id: d.id })));
}

// ---------------------------------------------------------------- registry

export const OPS: OpDef[] = [
  { name: 'about', summary: 'Summary information for server', get: true, fn: about },
  { name: 'ops', summary: 'Ops supported by this server', get: true, fn: opsOp },
  { name: 'formats', summary: 'Grid data formats supported by this server', get: true, fn: formats },
  { name: 'read', summary: 'Read records by id or filter', get: true, fn: read },
  { name: 'nav', summary: 'Navigate the site, equip, point tree', get: true, fn: nav },
  { name: 'hisRead', summary: 'Read time series history', get: true, fn: hisRead },
  { name: 'hisWrite', summary: 'Write time series history', get: false, fn: hisWrite },
  { name: 'pointWrite', summary: 'Read or write a point priority array', get: false, fn: pointWriteOp },
  { name: 'watchSub', summary: 'Subscribe to a watch', get: false, fn: watchSub },
  { name: 'watchUnsub', summary: 'Unsubscribe from a watch', get: false, fn: watchUnsub },
  { name: 'watchPoll', summary: 'Poll a watch for changes', get: false, fn: watchPoll },
  { name: 'commit', summary: 'Add, update or remove records', get: false, fn: commit },
];

export const OPS_BY_NAME = new Map(OPS.map((o) => [o.name, o]));

