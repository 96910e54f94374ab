// Streams: entries (kid, ms, seq, fields) with stream metadata (last id, counters)
// in memory and in keys.val. XREAD BLOCK parks the client without blocking the loop.
import { def, err, getTyped, lower, parseInt64, E_SYNTAX, type ClientState, type ServerApi } from '../core.js';
import { T_STREAM, kstr, type KeyMeta, type StreamMeta } from '../store.js';

const E_BADID = 'ERR Invalid stream ID specified as stream command argument';
const MAXN = Number.MAX_SAFE_INTEGER;

interface Id {
  ms: number;
  seq: number;
}

function cmpId(a: Id, b: Id): number {
  return a.ms !== b.ms ? a.ms - b.ms : a.seq - b.seq;
}

function parseU(s: string): number {
  if (!/^[0-9]+$/.test(s)) err(E_BADID);
  const n = Number(s);
  if (n > MAXN) err(E_BADID);
  return n;
}

/** Parses "ms[-seq]"; missing seq takes defSeq; seqStar allows "ms-*" (returns seq -1). */
function parseId(b: Buffer | string, defSeq: number, seqStar = false): Id {
  const s = typeof b === 'string' ? b : b.toString('latin1');
  const dash = s.indexOf('-');
  if (dash === -1) return { ms: parseU(s), seq: defSeq };
  const ms = parseU(s.slice(0, dash));
  const rest = s.slice(dash + 1);
  if (seqStar && rest === '*') return { ms, seq: -1 };
  return { ms, seq: parseU(rest) };
}

export function fmtId(id: Id): string {
  return `${id.ms}-${id.seq}`;
}

function encodeFields(a: Buffer[], from: number): Buffer {
  let size = 0;
  for (let i = from; i < a.length; i++) size += 4 + a[i].length;
  const b = Buffer.allocUnsafe(size);
  let p = 0;
  for (let i = from; i < a.length; i++) {
    b.writeUInt32LE(a[i].length, p);
    p += 4;
    a[i].copy(b, p);
    p += a[i].length;
  }
  return b;
}

function decodeFields(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let p = 0;
  while (p < b.length) {
    const n = b.readUInt32LE(p);
    p += 4;
    out.push(b.subarray(p, p + n));
    p += n;
  }
  return out;
}

interface Entry {
  ms: number;
  seq: number;
  fields: Buffer;
}

function replyEntries(c: ClientState, rows: Entry[]): void {
  c.out.arr(rows.length);
  for (const r of rows) {
    c.out.arr(2);
    c.out.bulkStr(`${r.ms}-${r.seq}`);
    const f = decodeFields(r.fields);
    c.out.bulkArray(f);
  }
}

function meta(m: KeyMeta): StreamMeta {
  return m.stream as StreamMeta;
}

function newStream(srv: ServerApi, c: ClientState, key: Buffer): KeyMeta {
  const m = srv.store.createKey(c.db, key, T_STREAM);
  m.stream = { lastMs: 0, lastSeq: 0, entriesAdded: 0, maxDelMs: 0, maxDelSeq: 0 };
  return m;
}

interface Trim {
  strategy: 'maxlen' | 'minid';
  approx: boolean;
  threshold: number;
  minid: Id;
  limit: number;
}

/** Parses MAXLEN|MINID [=|~] threshold [LIMIT n] at a[i]; returns the next index. */
function parseTrim(a: Buffer[], i: number, t: Trim): number {
  const o = lower(a[i]);
  t.strategy = o as Trim['strategy'];
  i++;
  if (i >= a.length) err(E_SYNTAX);
  const mod = a[i].toString('latin1');
  if (mod === '~' || mod === '=') {
    t.approx = mod === '~';
    i++;
    if (i >= a.length) err(E_SYNTAX);
  }
  if (t.strategy === 'maxlen') {
    t.threshold = parseInt64(a[i]);
    if (t.threshold < 0) err('ERR The MAXLEN argument must be >= 0.');
  } else t.minid = parseId(a[i], 0);
  return i + 1;
}

