// Set commands: one row per member in the sets table.
import { def, err, getTyped, lower, parseInt64, globMatch, E_SYNTAX, type ClientState, type ServerApi, parseMemberScan } from '../core.js';
import { T_SET, kstr, type KeyMeta } from '../store.js';

function members(srv: ServerApi, m: KeyMeta | undefined): Buffer[] {
  if (!m) return [];
  return srv.store.st('SELECT member FROM sets WHERE kid = ?').pluck().all(m.id) as Buffer[];
}

function isMember(srv: ServerApi, m: KeyMeta, v: Buffer): boolean {
  return srv.store.st('SELECT 1 FROM sets WHERE kid = ? AND member = ?').pluck().get(m.id, v) !== undefined;
}

def('sadd', -3, 'write denyoom fast', [1, 1, 1], (c, a, srv) => {
  const m = getTyped(srv, c, a[1], T_SET) ?? srv.store.createKey(c.db, a[1], T_SET);
  const ins = srv.store.st('INSERT OR IGNORE INTO sets (kid, member) VALUES (?, ?)');
  let n = 0;
  for (let i = 2; i < a.length; i++) n += ins.run(m.id, a[i]).changes;
  m.n += n;
  if (n) srv.touch(c.db, a[1]);
  c.out.int(n);
});

def('srem', -3, 'write fast', [1, 1, 1], (c, a, srv) => {
  const m = getTyped(srv, c, a[1], T_SET);
  if (!m) return c.out.int(0);
  const del = srv.store.st('DELETE FROM sets WHERE kid = ? AND member = ?');
  let n = 0;
  for (let i = 2; i < a.length; i++) n += del.run(m.id, a[i]).changes;
  m.n -= n;
  if (n) {
    if (m.n === 0) srv.store.deleteKey(c.db, kstr(a[1]), m);
    srv.touch(c.db, a[1]);
  }
  c.out.int(n);
});

function replySet(c: ClientState, items: Buffer[]): void {
  c.out.set(items.length);
  for (const it of items) c.out.bulk(it);
}

def('smembers', 2, 'readonly', [1, 1, 1], (c, a, srv) => replySet(c, members(srv, getTyped(srv, c, a[1], T_SET))));

def('sismember', 3, 'readonly fast', [1, 1, 1], (c, a, srv) => {
  const m = getTyped(srv, c, a[1], T_SET);
  c.out.int(m && isMember(srv, m, a[2]) ? 1 : 0);
});

def('smismember', -3, 'readonly fast', [1, 1, 1], (c, a, srv) => {
  const m = getTyped(srv, c, a[1], T_SET);
  c.out.arr(a.length - 2);
  for (let i = 2; i < a.length; i++) c.out.int(m && isMember(srv, m, a[i]) ? 1 : 0);
});

def('scard', 2, 'readonly fast', [1, 1, 1], (c, a, srv) => c.out.int(getTyped(srv, c, a[1], T_SET)?.n ?? 0));

type SetOp = 'inter' | 'union' | 'diff';

/** At most this many sets per SQL statement in SINTER/SDIFF (the rest are filtered in chunks). */
const SQL_SETS = 32;

/** Members of `first` that are (inter) or are not (diff) in the other sets: one statement, in C. */
function filterSql(srv: ServerApi, first: KeyMeta, others: KeyMeta[], keep: boolean): Buffer[] {
  if (!others.length) return members(srv, first);
  let sql = 'SELECT member FROM sets s0 WHERE kid = ?';
  if (keep) {
    for (let i = 0; i < others.length; i++) sql += ' AND EXISTS (SELECT 1 FROM sets WHERE kid = ? AND member = s0.member)';
  } else {
    sql += ` AND NOT EXISTS (SELECT 1 FROM sets WHERE kid IN (${others.map(() => '?').join(',')}) AND member = s0.member)`;
  }
  return srv.store.st(sql).pluck().all(first.id, ...others.map((m) => m.id)) as Buffer[];
}

