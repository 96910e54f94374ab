// Generic keyspace commands.
import { def, err, globMatch, lower, parseInt64, E_SYNTAX, type ClientState, type ServerApi } from '../core.js';
import { TYPE_NAMES, kstr, NUM_DBS } from '../store.js';

/** DEL and UNLINK: the engine frees nothing in the background, so both delete at once. */
function deleteKeys(c: ClientState, a: Buffer[], srv: ServerApi): void {
  let n = 0;
  for (let i = 1; i < a.length; i++) {
    const m = srv.store.lookup(c.db, a[i]);
    if (m) {
      srv.store.deleteKey(c.db, kstr(a[i]), m);
      srv.touch(c.db, a[i]);
      n++;
    }
  }
  c.out.int(n);
}
def('del', -2, 'write', [1, -1, 1], deleteKeys);
def('unlink', -2, 'write fast', [1, -1, 1], deleteKeys);

def('exists', -2, 'readonly fast', [1, -1, 1], (c, a, srv) => {
  let n = 0;
  for (let i = 1; i < a.length; i++) if (srv.store.lookup(c.db, a[i])) n++;
  c.out.int(n);
});

def('type', 2, 'readonly fast', [1, 1, 1], (c, a, srv) => {
  const m = srv.store.lookup(c.db, a[1]);
  c.out.simple(m ? TYPE_NAMES[m.type] : 'none');
});

function expireGeneric(c: ClientState, a: Buffer[], srv: ServerApi, unit: number, absolute: boolean, cmd: string): void {
  const n = parseInt64(a[2]);
  let nx = false;
  let xx = false;
  let gt = false;
  let lt = false;
  for (let i = 3; i < a.length; i++) {
    const o = lower(a[i]);
    if (o === 'nx') nx = true;
    else if (o === 'xx') xx = true;
    else if (o === 'gt') gt = true;
    else if (o === 'lt') lt = true;
    else err(`ERR Unsupported option ${a[i].toString('latin1')}`);
  }
  if (nx && (xx || gt || lt)) err('ERR NX and XX, GT or LT options at the same time are not compatible');
  if (gt && lt) err('ERR GT and LT options at the same time are not compatible');
  let when = n * unit;
  if (!absolute) when += Date.now();
  if (!Number.isSafeInteger(n * unit)) err(`ERR invalid expire time in '${cmd}' command`);
  const m = srv.store.lookup(c.db, a[1]);
  if (!m) return c.out.int(0);
  const cur = m.exp;
  if (nx && cur !== 0) return c.out.int(0);
  if (xx && cur === 0) return c.out.int(0);
  // a key without TTL counts as an infinite TTL for GT/LT
  if (gt && (cur === 0 || when <= cur)) return c.out.int(0);
  if (lt && cur !== 0 && when >= cur) return c.out.int(0);
  if (when <= Date.now()) {
    srv.store.deleteKey(c.db, kstr(a[1]), m);
  } else {
    srv.store.setExp(m, when);
  }
  srv.touch(c.db, a[1]);
  c.out.int(1);
}

def('expire', -3, 'write fast', [1, 1, 1], (c, a, srv) => expireGeneric(c, a, srv, 1000, false, 'expire'));
def('pexpire', -3, 'write fast', [1, 1, 1], (c, a, srv) => expireGeneric(c, a, srv, 1, false, 'pexpire'));
def('expireat', -3, 'write fast', [1, 1, 1], (c, a, srv) => expireGeneric(c, a, srv, 1000, true, 'expireat'));
def('pexpireat', -3, 'write fast', [1, 1, 1], (c, a, srv) => expireGeneric(c, a, srv, 1, true, 'pexpireat'));

function ttlGeneric(c: ClientState, a: Buffer[], srv: ServerApi, ms: boolean): void {
  const m = srv.store.lookup(c.db, a[1]);
  if (!m) return c.out.int(-2);
  if (m.exp === 0) return c.out.int(-1);
  const left = Math.max(0, m.exp - Date.now());
  c.out.int(ms ? left : Math.floor((left + 500) / 1000));
}
def('ttl', 2, 'readonly fast', [1, 1, 1], (c, a, srv) => ttlGeneric(c, a, srv, false));
def('pttl', 2, 'readonly fast', [1, 1, 1], (c, a, srv) => ttlGeneric(c, a, srv, true));
def('expiretime', 2, 'readonly fast', [1, 1, 1], (c, a, srv) => {
  const m = srv.store.lookup(c.db, a[1]);
  c.out.int(!m ? -2 : m.exp === 0 ? -1 : Math.floor(m.exp / 1000));
});
def('pexpiretime', 2, 'readonly fast', [1, 1, 1], (c, a, srv) => {
  const m = srv.store.lookup(c.db, a[1]);
  c.out.int(!m ? -2 : m.exp === 0 ? -1 : m.exp);
});

def('persist', 2, 'write fast', [1, 1, 1], (c, a, srv) => {
  const m = srv.store.lookup(c.db, a[1]);
  if (!m || m.exp === 0) return c.out.int(0);
  srv.store.setExp(m, 0);
  srv.touch(c.db, a[1]);
  c.out.int(1);
});

