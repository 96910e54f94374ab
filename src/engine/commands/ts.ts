// TS.* (RedisTimeSeries 8.10 behaviour): samples live in a WITHOUT ROWID table keyed by
// (series id, timestamp); series options and labels sit in keys.val and in memory.
import { def, err, globMatch, lower, type ClientState, type ServerApi } from '../core.js';
import { T_TS, kstr, rowsSql, type KeyMeta, type TsMeta } from '../store.js';

const E_NOKEY = 'ERR TSDB: the key does not exist';
const E_NOTTS = 'ERR TSDB: the key is not a TSDB key';
const E_WRONGTYPE = 'ERR WRONGTYPE Operation against a key holding the wrong kind of value';
const E_BADTS = 'ERR TSDB: invalid timestamp';
const E_NEGTS = 'ERR TSDB: invalid timestamp, must be a nonnegative integer';
const E_BADVAL = 'ERR TSDB: invalid value';
const E_BLOCK =
  'ERR TSDB: Error at upsert, update is not supported when DUPLICATE_POLICY is set to BLOCK mode, or either current or new value is NaN and DUPLICATE_POLICY is MAX/MIN/SUM';
const E_RETENTION = 'ERR TSDB: Timestamp is older than retention';
const POLICIES = new Set(['block', 'first', 'last', 'min', 'max', 'sum']);
const MAXT = Number.MAX_SAFE_INTEGER;

class TsError extends Error {}

const TS_INS_SQL = (n: number) => `INSERT INTO ts (kid, t, v) VALUES ${rowsSql(n, 3)}`;

// --- parsing ---------------------------------------------------------------------

function parseTs(b: Buffer, allowStar: boolean): number {
  // fast path: 1-15 plain digits (below 2^53), read from the bytes
  const bl = b.length;
  if (bl > 0 && bl <= 15) {
    let v = 0;
    let i = 0;
    for (; i < bl; i++) {
      const d = b[i] - 48;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
    }
    if (i === bl) return v;
  }
  const s = b.toString('latin1');
  if (allowStar && s === '*') return Date.now();
  if (/^-[0-9]+$/.test(s)) throw new TsError(E_NEGTS);
  if (!/^\+?[0-9]+$/.test(s)) throw new TsError(E_BADTS);
  const n = Number(s);
  if (n > MAXT) throw new TsError(E_BADTS);
  return n;
}