function trimStream(srv: ServerApi, m: KeyMeta, t: Trim): number {
  const st = srv.store;
  let removed = 0;
  if (t.strategy === 'maxlen') {
    let excess = m.n - t.threshold;
    if (t.approx && t.limit > 0) excess = Math.min(excess, t.limit);
    if (excess <= 0) return 0;
    const rows = st.st('SELECT ms, seq FROM stream WHERE kid = ? ORDER BY ms, seq LIMIT ?').all(m.id, excess) as Id[];
    const del = st.st('DELETE FROM stream WHERE kid = ? AND ms = ? AND seq = ?');
    for (const r of rows) del.run(m.id, r.ms, r.seq);
    removed = rows.length;
  } else {
    let rows = st
      .st('SELECT ms, seq FROM stream WHERE kid = ? AND (ms, seq) < (?, ?) ORDER BY ms, seq')
      .all(m.id, t.minid.ms, t.minid.seq) as Id[];
    if (t.approx && t.limit > 0) rows = rows.slice(0, t.limit);
    const del = st.st('DELETE FROM stream WHERE kid = ? AND ms = ? AND seq = ?');
    for (const r of rows) del.run(m.id, r.ms, r.seq);
    removed = rows.length;
  }
  m.n -= removed;
  return removed;
}

def('xadd', -5, 'write denyoom fast', [1, 1, 1], (c, a, srv) => {
  let i = 2;
  let nomk = false;
  const trim: Trim = { strategy: 'maxlen', approx: false, threshold: 0, minid: { ms: 0, seq: 0 }, limit: 0 };
  let trimming = false;
  let limitGiven = false;
  for (; i < a.length; ) {
    const o = lower(a[i]);
    if (o === 'nomkstream') {
      nomk = true;
      i++;
    } else if (o === 'maxlen' || o === 'minid') {
      i = parseTrim(a, i, trim);
      trimming = true;
    } else if (o === 'limit' && i + 1 < a.length) {
      trim.limit = parseInt64(a[i + 1]);
      if (trim.limit < 0) err('ERR The LIMIT argument must be >= 0.');
      limitGiven = true;
      i += 2;
    } else break;
  }
  if (i >= a.length) err(E_SYNTAX);
  const idArg = a[i].toString('latin1');
  i++;
  if ((a.length - i) % 2 !== 0 || a.length - i === 0) err("ERR wrong number of arguments for 'xadd' command");
  if (limitGiven && !trimming) err('ERR syntax error, LIMIT cannot be used without specifying a trimming strategy');
  if (limitGiven && !trim.approx) err('ERR syntax error, LIMIT cannot be used without the special ~ option');
  let explicit: Id | null = null;
  if (idArg !== '*') {
    explicit = parseId(idArg, 0, true);
    if (explicit.ms === 0 && explicit.seq === 0) err('ERR The ID specified in XADD must be greater than 0-0');
  }
  let m = getTyped(srv, c, a[1], T_STREAM);
  if (!m && nomk) return c.out.nil();
  const last = m ? { ms: meta(m).lastMs, seq: meta(m).lastSeq } : { ms: 0, seq: 0 };
  let id: Id;
  if (!explicit) {
    const now = Date.now();
    id = now > last.ms ? { ms: now, seq: 0 } : { ms: last.ms, seq: last.seq + 1 };
  } else if (explicit.seq === -1) {
    if (explicit.ms < last.ms || (explicit.ms === last.ms && last.seq >= MAXN)) id = { ms: -1, seq: 0 };
    else id = explicit.ms === last.ms ? { ms: last.ms, seq: last.seq + 1 } : { ms: explicit.ms, seq: 0 };
  } else id = explicit;
  if (id.ms < 0 || cmpId(id, last) <= 0) {
    err('ERR The ID specified in XADD is equal or smaller than the target stream top item');
  }
  if (!m) m = newStream(srv, c, a[1]);
  const sm = meta(m);
  srv.store.st('INSERT INTO stream (kid, ms, seq, fields) VALUES (?, ?, ?, ?)').run(m.id, id.ms, id.seq, encodeFields(a, i));
  m.n++;
  sm.lastMs = id.ms;
  sm.lastSeq = id.seq;
  sm.entriesAdded++;
  if (trimming) trimStream(srv, m, trim);
  srv.store.saveStreamMeta(m);
  srv.touch(c.db, a[1]);
  srv.signalReady(c.db, a[1]);
  c.out.bulkStr(fmtId(id));
});

