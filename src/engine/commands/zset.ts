// Sorted sets: rows (kid, member, score) with an index on (kid, score, member), so
// rank, score and lex ranges are all index walks in Redis order (score, then member bytes).
import { def, err, getTyped, globMatch, lower, parseFloatArg, parseInt64, E_SYNTAX, type ClientState, type ServerApi, parseMemberScan } from '../core.js';
import { T_ZSET, kstr, type KeyMeta } from '../store.js';

interface Row {
  member: Buffer;
  score: number;
}

function zscore(srv: ServerApi, m: KeyMeta, member: Buffer): number | undefined {
  const v = srv.store.st('SELECT score FROM zset WHERE kid = ? AND member = ?').pluck().get(m.id, member) as
    | number
    | undefined;
  return v;
}

function zsetScore(srv: ServerApi, m: KeyMeta, member: Buffer, score: number, isNew: boolean): void {
  if (isNew) {
    srv.store.st('INSERT INTO zset (kid, member, score) VALUES (?, ?, ?)').run(m.id, member, score);
    m.n++;
  } else srv.store.st('UPDATE zset SET score = ? WHERE kid = ? AND member = ?').run(score, m.id, member);
}

function dropIfEmpty(srv: ServerApi, c: ClientState, key: Buffer, m: KeyMeta): void {
  if (m.n === 0) srv.store.deleteKey(c.db, kstr(key), m);
}

/**
 * Plain `ZADD key score member` straight from the read buffer (the server's fast path, for a score
 * that does not start with a letter, so it is no option): same checks, order and reply as the handler.
 */
export function fastZadd(srv: ServerApi, c: ClientState, b: Buffer, ks: number, kl: number, ss: number, sl: number, ms: number, ml: number): void {
  const score = parseFloatArg(b.subarray(ss, ss + sl));
  const st = srv.store;
  const k = (b as unknown as { latin1Slice(s: number, e: number): string }).latin1Slice(ks, ks + kl);
  let m = st.lookupK(c.db, k);
  if (m && m.type !== T_ZSET) err('WRONGTYPE Operation against a key holding the wrong kind of value');
  if (!m) m = st.createKey(c.db, b.subarray(ks, ks + kl), T_ZSET, null, 0, k);
  const member = b.subarray(ms, ms + ml);
  if (st.st('INSERT OR IGNORE INTO zset (kid, member, score) VALUES (?, ?, ?)').run(m.id, member, score).changes) {
    m.n++;
    srv.touch(c.db, k);
    c.out.int(1);
    return;
  }
  const cur = zscore(srv, m, member);
  if (cur !== undefined && score !== cur) {
    zsetScore(srv, m, member, score, false);
    srv.touch(c.db, k);
  }
  c.out.int(0);
}

def('zadd', -4, 'write denyoom fast', [1, 1, 1], (c, a, srv) => {
  let nx = false;
  let xx = false;
  let gt = false;
  let lt = false;
  let ch = false;
  let incr = false;
  let i = 2;
  for (; i < a.length; i++) {
    // options are letters; a score (digit, sign, dot) ends them without a string conversion
    const f = a[i][0] | 0x20;
    if (!(f >= 97 && f <= 122) || a[i].length > 4) break;
    const o = lower(a[i]);
    if (o === 'nx') nx = true;
    else if (o === 'xx') xx = true;
    else if (o === 'gt') gt = true;
    else if (o === 'lt') lt = true;
    else if (o === 'ch') ch = true;
    else if (o === 'incr') incr = true;
    else break;
  }
  const elements = a.length - i;
  if (elements % 2 || !elements) err(E_SYNTAX);
  if (nx && xx) err('ERR XX and NX options at the same time are not compatible');
  if ((gt && nx) || (lt && nx) || (gt && lt)) err('ERR GT, LT, and/or NX options at the same time are not compatible');
  if (incr && elements > 2) err('ERR INCR option supports a single increment-element pair');
  const scores: number[] = [];
  for (let j = i; j < a.length; j += 2) scores.push(parseFloatArg(a[j]));
  let m = getTyped(srv, c, a[1], T_ZSET);
  if (!m) {
    if (xx) {
      if (incr) c.out.nil();
      else c.out.int(0);
      return;
    }
    m = srv.store.createKey(c.db, a[1], T_ZSET);
  }
  let added = 0;
  let changed = 0;
  let incrResult: number | null = null;
  for (let j = i, k = 0; j < a.length; j += 2, k++) {
    const member = a[j + 1];
    let score = scores[k];
    // a new member is one statement: the insert tells whether the member existed
    if (!xx && srv.store.st('INSERT OR IGNORE INTO zset (kid, member, score) VALUES (?, ?, ?)').run(m.id, member, score).changes) {
      m.n++;
      added++;
      incrResult = score;
      continue;
    }
    const cur = zscore(srv, m, member);
    if (cur === undefined) continue; // XX: not added
    {
      if (nx) continue;
      if (incr) {
        score = cur + score;
        if (Number.isNaN(score)) err('ERR resulting score is not a number (NaN)');
      }
      if ((gt && score <= cur) || (lt && score >= cur)) continue;
      incrResult = score;
      if (score !== cur) {
        zsetScore(srv, m, member, score, false);
        changed++;
      }
    }
  }
  if (m.n === 0) dropIfEmpty(srv, c, a[1], m);
  if (added || changed) srv.touch(c.db, a[1]);
  if (incr) {
    if (incrResult === null) c.out.nil();
    else c.out.double(incrResult);
  } else c.out.int(ch ? added + changed : added);
});