const VAL_RE = /^[+-]?(([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?)$/;
function parseVal(b: Buffer): number {
  // fast path: [+-]digits[.digits] (what VAL_RE accepts without an exponent), checked on the bytes
  const bl = b.length;
  let i = bl > 0 && (b[0] === 45 || b[0] === 43) ? 1 : 0;
  if (bl > i && bl <= 24) {
    let digits = 0;
    let dot = false;
    for (; i < bl; i++) {
      const c = b[i];
      if (c >= 48 && c <= 57) digits++;
      else if (c === 46 && !dot) dot = true;
      else break;
    }
    if (i === bl && digits > 0) return Number((b as unknown as { latin1Slice(s: number, e: number): string }).latin1Slice(0, bl));
  }
  const s = b.toString('latin1');
  if (/^[+-]?nan$/i.test(s)) return NaN;
  if (!VAL_RE.test(s)) throw new TsError(E_BADVAL);
  const v = Number(s);
  if (!Number.isFinite(v)) throw new TsError(E_BADVAL);
  return v;
}

function parseNonNeg(b: Buffer | undefined, msg: string): number {
  if (!b) err(msg);
  const s = b.toString('latin1');
  if (!/^[0-9]+$/.test(s)) err(msg);
  return Number(s);
}

interface CreateOpts {
  retention?: number;
  chunkSize?: number;
  encoding?: string;
  dupPolicy?: string;
  onDuplicate?: string;
  labels?: Array<[string, string]>;
  ignore?: [number, number];
}

/** Parses the series options shared by CREATE/ALTER/ADD/INCRBY from a[i..]. */
function parseOpts(a: Buffer[], i: number, cmd: 'create' | 'alter' | 'add' | 'incrby'): CreateOpts {
  const o: CreateOpts = {};
  while (i < a.length) {
    const k = lower(a[i]);
    if (k === 'retention') {
      o.retention = parseNonNeg(a[i + 1], "ERR TSDB: Couldn't parse RETENTION");
      i += 2;
    } else if (k === 'chunk_size') {
      const s = a[i + 1]?.toString('latin1') ?? '';
      if (!/^[0-9]+$/.test(s)) err("ERR TSDB: Couldn't parse CHUNK_SIZE");
      const n = Number(s);
      if (n % 8 !== 0 || n < 48 || n > 1048576) {
        err('ERR TSDB: CHUNK_SIZE value must be a multiple of 8 in the range [48 .. 1048576]');
      }
      o.chunkSize = n;
      i += 2;
    } else if (k === 'encoding' && cmd !== 'alter') {
      const e = a[i + 1] ? lower(a[i + 1]) : '';
      if (e !== 'compressed' && e !== 'uncompressed') err('ERR TSDB: unknown ENCODING parameter');
      o.encoding = e;
      i += 2;
    } else if (k === 'uncompressed' && cmd !== 'alter') {
      o.encoding = 'uncompressed';
      i++;
    } else if (k === 'compressed' && cmd !== 'alter') {
      o.encoding = 'compressed';
      i++;
    } else if (k === 'duplicate_policy') {
      const p = a[i + 1] ? lower(a[i + 1]) : '';
      if (!POLICIES.has(p)) err('ERR TSDB: Unknown DUPLICATE_POLICY');
      o.dupPolicy = p;
      i += 2;
    } else if (k === 'on_duplicate' && cmd === 'add') {
      const p = a[i + 1] ? lower(a[i + 1]) : '';
      if (!POLICIES.has(p)) err('ERR TSDB: Unknown ON_DUPLICATE policy');
      o.onDuplicate = p;
      i += 2;
    } else if (k === 'ignore') {
      const t = parseNonNeg(a[i + 1], 'ERR TSDB: Invalid value for IGNORE');
      const vs = a[i + 2]?.toString('latin1') ?? '';
      const v = Number(vs);
      if (!VAL_RE.test(vs) || v < 0) err('ERR TSDB: Invalid value for IGNORE');
      o.ignore = [t, v];
      i += 3;
    } else if (k === 'labels') {
      const rest = a.length - i - 1;
      if (rest % 2 !== 0) err('ERR TSDB: wrong label count');
      const labels: Array<[string, string]> = [];
      for (let j = i + 1; j < a.length; j += 2) {
        const n = a[j].toString();
        const v = a[j + 1].toString();
        if (!n || !v || /[(),=!]/.test(n) || /[(),=!]/.test(v)) err('ERR TSDB: failed parsing labels');
        labels.push([n, v]);
      }
      o.labels = labels;
      i = a.length;
    } else if (k === 'timestamp' && cmd === 'incrby') {
      i += 2;
    } else err('ERR TSDB: wrong arguments');
  }
  return o;
}

// --- series access -----------------------------------------------------------------

function getSeries(srv: ServerApi, c: ClientState, key: Buffer): KeyMeta {
  const m = srv.store.lookup(c.db, key);
  if (!m) err(E_NOKEY);
  if (m.type !== T_TS) err(E_WRONGTYPE);
  return m;
}

function tsm(m: KeyMeta): TsMeta {
  return m.ts as TsMeta;
}

function createSeries(srv: ServerApi, c: ClientState, key: Buffer, o: CreateOpts): KeyMeta {
  const m = srv.store.createKey(c.db, key, T_TS);
  m.ts = {
    retention: o.retention ?? 0,
    dupPolicy: o.dupPolicy ?? 'block',
    chunkSize: o.chunkSize ?? 4096,
    encoding: o.encoding ?? 'compressed',
    labels: o.labels ?? [],
    firstTs: -1,
    lastTs: -1,
    ignoreMaxTimeDiff: o.ignore?.[0] ?? 0,
    ignoreMaxValDiff: o.ignore?.[1] ?? 0,
  };
  srv.store.saveTsMeta(m);
  return m;
}

function sampleAt(srv: ServerApi, m: KeyMeta, t: number): number | null | undefined {
  const row = srv.store.st('SELECT v FROM ts WHERE kid = ? AND t = ?').raw().get(m.id, t) as [number | null] | undefined;
  return row ? row[0] : undefined;
}

/**
 * A series' sample count: KeyMeta.n, kept up to date by every write once known, or -1 until a
 * TS.INFO first needs it (counting every series at startup would scan the whole table). History
 * reads TS.INFO after every write, so a count(*) there grew with the series (~0.5 ms per 10,000
 * samples).
 */
function sampleCount(srv: ServerApi, m: KeyMeta): number {
  if (m.n < 0) m.n = srv.store.st('SELECT count(*) FROM ts WHERE kid = ?').pluck().get(m.id) as number;
  return m.n;
}

function refreshFirst(srv: ServerApi, m: KeyMeta): void {
  const t = tsm(m);
  const f = srv.store.st('SELECT t FROM ts WHERE kid = ? ORDER BY t ASC LIMIT 1').pluck().get(m.id) as number | undefined;
  const l = srv.store.st('SELECT t FROM ts WHERE kid = ? ORDER BY t DESC LIMIT 1').pluck().get(m.id) as number | undefined;
  t.firstTs = f ?? -1;
  t.lastTs = l ?? -1;
}

/** Adds one sample under the series' policy (or an override); returns the timestamp. */
function addSample(srv: ServerApi, m: KeyMeta, t: number, v: number, policy?: string): number {
  const s = tsm(m);
  const st = srv.store;
  if (s.retention > 0 && s.lastTs >= 0 && t < s.lastTs - s.retention) throw new TsError(E_RETENTION);
  // NaN is stored as NULL: SQLite has no NaN
  const sv = Number.isNaN(v) ? null : v;
  if (t > s.lastTs) {
    if (s.ignoreMaxTimeDiff > 0 || s.ignoreMaxValDiff > 0) {
      const pol = policy ?? s.dupPolicy;
      if (pol === 'last' && s.lastTs >= 0 && t - s.lastTs <= s.ignoreMaxTimeDiff) {
        const lv = sampleAt(srv, m, s.lastTs);
        const last = lv === null || lv === undefined ? NaN : lv;
        if (Math.abs(v - last) <= s.ignoreMaxValDiff) return s.lastTs;
      }
    }
    st.st('INSERT INTO ts (kid, t, v) VALUES (?, ?, ?)').run(m.id, t, sv);
    if (m.n >= 0) m.n++;
    s.lastTs = t;
    if (s.firstTs < 0) s.firstTs = t;
    if (s.retention > 0 && s.firstTs < t - s.retention) {
      const gone = st.st('DELETE FROM ts WHERE kid = ? AND t < ?').run(m.id, t - s.retention).changes;
      if (m.n >= 0) m.n -= gone;
      refreshFirst(srv, m);
    }
    return t;
  }
  const cur = sampleAt(srv, m, t);
  if (cur === undefined) {
    st.st('INSERT INTO ts (kid, t, v) VALUES (?, ?, ?)').run(m.id, t, sv);
    if (m.n >= 0) m.n++;
    if (t < s.firstTs || s.firstTs < 0) s.firstTs = t;
    return t;
  }
  const old = cur === null ? NaN : cur;
  const pol = policy ?? s.dupPolicy;
  let nv: number;
  switch (pol) {
    case 'first':
      return t;
    case 'last':
      nv = v;
      break;
    case 'min':
    case 'max':
    case 'sum':
      if (Number.isNaN(old) || Number.isNaN(v)) throw new TsError(E_BLOCK);
      nv = pol === 'min' ? Math.min(old, v) : pol === 'max' ? Math.max(old, v) : old + v;
      break;
    default:
      throw new TsError(E_BLOCK);
  }
  st.st('UPDATE ts SET v = ? WHERE kid = ? AND t = ?').run(Number.isNaN(nv) ? null : nv, m.id, t);
  return t;
}

function wrapTs<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof TsError) err(e.message);
    throw e;
  }
}