/** Live keys of a db (expired ones are skipped, not deleted: reads stay read-only). */
function liveKeys(srv: ServerApi, db: number): string[] {
  const now = Date.now();
  const out: string[] = [];
  for (const [k, m] of srv.store.dbs[db]) if (m.exp === 0 || m.exp > now) out.push(k);
  return out;
}

def('keys', 2, 'readonly', [0, 0, 0], (c, a, srv) => {
  const pat = a[1].toString('latin1');
  const all = pat === '*';
  const ks = liveKeys(srv, c.db).filter((k) => all || globMatch(pat, k));
  c.out.arr(ks.length);
  for (const k of ks) c.out.bulk(Buffer.from(k, 'latin1'));
});

def('scan', -2, 'readonly', [0, 0, 0], (c, a, srv) => {
  const cs = a[1].toString('latin1');
  if (!/^[0-9]+$/.test(cs)) err('ERR invalid cursor');
  const cursor = Number(cs);
  let pat: string | null = null;
  let count = 10;
  let type: string | null = null;
  for (let i = 2; i < a.length; i++) {
    const o = lower(a[i]);
    if (o === 'match' && i + 1 < a.length) pat = a[++i].toString('latin1');
    else if (o === 'count' && i + 1 < a.length) {
      count = parseInt64(a[++i]);
      if (count < 1) err(E_SYNTAX);
    } else if (o === 'type' && i + 1 < a.length) type = a[++i].toString('latin1').toLowerCase();
    else err(E_SYNTAX);
  }
  // the cursor is the keys-table rowid: stable for keys that live through the scan
  srv.store.flushPending();
  const rows = srv.store
    .st('SELECT id, key FROM keys WHERE db = ? AND id > ? ORDER BY id LIMIT ?')
    .all(c.db, cursor, count) as Array<{ id: number; key: Buffer }>;
  const next = rows.length < count ? 0 : rows[rows.length - 1].id;
  const now = Date.now();
  const found: Buffer[] = [];
  for (const r of rows) {
    const k = kstr(r.key);
    const m = srv.store.dbs[c.db].get(k);
    if (!m || (m.exp !== 0 && m.exp <= now)) continue;
    if (pat !== null && pat !== '*' && !globMatch(pat, k)) continue;
    if (type !== null && TYPE_NAMES[m.type].toLowerCase() !== type) continue;
    found.push(r.key);
  }
  c.out.arr(2);
  c.out.bulkStr(String(next));
  c.out.bulkArray(found);
});

function renameGeneric(c: ClientState, a: Buffer[], srv: ServerApi, nx: boolean): void {
  const st = srv.store;
  const m = st.lookup(c.db, a[1]);
  if (!m) err('ERR no such key');
  const from = kstr(a[1]);
  const to = kstr(a[2]);
  if (from === to) return nx ? c.out.int(0) : c.out.ok();
  const dst = st.lookup(c.db, a[2]);
  if (dst) {
    if (nx) return c.out.int(0);
    st.deleteKey(c.db, to, dst);
  }
  st.renameKey(c.db, from, a[2], m);
  srv.touch(c.db, a[1]);
  srv.touch(c.db, a[2]);
  if (nx) c.out.int(1);
  else c.out.ok();
}
def('rename', 3, 'write', [1, 2, 1], (c, a, srv) => renameGeneric(c, a, srv, false));
def('renamenx', 3, 'write fast', [1, 2, 1], (c, a, srv) => renameGeneric(c, a, srv, true));

def('move', 3, 'write fast', [1, 1, 1], (c, a, srv) => {
  const db = parseInt64(a[2]);
  if (db < 0 || db >= NUM_DBS) err('ERR DB index is out of range');
  if (db === c.db) err('ERR source and destination objects are the same');
  const m = srv.store.lookup(c.db, a[1]);
  if (!m || srv.store.lookup(db, a[1])) return c.out.int(0);
  srv.store.moveKey(c.db, kstr(a[1]), db, m);
  srv.touch(c.db, a[1]);
  srv.touch(db, a[1]);
  c.out.int(1);
});

def('dbsize', 1, 'readonly fast', [0, 0, 0], (c, _a, srv) => c.out.int(liveKeys(srv, c.db).length));

function flushOpts(a: Buffer[]): void {
  if (a.length > 2) err(E_SYNTAX);
  if (a.length === 2) {
    const o = lower(a[1]);
    if (o !== 'async' && o !== 'sync') err(E_SYNTAX);
  }
}
def('flushdb', -1, 'write', [0, 0, 0], (c, a, srv) => {
  flushOpts(a);
  srv.touchDb(c.db);
  srv.store.flushDb(c.db);
  c.out.ok();
});
def('flushall', -1, 'write', [0, 0, 0], (c, a, srv) => {
  flushOpts(a);
  srv.touchDb(null);
  srv.store.flushAll();
  c.out.ok();
});
def('randomkey', 1, 'readonly', [0, 0, 0], (c, _a, srv) => {
  const ks = liveKeys(srv, c.db);
  c.out.bulk(ks.length ? Buffer.from(ks[Math.floor(Math.random() * ks.length)], 'latin1') : null);
});
def('touch', -2, 'readonly fast', [1, -1, 1], (c, a, srv) => {
  let n = 0;
  for (let i = 1; i < a.length; i++) if (srv.store.lookup(c.db, a[i])) n++;
  c.out.int(n);
});