def('xtrim', -4, 'write', [1, 1, 1], (c, a, srv) => {
  const trim: Trim = { strategy: 'maxlen', approx: false, threshold: 0, minid: { ms: 0, seq: 0 }, limit: 0 };
  const o = lower(a[2]);
  if (o !== 'maxlen' && o !== 'minid') err(E_SYNTAX);
  let i = parseTrim(a, 2, trim);
  let limitGiven = false;
  while (i < a.length) {
    if (lower(a[i]) === 'limit' && i + 1 < a.length) {
      trim.limit = parseInt64(a[i + 1]);
      limitGiven = true;
      i += 2;
    } else err(E_SYNTAX);
  }
  if (limitGiven && !trim.approx) err('ERR syntax error, LIMIT cannot be used without the special ~ option');
  const m = getTyped(srv, c, a[1], T_STREAM);
  if (!m) return c.out.int(0);
  const n = trimStream(srv, m, trim);
  if (n) {
    srv.store.saveStreamMeta(m);
    srv.touch(c.db, a[1]);
  }
  c.out.int(n);
});

def('xlen', 2, 'readonly fast', [1, 1, 1], (c, a, srv) => c.out.int(getTyped(srv, c, a[1], T_STREAM)?.n ?? 0));

def('xdel', -3, 'write fast', [1, 1, 1], (c, a, srv) => {
  const ids = a.slice(2).map((b) => parseId(b, 0));
  const m = getTyped(srv, c, a[1], T_STREAM);
  if (!m) return c.out.int(0);
  const sm = meta(m);
  let n = 0;
  const del = srv.store.st('DELETE FROM stream WHERE kid = ? AND ms = ? AND seq = ?');
  for (const id of ids) {
    if (del.run(m.id, id.ms, id.seq).changes) {
      n++;
      if (cmpId(id, { ms: sm.maxDelMs, seq: sm.maxDelSeq }) > 0) {
        sm.maxDelMs = id.ms;
        sm.maxDelSeq = id.seq;
      }
    }
  }
  m.n -= n;
  if (n) {
    srv.store.saveStreamMeta(m);
    srv.touch(c.db, a[1]);
  }
  c.out.int(n);
});

/** Range bound: '-', '+', '(' exclusive, or an id (incomplete ids take 0 or max seq). */
function parseBound(b: Buffer, isStart: boolean): Id | null {
  const s = b.toString('latin1');
  if (s === '-') return { ms: 0, seq: 0 };
  if (s === '+') return { ms: MAXN, seq: MAXN };
  if (s.startsWith('(')) {
    const id = parseId(s.slice(1), isStart ? 0 : MAXN);
    if (isStart) {
      if (id.seq === MAXN) {
        if (id.ms === MAXN) return null;
        return { ms: id.ms + 1, seq: 0 };
      }
      return { ms: id.ms, seq: id.seq + 1 };
    }
    if (id.seq === 0) {
      if (id.ms === 0) return null;
      return { ms: id.ms - 1, seq: MAXN };
    }
    return { ms: id.ms, seq: id.seq - 1 };
  }
  return parseId(s, isStart ? 0 : MAXN);
}

function rangeRows(srv: ServerApi, m: KeyMeta, lo: Id, hi: Id, rev: boolean, count: number): Entry[] {
  const order = rev ? 'ms DESC, seq DESC' : 'ms, seq';
  return srv.store
    .st(
      `SELECT ms, seq, fields FROM stream WHERE kid = ? AND (ms, seq) >= (?, ?) AND (ms, seq) <= (?, ?) ORDER BY ${order} LIMIT ?`,
    )
    .all(m.id, lo.ms, lo.seq, hi.ms, hi.seq, count) as Entry[];
}