// --- writes ---------------------------------------------------------------------------

def('ts.create', -2, 'write denyoom', [1, 1, 1], (c, a, srv) => {
  const o = parseOpts(a, 2, 'create');
  if (srv.store.lookup(c.db, a[1])) err('ERR TSDB: key already exists');
  createSeries(srv, c, a[1], o);
  srv.touch(c.db, a[1]);
  c.out.ok();
});

def('ts.alter', -2, 'write denyoom', [1, 1, 1], (c, a, srv) => {
  const o = parseOpts(a, 2, 'alter');
  const m = getSeries(srv, c, a[1]);
  const s = tsm(m);
  if (o.retention !== undefined) s.retention = o.retention;
  if (o.chunkSize !== undefined) s.chunkSize = o.chunkSize;
  if (o.dupPolicy !== undefined) s.dupPolicy = o.dupPolicy;
  if (o.labels !== undefined) s.labels = o.labels;
  if (o.ignore) [s.ignoreMaxTimeDiff, s.ignoreMaxValDiff] = o.ignore;
  srv.store.saveTsMeta(m);
  srv.touch(c.db, a[1]);
  c.out.ok();
});

def('ts.add', -4, 'write denyoom', [1, 1, 1], (c, a, srv) => {
  const t = wrapTs(() => parseTs(a[2], true));
  const v = wrapTs(() => parseVal(a[3]));
  const o = parseOpts(a, 4, 'add');
  let m = srv.store.lookup(c.db, a[1]);
  if (m && m.type !== T_TS) err(E_NOTTS);
  if (!m) m = createSeries(srv, c, a[1], o);
  const series = m;
  const r = wrapTs(() => addSample(srv, series, t, v, o.onDuplicate));
  srv.touch(c.db, a[1]);
  c.out.int(r);
});

