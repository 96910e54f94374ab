// Hash commands: one row per field in the hash table.
import { def, err, getTyped, parseBig, globMatch, type ClientState, type ServerApi, parseMemberScan } from '../core.js';
import { T_HASH, kstr, type KeyMeta } from '../store.js';

function hashFor(srv: ServerApi, c: ClientState, key: Buffer): KeyMeta {
  return getTyped(srv, c, key, T_HASH) ?? srv.store.createKey(c.db, key, T_HASH);
}

/** Sets a field; true when it is new. */
function hset(srv: ServerApi, m: KeyMeta, f: Buffer, v: Buffer): boolean {
  const r = srv.store.st('INSERT OR IGNORE INTO hash (kid, field, val) VALUES (?, ?, ?)').run(m.id, f, v);
  if (r.changes) {
    m.n++;
    return true;
  }
  srv.store.st('UPDATE hash SET val = ? WHERE kid = ? AND field = ?').run(v, m.id, f);
  return false;
}

function hget(srv: ServerApi, m: KeyMeta, f: Buffer): Buffer | undefined {
  return srv.store.st('SELECT val FROM hash WHERE kid = ? AND field = ?').pluck().get(m.id, f) as Buffer | undefined;
}

function dropIfEmpty(srv: ServerApi, c: ClientState, key: Buffer, m: KeyMeta): void {
  if (m.n === 0) srv.store.deleteKey(c.db, kstr(key), m);
}

function hsetCmd(c: ClientState, a: Buffer[], srv: ServerApi, name: string, multi: boolean): void {
  if (a.length % 2 === 1) err(`ERR wrong number of arguments for '${name}' command`);
  const m = hashFor(srv, c, a[1]);
  let added = 0;
  for (let i = 2; i < a.length; i += 2) if (hset(srv, m, a[i], a[i + 1])) added++;
  srv.touch(c.db, a[1]);
  if (multi) c.out.ok();
  else c.out.int(added);
}
def('hset', -4, 'write denyoom fast', [1, 1, 1], (c, a, srv) => hsetCmd(c, a, srv, 'hset', false));
def('hmset', -4, 'write denyoom fast', [1, 1, 1], (c, a, srv) => hsetCmd(c, a, srv, 'hmset', true));

def('hsetnx', 4, 'write denyoom fast', [1, 1, 1], (c, a, srv) => {
  const m = hashFor(srv, c, a[1]);
  if (hget(srv, m, a[2]) !== undefined) return c.out.int(0);
  hset(srv, m, a[2], a[3]);
  srv.touch(c.db, a[1]);
  c.out.int(1);
});

def('hget', 3, 'readonly fast', [1, 1, 1], (c, a, srv) => {
  const m = getTyped(srv, c, a[1], T_HASH);
  c.out.bulk(m ? hget(srv, m, a[2]) : null);
});

def('hmget', -3, 'readonly fast', [1, 1, 1], (c, a, srv) => {
  const m = getTyped(srv, c, a[1], T_HASH);
  c.out.arr(a.length - 2);
  for (let i = 2; i < a.length; i++) c.out.bulk(m ? hget(srv, m, a[i]) : null);
});

function allFields(srv: ServerApi, m: KeyMeta): Array<{ field: Buffer; val: Buffer }> {
  return srv.store.st('SELECT field, val FROM hash WHERE kid = ?').all(m.id) as Array<{ field: Buffer; val: Buffer }>;
}

def('hgetall', 2, 'readonly', [1, 1, 1], (c, a, srv) => {
  const m = getTyped(srv, c, a[1], T_HASH);
  const rows = m ? allFields(srv, m) : [];
  c.out.map(rows.length);
  for (const r of rows) {
    c.out.bulk(r.field);
    c.out.bulk(r.val);
  }
});

def('hkeys', 2, 'readonly', [1, 1, 1], (c, a, srv) => {
  const m = getTyped(srv, c, a[1], T_HASH);
  c.out.bulkArray(m ? allFields(srv, m).map((r) => r.field) : []);
});
def('hvals', 2, 'readonly', [1, 1, 1], (c, a, srv) => {
  const m = getTyped(srv, c, a[1], T_HASH);
  c.out.bulkArray(m ? allFields(srv, m).map((r) => r.val) : []);
});

def('hdel', -3, 'write fast', [1, 1, 1], (c, a, srv) => {
  const m = getTyped(srv, c, a[1], T_HASH);
  if (!m) return c.out.int(0);
  let n = 0;
  const del = srv.store.st('DELETE FROM hash WHERE kid = ? AND field = ?');
  for (let i = 2; i < a.length; i++) n += del.run(m.id, a[i]).changes;
  m.n -= n;
  if (n) {
    dropIfEmpty(srv, c, a[1], m);
    srv.touch(c.db, a[1]);
  }
  c.out.int(n);
});

def('hexists', 3, 'readonly fast', [1, 1, 1], (c, a, srv) => {
  const m = getTyped(srv, c, a[1], T_HASH);
  c.out.int(m && hget(srv, m, a[2]) !== undefined ? 1 : 0);
});

def('hlen', 2, 'readonly fast', [1, 1, 1], (c, a, srv) => {
  const m = getTyped(srv, c, a[1], T_HASH);
  c.out.int(m ? m.n : 0);
});

def('hstrlen', 3, 'readonly fast', [1, 1, 1], (c, a, srv) => {
  const m = getTyped(srv, c, a[1], T_HASH);
  c.out.int((m && hget(srv, m, a[2]))?.length ?? 0);
});

def('hincrby', 4, 'write denyoom fast', [1, 1, 1], (c, a, srv) => {
  const by = parseBig(a[3]);
  const m0 = getTyped(srv, c, a[1], T_HASH);
  const cur = m0 ? hget(srv, m0, a[2]) : undefined;
  const v = cur === undefined ? 0n : parseBig(cur, 'ERR hash value is not an integer');
  const r = v + by;
  if (r > 9223372036854775807n || r < -9223372036854775808n) err('ERR increment or decrement would overflow');
  const m = m0 ?? hashFor(srv, c, a[1]);
  hset(srv, m, a[2], Buffer.from(r.toString()));
  srv.touch(c.db, a[1]);
  c.out.int(r);
});

def('hscan', -3, 'readonly', [1, 1, 1], (c, a, srv) => {
  const { pat } = parseMemberScan(a);
  const m = getTyped(srv, c, a[1], T_HASH);
  // one page holds everything: the cursor is always 0
  const rows = (m ? allFields(srv, m) : []).filter((r) => pat === null || globMatch(pat, kstr(r.field)));
  c.out.arr(2);
  c.out.bulkStr('0');
  c.out.arr(rows.length * 2);
  for (const r of rows) {
    c.out.bulk(r.field);
    c.out.bulk(r.val);
  }
});