def('zincrby', 4, 'write denyoom fast', [1, 1, 1], (c, a, srv) => {
  const by = parseFloatArg(a[2]);
  const m = getTyped(srv, c, a[1], T_ZSET) ?? srv.store.createKey(c.db, a[1], T_ZSET);
  const cur = zscore(srv, m, a[3]);
  const score = (cur ?? 0) + by;
  if (Number.isNaN(score)) {
    dropIfEmpty(srv, c, a[1], m);
    err('ERR resulting score is not a number (NaN)');
  }
  zsetScore(srv, m, a[3], score, cur === undefined);
  srv.touch(c.db, a[1]);
  c.out.double(score);
});

def('zrem', -3, 'write fast', [1, 1, 1], (c, a, srv) => {
  const m = getTyped(srv, c, a[1], T_ZSET);
  if (!m) return c.out.int(0);
  const del = srv.store.st('DELETE FROM zset WHERE kid = ? AND member = ?');
  let n = 0;
  for (let i = 2; i < a.length; i++) n += del.run(m.id, a[i]).changes;
  m.n -= n;
  if (n) {
    dropIfEmpty(srv, c, a[1], m);
    srv.touch(c.db, a[1]);
  }
  c.out.int(n);
});

def('zcard', 2, 'readonly fast', [1, 1, 1], (c, a, srv) => c.out.int(getTyped(srv, c, a[1], T_ZSET)?.n ?? 0));

def('zscore', 3, 'readonly fast', [1, 1, 1], (c, a, srv) => {
  const m = getTyped(srv, c, a[1], T_ZSET);
  const s = m ? zscore(srv, m, a[2]) : undefined;
  if (s === undefined) c.out.nil();
  else c.out.double(s);
});

def('zmscore', -3, 'readonly fast', [1, 1, 1], (c, a, srv) => {
  const m = getTyped(srv, c, a[1], T_ZSET);
  c.out.arr(a.length - 2);
  for (let i = 2; i < a.length; i++) {
    const s = m ? zscore(srv, m, a[i]) : undefined;
    if (s === undefined) c.out.nil();
    else c.out.double(s);
  }
});

function rankOf(srv: ServerApi, m: KeyMeta, member: Buffer, rev: boolean): number | undefined {
  const s = zscore(srv, m, member);
  if (s === undefined) return undefined;
  const sql = rev
    ? 'SELECT count(*) FROM zset WHERE kid = ? AND (score, member) > (?, ?)'
    : 'SELECT count(*) FROM zset WHERE kid = ? AND (score, member) < (?, ?)';
  return srv.store.st(sql).pluck().get(m.id, s, member) as number;
}
def('zrank', 3, 'readonly fast', [1, 1, 1], (c, a, srv) => {
  const m = getTyped(srv, c, a[1], T_ZSET);
  const r = m ? rankOf(srv, m, a[2], false) : undefined;
  if (r === undefined) c.out.nil();
  else c.out.int(r);
});
def('zrevrank', 3, 'readonly fast', [1, 1, 1], (c, a, srv) => {
  const m = getTyped(srv, c, a[1], T_ZSET);
  const r = m ? rankOf(srv, m, a[2], true) : undefined;
  if (r === undefined) c.out.nil();
  else c.out.int(r);
});