def('ts.madd', -4, 'write denyoom', [1, -1, 3], (c, a, srv) => {
  if ((a.length - 1) % 3 !== 0) err("ERR wrong number of arguments for 'ts.madd' command");
  const n = (a.length - 1) / 3;
  c.out.arr(n);
  const st = srv.store;
  // Writers send runs of samples for one series: the key is looked up once per run (compared by
  // bytes). Samples appended after their series' newest go to SQLite in multi-row INSERTs, any
  // series mixed (kid is a column), flushed before a sample that needs addSample (it reads the
  // table) and at the end of the command.
  let runKey: Buffer | undefined;
  let runMeta: KeyMeta | undefined;
  let runWrote = false;
  const rows: Array<number | null> = [];
  // series with rows held in `rows`; any with a TTL makes a key change flush first (a lookup may
  // expire and delete a series whose rows are still held, which would then be inserted as orphans)
  const held = new Set<KeyMeta>();
  let heldTtl = false;
  const flush = () => {
    if (rows.length === 0) return;
    try {
      st.insertRows(rows, 3, TS_INS_SQL);
    } catch (e) {
      // the held samples' first/last were advanced in memory: take them from what SQLite holds
      rows.length = 0;
      for (const m of held) {
        refreshFirst(srv, m);
        m.n = -1; // counted again on the next TS.INFO
      }
      throw e;
    } finally {
      held.clear();
      heldTtl = false;
    }
  };
  const endRun = () => {
    if (runKey && runWrote) srv.touch(c.db, runKey);
  };
  for (let i = 1; i < a.length; i += 3) {
    const kb = a[i];
    if (runKey === undefined || kb.length !== runKey.length || !kb.equals(runKey)) {
      if (heldTtl) flush();
      endRun();
      runKey = kb;
      runMeta = st.lookup(c.db, kb);
      runWrote = false;
    }
    try {
      const m = runMeta;
      if (!m || m.type !== T_TS) throw new TsError(E_NOTTS);
      const t = parseTs(a[i + 1], true);
      const v = parseVal(a[i + 2]);
      const s = tsm(m);
      if (t > s.lastTs && s.retention === 0 && s.ignoreMaxTimeDiff === 0 && s.ignoreMaxValDiff === 0) {
        // NaN is stored as NULL: SQLite has no NaN
        rows.push(m.id, t, Number.isNaN(v) ? null : v);
        held.add(m);
        if (m.n >= 0) m.n++;
        if (m.exp !== 0) heldTtl = true;
        s.lastTs = t;
        if (s.firstTs < 0) s.firstTs = t;
        c.out.int(t);
      } else {
        flush();
        c.out.int(addSample(srv, m, t, v));
      }
      runWrote = true;
    } catch (e) {
      if (e instanceof TsError) c.out.error(e.message);
      else throw e;
    }
  }
  flush();
  endRun();
});

function incrBy(c: ClientState, a: Buffer[], srv: ServerApi, sign: number): void {
  const by = wrapTs(() => parseVal(a[2]));
  let t = Date.now();
  for (let i = 3; i < a.length - 1; i++) {
    if (lower(a[i]) === 'timestamp') t = wrapTs(() => parseTs(a[i + 1], true));
  }
  const o = parseOpts(a, 3, 'incrby');
  let m = srv.store.lookup(c.db, a[1]);
  if (m && m.type !== T_TS) err(E_NOTTS);
  if (!m) m = createSeries(srv, c, a[1], o);
  const s = tsm(m);
  if (s.lastTs >= 0 && t < s.lastTs) err('TSDB: timestamp must be equal to or higher than the maximum existing timestamp');
  const lastV = s.lastTs >= 0 ? sampleAt(srv, m, s.lastTs) : 0;
  const nv = (lastV === null || lastV === undefined ? 0 : lastV) + sign * by;
  const series = m;
  wrapTs(() => addSample(srv, series, t, nv, 'last'));
  srv.touch(c.db, a[1]);
  c.out.int(t);
}
def('ts.incrby', -3, 'write denyoom', [1, 1, 1], (c, a, srv) => incrBy(c, a, srv, 1));
def('ts.decrby', -3, 'write denyoom', [1, 1, 1], (c, a, srv) => incrBy(c, a, srv, -1));

function parseRangeTs(b: Buffer, which: 'from' | 'to'): number {
  const s = b.toString('latin1');
  if (s === '-') return 0;
  if (s === '+') return MAXT;
  if (!/^[0-9]+$/.test(s)) err(which === 'from' ? 'ERR TSDB: wrong fromTimestamp' : 'ERR TSDB: wrong toTimestamp');
  return Math.min(Number(s), MAXT);
}

def('ts.del', 4, 'write', [1, 1, 1], (c, a, srv) => {
  const m = getSeries(srv, c, a[1]);
  const from = parseRangeTs(a[2], 'from');
  const to = parseRangeTs(a[3], 'to');
  if (from > to) return c.out.int(0);
  const n = srv.store.st('DELETE FROM ts WHERE kid = ? AND t >= ? AND t <= ?').run(m.id, from, to).changes;
  if (m.n >= 0) m.n -= n;
  if (n) {
    refreshFirst(srv, m);
    srv.touch(c.db, a[1]);
  }
  c.out.int(n);
});

// --- reads ------------------------------------------------------------------------------

type Sample = [number, number];

function rows(srv: ServerApi, m: KeyMeta, from: number, to: number, rev: boolean, limit = -1): Sample[] {
  const sql = rev
    ? 'SELECT t, v FROM ts WHERE kid = ? AND t >= ? AND t <= ? ORDER BY t DESC LIMIT ?'
    : 'SELECT t, v FROM ts WHERE kid = ? AND t >= ? AND t <= ? ORDER BY t LIMIT ?';
  const r = srv.store.st(sql).raw().all(m.id, from, to, limit) as Array<[number, number | null]>;
  for (const x of r) if (x[1] === null) x[1] = NaN;
  return r as Sample[];
}