function compute(srv: ServerApi, c: ClientState, keys: Buffer[], op: SetOp): Buffer[] {
  const metas = keys.map((k) => getTyped(srv, c, k, T_SET));
  if (op === 'inter') {
    if (metas.some((m) => !m)) return [];
    const uniq = [...new Set(metas as KeyMeta[])].sort((x, y) => x.n - y.n);
    const [first, ...rest] = uniq as [KeyMeta, ...KeyMeta[]];
    let cur = filterSql(srv, first, rest.slice(0, SQL_SETS), true);
    for (let i = SQL_SETS; i < rest.length && cur.length; i++) cur = cur.filter((v) => isMember(srv, rest[i] as KeyMeta, v));
    return cur;
  }
  if (op === 'union') {
    const seen = new Map<string, Buffer>();
    for (const m of metas) for (const v of members(srv, m)) seen.set(kstr(v), v);
    return [...seen.keys()].sort().map((k) => seen.get(k) as Buffer);
  }
  const first = metas[0];
  if (!first) return [];
  // a set minus itself is empty
  const others = [...new Set(metas.slice(1).filter((m): m is KeyMeta => m !== undefined))];
  if (others.includes(first)) return [];
  let cur = filterSql(srv, first, others.slice(0, SQL_SETS), false);
  for (let i = SQL_SETS; i < others.length && cur.length; i++) cur = cur.filter((v) => !isMember(srv, others[i] as KeyMeta, v));
  return cur;
}

function storeSet(srv: ServerApi, c: ClientState, dst: Buffer, items: Buffer[]): void {
  const st = srv.store;
  const old = st.lookup(c.db, dst);
  if (old) st.deleteKey(c.db, kstr(dst), old);
  if (items.length) {
    const m = st.createKey(c.db, dst, T_SET);
    const ins = st.st('INSERT OR IGNORE INTO sets (kid, member) VALUES (?, ?)');
    for (const v of items) ins.run(m.id, v);
    m.n = items.length;
  }
  if (old || items.length) srv.touch(c.db, dst);
}

for (const op of ['inter', 'union', 'diff'] as SetOp[]) {
  def(`s${op}`, -2, 'readonly', [1, -1, 1], (c, a, srv) => replySet(c, compute(srv, c, a.slice(1), op)));
  def(`s${op}store`, -3, 'write denyoom', [1, -1, 1], (c, a, srv) => {
    const items = compute(srv, c, a.slice(2), op);
    storeSet(srv, c, a[1], items);
    c.out.int(items.length);
  });
}

def('sintercard', -3, 'readonly', [1, 1, 1], (c, a, srv) => {
  const nk = parseInt64(a[1], 'ERR numkeys should be greater than 0');
  if (nk <= 0) err('ERR numkeys should be greater than 0');
  if (nk > a.length - 2) err("ERR Number of keys can't be greater than number of args");
  let limit = 0;
  for (let i = 2 + nk; i < a.length; i++) {
    if (lower(a[i]) === 'limit' && i + 1 < a.length) {
      limit = parseInt64(a[++i], "ERR LIMIT can't be negative");
      if (limit < 0) err("ERR LIMIT can't be negative");
    } else err(E_SYNTAX);
  }
  const n = compute(srv, c, a.slice(2, 2 + nk), 'inter').length;
  c.out.int(limit ? Math.min(limit, n) : n);
});

def('smove', 4, 'write fast', [1, 2, 1], (c, a, srv) => {
  const src = getTyped(srv, c, a[1], T_SET);
  const dst0 = getTyped(srv, c, a[2], T_SET);
  if (!src || !isMember(srv, src, a[3])) return c.out.int(0);
  if (kstr(a[1]) === kstr(a[2])) return c.out.int(1);
  srv.store.st('DELETE FROM sets WHERE kid = ? AND member = ?').run(src.id, a[3]);
  src.n--;
  if (src.n === 0) srv.store.deleteKey(c.db, kstr(a[1]), src);
  const dst = dst0 ?? srv.store.createKey(c.db, a[2], T_SET);
  dst.n += srv.store.st('INSERT OR IGNORE INTO sets (kid, member) VALUES (?, ?)').run(dst.id, a[3]).changes;
  srv.touch(c.db, a[1]);
  srv.touch(c.db, a[2]);
  c.out.int(1);
});

def('sscan', -3, 'readonly', [1, 1, 1], (c, a, srv) => {
  const { pat } = parseMemberScan(a);
  // one page holds everything: the cursor is always 0
  const items = members(srv, getTyped(srv, c, a[1], T_SET)).filter((v) => pat === null || globMatch(pat, kstr(v)));
  c.out.arr(2);
  c.out.bulkStr('0');
  c.out.bulkArray(items);
});