interface ScoreRange {
  min: number;
  max: number;
  minex: boolean;
  maxex: boolean;
}

function parseScoreBound(b: Buffer): [number, boolean] {
  const s = b.toString('latin1');
  const ex = s.startsWith('(');
  const v = parseFloatArg(ex ? s.slice(1) : s, 'ERR min or max is not a float');
  if (Number.isNaN(v)) err('ERR min or max is not a float');
  return [v, ex];
}

function parseScoreRange(minB: Buffer, maxB: Buffer): ScoreRange {
  const [min, minex] = parseScoreBound(minB);
  const [max, maxex] = parseScoreBound(maxB);
  return { min, max, minex, maxex };
}

interface LexRange {
  min: Buffer | null; // null = unbounded
  max: Buffer | null;
  minex: boolean;
  maxex: boolean;
  empty: boolean;
}

function parseLexBound(b: Buffer, isMin: boolean): [Buffer | null, boolean, boolean] {
  const s = b[0];
  if (b.length === 1 && s === 45) return [null, false, !isMin]; // '-': unbounded low; as max it matches nothing
  if (b.length === 1 && s === 43) return [null, false, isMin]; // '+'
  if (s === 40) return [b.subarray(1), true, false];
  if (s === 91) return [b.subarray(1), false, false];
  err('ERR min or max not valid string range item');
}

function parseLexRange(minB: Buffer, maxB: Buffer): LexRange {
  const [min, minex, e1] = parseLexBound(minB, true);
  const [max, maxex, e2] = parseLexBound(maxB, false);
  return { min, max, minex, maxex, empty: e1 || e2 };
}

function scoreWhere(r: ScoreRange): string {
  return `score ${r.minex ? '>' : '>='} ? AND score ${r.maxex ? '<' : '<='} ?`;
}

function lexWhere(r: LexRange, params: unknown[]): string {
  const parts: string[] = [];
  if (r.min) {
    parts.push(`member ${r.minex ? '>' : '>='} ?`);
    params.push(r.min);
  }
  if (r.max) {
    parts.push(`member ${r.maxex ? '<' : '<='} ?`);
    params.push(r.max);
  }
  return parts.length ? ` AND ${parts.join(' AND ')}` : '';
}

function byRank(srv: ServerApi, m: KeyMeta, start: number, stop: number, rev: boolean): Row[] {
  const n = m.n;
  if (start < 0) start += n;
  if (stop < 0) stop += n;
  if (start < 0) start = 0;
  if (start > stop || start >= n) return [];
  if (stop >= n) stop = n - 1;
  const order = rev ? 'score DESC, member DESC' : 'score, member';
  return srv.store
    .st(`SELECT member, score FROM zset WHERE kid = ? ORDER BY ${order} LIMIT ? OFFSET ?`)
    .all(m.id, stop - start + 1, start) as Row[];
}

function byScore(srv: ServerApi, m: KeyMeta, r: ScoreRange, rev: boolean, offset: number, count: number): Row[] {
  if (offset < 0) return [];
  const order = rev ? 'score DESC, member DESC' : 'score, member';
  return srv.store
    .st(`SELECT member, score FROM zset WHERE kid = ? AND ${scoreWhere(r)} ORDER BY ${order} LIMIT ? OFFSET ?`)
    .all(m.id, r.min, r.max, count < 0 ? -1 : count, offset) as Row[];
}

function byLex(srv: ServerApi, m: KeyMeta, r: LexRange, rev: boolean, offset: number, count: number): Row[] {
  if (offset < 0 || r.empty) return [];
  const params: unknown[] = [m.id];
  const where = lexWhere(r, params);
  const order = rev ? 'member DESC' : 'member';
  params.push(count < 0 ? -1 : count, offset);
  return srv.store.st(`SELECT member, score FROM zset WHERE kid = ?${where} ORDER BY ${order} LIMIT ? OFFSET ?`).all(...params) as Row[];
}