function writeSample(c: ClientState, s: Sample): void {
  c.out.arr(2);
  c.out.int(s[0]);
  c.out.tsDouble(s[1]);
}

function writeSamples(c: ClientState, ss: Sample[]): void {
  c.out.arr(ss.length);
  for (const s of ss) writeSample(c, s);
}

function writeLabels(c: ClientState, labels: Array<[string, string | null]>): void {
  if (c.resp === 3) {
    c.out.map(labels.length);
    for (const [k, v] of labels) {
      c.out.bulk(k);
      c.out.bulk(v);
    }
    return;
  }
  c.out.arr(labels.length);
  for (const [k, v] of labels) {
    c.out.arr(2);
    c.out.bulk(k);
    c.out.bulk(v);
  }
}

def('ts.get', -2, 'readonly', [1, 1, 1], (c, a, srv) => {
  if (a.length > 3 || (a.length === 3 && lower(a[2]) !== 'latest')) err('ERR TSDB: wrong arguments');
  const m = getSeries(srv, c, a[1]);
  const s = tsm(m);
  if (s.lastTs < 0) return c.out.arr(0);
  writeSample(c, rows(srv, m, s.lastTs, s.lastTs, false)[0]);
});

def('ts.info', -2, 'readonly', [1, 1, 1], (c, a, srv) => {
  const m = getSeries(srv, c, a[1]);
  const s = tsm(m);
  const total = sampleCount(srv, m);
  const debug = a.length > 2 && lower(a[2]) === 'debug';
  const chunkCount = Math.max(1, Math.ceil((total * 16) / s.chunkSize));
  c.out.map(debug ? 16 : 14);
  const field = (n: string) => c.out.simple(n);
  field('totalSamples');
  c.out.int(total);
  field('memoryUsage');
  c.out.int(total * 16 + 200 + chunkCount * 80);
  field('firstTimestamp');
  c.out.int(Math.max(0, s.firstTs));
  field('lastTimestamp');
  c.out.int(Math.max(0, s.lastTs));
  field('retentionTime');
  c.out.int(s.retention);
  field('chunkCount');
  c.out.int(chunkCount);
  field('chunkSize');
  c.out.int(s.chunkSize);
  field('chunkType');
  c.out.simple(s.encoding);
  field('duplicatePolicy');
  c.out.simple(s.dupPolicy);
  field('labels');
  writeLabels(c, s.labels);
  field('sourceKey');
  c.out.nil();
  field('rules');
  if (c.resp === 3) c.out.map(0);
  else c.out.arr(0);
  field('ignoreMaxTimeDiff');
  c.out.int(s.ignoreMaxTimeDiff);
  field('ignoreMaxValDiff');
  c.out.tsDouble(s.ignoreMaxValDiff);
  if (debug) {
    field('keySelfName');
    c.out.bulk(a[1]);
    field('Chunks');
    c.out.arr(0);
  }
});

// --- range queries ---------------------------------------------------------------------

const AGGS = new Set(['avg', 'sum', 'min', 'max', 'range', 'count', 'first', 'last', 'std.p', 'std.s', 'var.p', 'var.s', 'twa']);

interface RangeOpts {
  filterTs: Set<number> | null;
  minV: number;
  maxV: number;
  filterV: boolean;
  count: number;
  agg: string | null;
  bucket: number;
  align: number;
  alignMode: 'num' | 'start' | 'end';
  bt: 'start' | 'end' | 'mid';
  empty: boolean;
  withLabels: boolean;
  selected: string[] | null;
  filters: Buffer[];
  groupBy: string | null;
  reducer: string | null;
}

const RANGE_KW = new Set([
  'latest',
  'filter_by_ts',
  'filter_by_value',
  'count',
  'align',
  'aggregation',
  'buckettimestamp',
  'empty',
  'withlabels',
  'selected_labels',
  'filter',
  'groupby',
]);