function xrange(c: ClientState, a: Buffer[], srv: ServerApi, rev: boolean): void {
  const lo = parseBound(rev ? a[3] : a[2], true);
  const hi = parseBound(rev ? a[2] : a[3], false);
  let count = -1;
  if (a.length > 4) {
    if (a.length !== 6 || lower(a[4]) !== 'count') err(E_SYNTAX);
    count = parseInt64(a[5]);
    if (count < 0) count = 0;
  }
  const m = getTyped(srv, c, a[1], T_STREAM);
  if (!m) return c.out.arr(0);
  // Redis 7.0 answers COUNT <= 0 on an existing stream with a null array
  if (count === 0) return c.out.nilArray();
  if (!lo || !hi || cmpId(lo, hi) > 0) return c.out.arr(0);
  replyEntries(c, rangeRows(srv, m, lo, hi, rev, count));
}
def('xrange', -4, 'readonly', [1, 1, 1], (c, a, srv) => xrange(c, a, srv, false));
def('xrevrange', -4, 'readonly', [1, 1, 1], (c, a, srv) => xrange(c, a, srv, true));

def('xread', -4, 'readonly blocking', [0, 0, 0], (c, a, srv) => {
  let count = -1;
  let block = -1;
  let i = 1;
  for (; i < a.length; i++) {
    const o = lower(a[i]);
    if (o === 'count' && i + 1 < a.length) {
      count = parseInt64(a[++i]);
      if (count <= 0) count = -1;
    } else if (o === 'block' && i + 1 < a.length) {
      block = parseInt64(a[++i], 'ERR timeout is not an integer or out of range');
      if (block < 0) err('ERR timeout is negative');
    } else if (o === 'streams') break;
    else err(E_SYNTAX);
  }
  if (i >= a.length) err(E_SYNTAX);
  const rest = a.length - i - 1;
  if (rest === 0 || rest % 2 !== 0) {
    err("ERR Unbalanced 'xread' list of streams: for each stream key an ID or '$' must be specified.");
  }
  const nk = rest / 2;
  const keys = a.slice(i + 1, i + 1 + nk);
  const from: Id[] = [];
  for (let k = 0; k < nk; k++) {
    const idArg = a[i + 1 + nk + k].toString('latin1');
    const m = getTyped(srv, c, keys[k], T_STREAM);
    if (idArg === '$') from.push(m ? { ms: meta(m).lastMs, seq: meta(m).lastSeq } : { ms: 0, seq: 0 });
    else from.push(parseId(idArg, 0));
  }
  const db = c.db;
  const attempt = (): boolean => {
    const found: Array<[Buffer, Entry[]]> = [];
    for (let k = 0; k < nk; k++) {
      const m = srv.store.lookup(db, keys[k]);
      if (!m || m.type !== T_STREAM) continue;
      const f = from[k];
      const lo = f.seq === MAXN ? { ms: f.ms + 1, seq: 0 } : { ms: f.ms, seq: f.seq + 1 };
      // nothing newer than the stream's last id: answer from memory, no SQLite range read (the
      // common case for a follower that re-issues XREAD BLOCK right after being served)
      const last = meta(m);
      if (last.lastMs < lo.ms || (last.lastMs === lo.ms && last.lastSeq < lo.seq)) continue;
      const rows = rangeRows(srv, m, lo, { ms: MAXN, seq: MAXN }, false, count);
      if (rows.length) found.push([keys[k], rows]);
    }
    if (!found.length) return false;
    if (c.resp === 3) c.out.map(found.length);
    else c.out.arr(found.length);
    for (const [k, rows] of found) {
      if (c.resp === 2) c.out.arr(2);
      c.out.bulk(k);
      replyEntries(c, rows);
    }
    return true;
  };
  if (attempt()) return;
  if (block < 0 || c.inExec) return c.out.nilArray();
  srv.block(
    c,
    {
      keys: keys.map((k) => `${db}\0${kstr(k)}`),
      retry: attempt,
      onTimeout: () => c.out.nilArray(),
    },
    block,
  );
});