function replyRows(c: ClientState, rows: Row[], withScores: boolean): void {
  if (!withScores) {
    c.out.arr(rows.length);
    for (const r of rows) c.out.bulk(r.member);
    return;
  }
  if (c.resp === 3) {
    c.out.arr(rows.length);
    for (const r of rows) {
      c.out.arr(2);
      c.out.bulk(r.member);
      c.out.double(r.score);
    }
  } else {
    c.out.arr(rows.length * 2);
    for (const r of rows) {
      c.out.bulk(r.member);
      c.out.double(r.score);
    }
  }
}

type RangeMode = 'rank' | 'score' | 'lex';

/** The shared ZRANGE family; args are already positioned (min/max as given by the caller). */
function zrangeGeneric(
  c: ClientState,
  srv: ServerApi,
  a: Buffer[],
  mode: RangeMode,
  rev: boolean,
  optStart: number,
  allowWithScores: boolean,
  allowLimit: boolean,
): void {
  let withScores = false;
  let offset = 0;
  let count = -1;
  let limit = false;
  for (let i = optStart; i < a.length; i++) {
    const o = lower(a[i]);
    if (o === 'withscores' && allowWithScores) withScores = true;
    else if (o === 'limit' && allowLimit && i + 2 < a.length) {
      offset = parseInt64(a[i + 1]);
      count = parseInt64(a[i + 2]);
      limit = true;
      i += 2;
    } else err(E_SYNTAX);
  }
  void limit;
  replyRange(c, srv, a, mode, rev, rev ? a[3] : a[2], rev ? a[2] : a[3], offset, count, withScores);
}

/** Runs one ZRANGE-family read: `lo`/`hi` are the range bounds in ascending terms. */
function replyRange(
  c: ClientState,
  srv: ServerApi,
  a: Buffer[],
  mode: RangeMode,
  rev: boolean,
  lo: Buffer,
  hi: Buffer,
  offset: number,
  count: number,
  withScores: boolean,
): void {
  // arguments are parsed before the key is looked up, so a bad range wins over WRONGTYPE as in Redis
  if (mode === 'rank') {
    const start = parseInt64(a[2]);
    const stop = parseInt64(a[3]);
    const m = getTyped(srv, c, a[1], T_ZSET);
    return replyRows(c, m ? byRank(srv, m, start, stop, rev) : [], withScores);
  }
  if (mode === 'score') {
    const r = parseScoreRange(lo, hi);
    const m = getTyped(srv, c, a[1], T_ZSET);
    return replyRows(c, m ? byScore(srv, m, r, rev, offset, count) : [], withScores);
  }
  const r = parseLexRange(lo, hi);
  const m = getTyped(srv, c, a[1], T_ZSET);
  replyRows(c, m ? byLex(srv, m, r, rev, offset, count) : [], false);
}

def('zrange', -4, 'readonly', [1, 1, 1], (c, a, srv) => {
  let mode: RangeMode = 'rank';
  let rev = false;
  let withScores = false;
  let limit: [Buffer, Buffer] | null = null;
  for (let i = 4; i < a.length; i++) {
    const o = lower(a[i]);
    if (o === 'withscores') withScores = true;
    else if (o === 'byscore') mode = 'score';
    else if (o === 'bylex') mode = 'lex';
    else if (o === 'rev') rev = true;
    else if (o === 'limit' && i + 2 < a.length) {
      limit = [a[i + 1], a[i + 2]];
      i += 2;
    } else err(E_SYNTAX);
  }
  let offset = 0;
  let count = -1;
  if (limit) {
    offset = parseInt64(limit[0]);
    count = parseInt64(limit[1]);
  }
  if (limit && mode === 'rank') err('ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX');
  if (withScores && mode === 'lex') err('ERR syntax error, WITHSCORES not supported in combination with BYLEX');
  const swap = rev && mode !== 'rank';
  replyRange(c, srv, a, mode, rev, swap ? a[3] : a[2], swap ? a[2] : a[3], offset, count, withScores);
});