function parseRangeOpts(a: Buffer[], i: number, multi: boolean): RangeOpts {
  const o: RangeOpts = {
    filterTs: null,
    minV: 0,
    maxV: 0,
    filterV: false,
    count: -1,
    agg: null,
    bucket: 0,
    align: 0,
    alignMode: 'num',
    bt: 'start',
    empty: false,
    withLabels: false,
    selected: null,
    filters: [],
    groupBy: null,
    reducer: null,
  };
  let alignGiven = false;
  while (i < a.length) {
    const k = lower(a[i]);
    if (k === 'latest') i++;
    else if (k === 'filter_by_ts') {
      o.filterTs = new Set();
      i++;
      while (i < a.length && /^[0-9]+$/.test(a[i].toString('latin1'))) o.filterTs.add(Number(a[i++].toString('latin1')));
      if (!o.filterTs.size) err('ERR TSDB: FILTER_BY_TS one or more arguments are missing');
    } else if (k === 'filter_by_value') {
      const lo = a[i + 1]?.toString('latin1') ?? '';
      const hi = a[i + 2]?.toString('latin1') ?? '';
      if (!VAL_RE.test(lo) || !VAL_RE.test(hi)) err("ERR TSDB: Couldn't parse MIN or MAX");
      o.minV = Number(lo);
      o.maxV = Number(hi);
      o.filterV = true;
      i += 3;
    } else if (k === 'count') {
      const s = a[i + 1]?.toString('latin1') ?? '';
      if (!/^[0-9]+$/.test(s)) err("ERR TSDB: Couldn't parse COUNT");
      o.count = Number(s);
      i += 2;
    } else if (k === 'align') {
      const s = a[i + 1]?.toString('latin1') ?? '';
      alignGiven = true;
      if (s === '-' || s.toLowerCase() === 'start') o.alignMode = 'start';
      else if (s === '+' || s.toLowerCase() === 'end') o.alignMode = 'end';
      else if (/^[0-9]+$/.test(s)) o.align = Number(s);
      else err('ERR TSDB: unknown ALIGN parameter');
      i += 2;
    } else if (k === 'aggregation') {
      const ag = a[i + 1] ? lower(a[i + 1]) : '';
      const bs = a[i + 2]?.toString('latin1');
      if (bs === undefined) err('ERR TSDB: wrong number of arguments for AGGREGATION');
      if (!AGGS.has(ag)) err('ERR TSDB: Unknown aggregation type');
      if (!/^-?[0-9]+$/.test(bs)) err("ERR TSDB: Couldn't parse bucketDuration");
      const b = Number(bs);
      if (b <= 0) err('ERR TSDB: bucketDuration must be greater than zero');
      o.agg = ag;
      o.bucket = b;
      i += 3;
    } else if (k === 'buckettimestamp') {
      const s = a[i + 1]?.toString('latin1').toLowerCase() ?? '';
      if (s === '-' || s === 'start') o.bt = 'start';
      else if (s === '+' || s === 'end') o.bt = 'end';
      else if (s === '~' || s === 'mid') o.bt = 'mid';
      else err('ERR TSDB: unknown BUCKETTIMESTAMP parameter');
      i += 2;
    } else if (k === 'empty') {
      o.empty = true;
      i++;
    } else if (multi && k === 'withlabels') {
      o.withLabels = true;
      i++;
    } else if (multi && k === 'selected_labels') {
      o.selected = [];
      i++;
      while (i < a.length && !RANGE_KW.has(lower(a[i]))) o.selected.push(a[i++].toString());
    } else if (multi && k === 'filter') {
      i++;
      while (i < a.length && !RANGE_KW.has(lower(a[i]))) o.filters.push(a[i++]);
    } else if (multi && k === 'groupby') {
      if (i + 3 >= a.length || lower(a[i + 2]) !== 'reduce') err('ERR TSDB: GROUPBY requires REDUCE');
      o.groupBy = a[i + 1].toString();
      o.reducer = lower(a[i + 3]);
      if (!['avg', 'sum', 'min', 'max', 'range', 'count', 'std.p', 'std.s', 'var.p', 'var.s'].includes(o.reducer)) {
        err('ERR TSDB: Unknown REDUCE type');
      }
      i += 4;
    } else err('ERR TSDB: wrong arguments');
  }
  if (alignGiven && !o.agg) err('ERR TSDB: ALIGN parameter can only be used with AGGREGATION');
  return o;
}

function aggregate(name: string, vals: number[], ts: number[], bStart: number, bEnd: number, prev: Sample | null, next: Sample | null): number {
  const n = vals.length;
  switch (name) {
    case 'count':
      return n;
    case 'sum': {
      let s = 0;
      for (const v of vals) s += v;
      return s;
    }
    case 'avg': {
      let s = 0;
      for (const v of vals) s += v;
      return s / n;
    }
    case 'min':
      return Math.min(...vals);
    case 'max':
      return Math.max(...vals);
    case 'range':
      return Math.max(...vals) - Math.min(...vals);
    case 'first':
      return vals[0];
    case 'last':
      return vals[n - 1];
    case 'twa':
      return twa(vals, ts, bStart, bEnd, prev, next);
    default: {
      let mean = 0;
      for (const v of vals) mean += v;
      mean /= n;
      let ss = 0;
      for (const v of vals) ss += (v - mean) * (v - mean);
      const sample = name.endsWith('.s');
      const variance = sample ? (n > 1 ? ss / (n - 1) : 0) : ss / n;
      return name.startsWith('std') ? Math.sqrt(variance) : variance;
    }
  }
}

/** Time-weighted average over [bStart, bEnd), interpolating at the edges from neighbours. */
function twa(vals: number[], ts: number[], bStart: number, bEnd: number, prev: Sample | null, next: Sample | null): number {
  const pts: Array<[number, number]> = ts.map((t, i) => [t, vals[i]]);
  if (pts.length === 1 && !prev && !next) return pts[0][1];
  const first = pts[0];
  const last = pts[pts.length - 1];
  const interp = (a: [number, number], b: [number, number], t: number) => a[1] + ((b[1] - a[1]) * (t - a[0])) / (b[0] - a[0]);
  const left: [number, number] = prev && first[0] > bStart ? [bStart, interp(prev, first, bStart)] : first;
  const endT = bEnd;
  const right: [number, number] = next && last[0] < endT ? [endT, interp(last, next, endT)] : last;
  const all = [left, ...pts.filter((p) => p !== left && p[0] > left[0]), right].filter(
    (p, i, arr) => i === 0 || p[0] > arr[i - 1][0],
  );
  let area = 0;
  for (let i = 1; i < all.length; i++) area += ((all[i][1] + all[i - 1][1]) / 2) * (all[i][0] - all[i - 1][0]);
  const span = all[all.length - 1][0] - all[0][0];
  return span > 0 ? area / span : all[0][1];
}

function rangeQuery(srv: ServerApi, m: KeyMeta, from: number, to: number, rev: boolean, o: RangeOpts, fromGiven: boolean, toGiven: boolean): Sample[] {
  if (from > to) return [];
  const filtered = (ss: Sample[]) =>
    ss.filter((s) => (!o.filterTs || o.filterTs.has(s[0])) && (!o.filterV || (s[1] >= o.minV && s[1] <= o.maxV)));
  if (!o.agg) {
    if (!o.filterTs && !o.filterV) return rows(srv, m, from, to, rev, o.count);
    const r = filtered(rows(srv, m, from, to, rev));
    return o.count >= 0 ? r.slice(0, o.count) : r;
  }
  let align = o.align;
  if (o.alignMode === 'start') {
    if (!fromGiven) err('ERR TSDB: start alignment can only be used with explicit start timestamp');
    align = from;
  } else if (o.alignMode === 'end') {
    if (!toGiven) err('ERR TSDB: end alignment can only be used with explicit end timestamp');
    align = to;
  }
  const data = filtered(rows(srv, m, from, to, false));
  const B = o.bucket;
  const startOf = (t: number) => t - ((((t - align) % B) + B) % B);
  const out: Sample[] = [];
  const label = (bs: number) => (o.bt === 'start' ? bs : o.bt === 'end' ? bs + B : bs + Math.floor(B / 2));
  let i = 0;
  let prevBucket: number | null = null;
  let lastVal: number | null = null;
  while (i < data.length) {
    const bs = startOf(data[i][0]);
    if (o.empty && prevBucket !== null) {
      for (let e = prevBucket + B; e < bs; e += B) {
        const v = o.agg === 'sum' || o.agg === 'count' ? 0 : o.agg === 'last' && lastVal !== null ? lastVal : NaN;
        out.push([Math.max(label(e), 0), v]);
      }
    }
    const vals: number[] = [];
    const tss: number[] = [];
    const startI = i;
    while (i < data.length && data[i][0] < bs + B) {
      vals.push(data[i][1]);
      tss.push(data[i][0]);
      i++;
    }
    const prev = startI > 0 ? data[startI - 1] : null;
    const next = i < data.length ? data[i] : null;
    const v = aggregate(o.agg, vals, tss, bs, bs + B, prev, next);
    out.push([Math.max(label(bs), 0), v]);
    lastVal = vals[vals.length - 1];
    prevBucket = bs;
  }
  if (rev) out.reverse();
  return o.count >= 0 ? out.slice(0, o.count) : out;
}

function tsRange(c: ClientState, a: Buffer[], srv: ServerApi, rev: boolean): void {
  const m = getSeries(srv, c, a[1]);
  const from = parseRangeTs(a[2], 'from');
  const to = parseRangeTs(a[3], 'to');
  const o = parseRangeOpts(a, 4, false);
  writeSamples(c, rangeQuery(srv, m, from, to, rev, o, a[2].toString() !== '-', a[3].toString() !== '+'));
}
def('ts.range', -4, 'readonly', [1, 1, 1], (c, a, srv) => tsRange(c, a, srv, false));
def('ts.revrange', -4, 'readonly', [1, 1, 1], (c, a, srv) => tsRange(c, a, srv, true));

// --- label index queries ------------------------------------------------------------

interface Matcher {
  label: string;
  neg: boolean;
  values: string[]; // empty list: "label=" / "label!="
}

function parseFilters(fs: Buffer[]): Matcher[] {
  if (!fs.length) err('ERR TSDB: wrong arguments');
  const ms: Matcher[] = [];
  for (const f of fs) {
    const s = f.toString();
    const neg = s.includes('!=');
    const idx = neg ? s.indexOf('!=') : s.indexOf('=');
    if (idx <= 0) err('ERR TSDB: failed parsing labels');
    const label = s.slice(0, idx);
    let rest = s.slice(idx + (neg ? 2 : 1));
    let values: string[];
    if (rest.startsWith('(') && rest.endsWith(')')) {
      rest = rest.slice(1, -1);
      values = rest.split(',').filter((x) => x !== '');
    } else values = rest === '' ? [] : [rest];
    ms.push({ label, neg, values });
  }
  if (!ms.some((m) => !m.neg && m.values.length > 0)) err('ERR TSDB: please provide at least one matcher');
  return ms;
}