def('zrevrange', -4, 'readonly', [1, 1, 1], (c, a, srv) => {
  if (a.length > 5 || (a.length === 5 && lower(a[4]) !== 'withscores')) err(E_SYNTAX);
  const start = parseInt64(a[2]);
  const stop = parseInt64(a[3]);
  const m = getTyped(srv, c, a[1], T_ZSET);
  replyRows(c, m ? byRank(srv, m, start, stop, true) : [], a.length === 5);
});
def('zrangebyscore', -4, 'readonly', [1, 1, 1], (c, a, srv) => zrangeGeneric(c, srv, a, 'score', false, 4, true, true));
def('zrevrangebyscore', -4, 'readonly', [1, 1, 1], (c, a, srv) => zrangeGeneric(c, srv, a, 'score', true, 4, true, true));
def('zrangebylex', -4, 'readonly', [1, 1, 1], (c, a, srv) => zrangeGeneric(c, srv, a, 'lex', false, 4, false, true));
def('zrevrangebylex', -4, 'readonly', [1, 1, 1], (c, a, srv) => zrangeGeneric(c, srv, a, 'lex', true, 4, false, true));

def('zcount', 4, 'readonly fast', [1, 1, 1], (c, a, srv) => {
  const r = parseScoreRange(a[2], a[3]);
  const m = getTyped(srv, c, a[1], T_ZSET);
  if (!m) return c.out.int(0);
  c.out.int(srv.store.st(`SELECT count(*) FROM zset WHERE kid = ? AND ${scoreWhere(r)}`).pluck().get(m.id, r.min, r.max) as number);
});

def('zlexcount', 4, 'readonly fast', [1, 1, 1], (c, a, srv) => {
  const r = parseLexRange(a[2], a[3]);
  const m = getTyped(srv, c, a[1], T_ZSET);
  if (!m || r.empty) return c.out.int(0);
  const params: unknown[] = [m.id];
  const where = lexWhere(r, params);
  c.out.int(srv.store.st(`SELECT count(*) FROM zset WHERE kid = ?${where}`).pluck().get(...params) as number);
});

function removeRows(c: ClientState, srv: ServerApi, key: Buffer, m: KeyMeta, rows: Row[]): void {
  const del = srv.store.st('DELETE FROM zset WHERE kid = ? AND member = ?');
  for (const r of rows) del.run(m.id, r.member);
  m.n -= rows.length;
  if (rows.length) {
    dropIfEmpty(srv, c, key, m);
    srv.touch(c.db, key);
  }
  c.out.int(rows.length);
}

def('zremrangebyscore', 4, 'write', [1, 1, 1], (c, a, srv) => {
  const r = parseScoreRange(a[2], a[3]);
  const m = getTyped(srv, c, a[1], T_ZSET);
  if (!m) return c.out.int(0);
  removeRows(c, srv, a[1], m, byScore(srv, m, r, false, 0, -1));
});
def('zremrangebyrank', 4, 'write', [1, 1, 1], (c, a, srv) => {
  const start = parseInt64(a[2]);
  const stop = parseInt64(a[3]);
  const m = getTyped(srv, c, a[1], T_ZSET);
  if (!m) return c.out.int(0);
  removeRows(c, srv, a[1], m, byRank(srv, m, start, stop, false));
});
def('zremrangebylex', 4, 'write', [1, 1, 1], (c, a, srv) => {
  const r = parseLexRange(a[2], a[3]);
  const m = getTyped(srv, c, a[1], T_ZSET);
  if (!m) return c.out.int(0);
  removeRows(c, srv, a[1], m, byLex(srv, m, r, false, 0, -1));
});

def('zscan', -3, 'readonly', [1, 1, 1], (c, a, srv) => {
  const { pat } = parseMemberScan(a);
  const m = getTyped(srv, c, a[1], T_ZSET);
  // one page holds everything: the cursor is always 0
  const rows = (m ? byRank(srv, m, 0, -1, false) : []).filter((r) => pat === null || globMatch(pat, kstr(r.member)));
  c.out.arr(2);
  c.out.bulkStr('0');
  c.out.arr(rows.length * 2);
  for (const r of rows) {
    c.out.bulk(r.member);
    c.out.double(r.score);
  }
});