function matches(labels: Array<[string, string]>, ms: Matcher[]): boolean {
  for (const m of ms) {
    const v = labels.find((l) => l[0] === m.label)?.[1];
    if (m.values.length === 0) {
      // label= : must be absent; label!= : must be present
      if (m.neg ? v === undefined : v !== undefined) return false;
    } else {
      const inList = v !== undefined && m.values.includes(v);
      if (m.neg ? inList : !inList) return false;
    }
  }
  return true;
}

function queryIndex(srv: ServerApi, c: ClientState, fs: Buffer[]): Array<[string, KeyMeta]> {
  const ms = parseFilters(fs);
  const out: Array<[string, KeyMeta]> = [];
  const now = Date.now();
  for (const [k, m] of srv.store.dbs[c.db]) {
    if (m.type !== T_TS || (m.exp !== 0 && m.exp <= now)) continue;
    if (matches(tsm(m).labels, ms)) out.push([k, m]);
  }
  out.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  return out;
}

def('ts.queryindex', -2, 'readonly', [0, 0, 0], (c, a, srv) => {
  const r = queryIndex(srv, c, a.slice(1));
  c.out.set(r.length);
  for (const [k] of r) c.out.bulk(Buffer.from(k, 'latin1'));
});

function labelsFor(m: KeyMeta, o: RangeOpts): Array<[string, string | null]> {
  const labels = tsm(m).labels;
  if (o.selected) return o.selected.map((n) => [n, labels.find((l) => l[0] === n)?.[1] ?? null]);
  return o.withLabels ? labels : [];
}

def('ts.mget', -3, 'readonly', [0, 0, 0], (c, a, srv) => {
  const o = parseRangeOpts(a, 1, true);
  const r = queryIndex(srv, c, o.filters);
  if (c.resp === 3) c.out.map(r.length);
  else c.out.arr(r.length);
  for (const [k, m] of r) {
    if (c.resp === 2) c.out.arr(3);
    c.out.bulk(Buffer.from(k, 'latin1'));
    if (c.resp === 3) c.out.arr(2);
    writeLabels(c, labelsFor(m, o));
    const s = tsm(m);
    if (s.lastTs < 0) c.out.arr(0);
    else writeSample(c, rows(srv, m, s.lastTs, s.lastTs, false)[0]);
  }
});

function reduce(name: string, vals: number[]): number {
  return aggregate(name, vals, [], 0, 0, null, null);
}

function mrange(c: ClientState, a: Buffer[], srv: ServerApi, rev: boolean): void {
  const from = parseRangeTs(a[1], 'from');
  const to = parseRangeTs(a[2], 'to');
  const o = parseRangeOpts(a, 3, true);
  const r = queryIndex(srv, c, o.filters);
  const fromGiven = a[1].toString() !== '-';
  const toGiven = a[2].toString() !== '+';
  let series: Array<{ key: string; labels: Array<[string, string | null]>; samples: Sample[] }> = r.map(([k, m]) => ({
    key: k,
    labels: labelsFor(m, o),
    samples: rangeQuery(srv, m, from, to, rev, o, fromGiven, toGiven),
  }));
  if (o.groupBy && o.reducer) {
    const groups = new Map<string, Array<{ key: string; samples: Sample[] }>>();
    for (const [k, m] of r) {
      const v = tsm(m).labels.find((l) => l[0] === o.groupBy)?.[1];
      if (v === undefined) continue;
      const s = series.find((x) => x.key === k) as { key: string; samples: Sample[] };
      if (!groups.has(v)) groups.set(v, []);
      groups.get(v)?.push(s);
    }
    series = [...groups.entries()].map(([v, members]) => {
      const byTs = new Map<number, number[]>();
      for (const mbr of members) for (const [t, x] of mbr.samples) (byTs.get(t) ?? byTs.set(t, []).get(t))?.push(x);
      const tsList = [...byTs.keys()].sort((x, y) => (rev ? y - x : x - y));
      return {
        key: `${o.groupBy}=${v}`,
        labels: [
          [o.groupBy as string, v],
          ['__reducer__', o.reducer as string],
          ['__source__', members.map((mbr) => mbr.key).join(',')],
        ],
        samples: tsList.map((t) => [t, reduce(o.reducer as string, byTs.get(t) as number[])] as Sample),
      };
    });
  }
  if (c.resp === 3) c.out.map(series.length);
  else c.out.arr(series.length);
  for (const s of series) {
    if (c.resp === 2) c.out.arr(3);
    c.out.bulk(Buffer.from(s.key, 'latin1'));
    if (c.resp === 3) c.out.arr(2);
    writeLabels(c, s.labels);
    writeSamples(c, s.samples);
  }
}
def('ts.mrange', -5, 'readonly', [0, 0, 0], (c, a, srv) => mrange(c, a, srv, false));
def('ts.mrevrange', -5, 'readonly', [0, 0, 0], (c, a, srv) => mrange(c, a, srv, true));

void kstr;
void globMatch;
