// String commands. A string's value lives in keys.val, so SET/GET touch one row (written at commit).
import { def, err, getTyped, lower, parseBig, parseInt64, E_SYNTAX, type ClientState, type ServerApi } from '../core.js';
import { SVAL_MAX, T_STRING, kstr, type KeyMeta } from '../store.js';

/** Writes a string value; exp: absolute ms, 0 = none, -1 = keep the current TTL. */
export function writeString(srv: ServerApi, c: ClientState, key: Buffer, val: Buffer, exp: number): void {
  const k = kstr(key);
  writeStringAt(srv, c, key, k, srv.store.lookupK(c.db, k), val, exp);
}

/** writeString() for a caller that already looked the key up: k = kstr(key), m = its meta. */
function writeStringAt(srv: ServerApi, c: ClientState, key: Buffer, k: string, m: KeyMeta | undefined, val: Buffer, exp: number): void {
  const st = srv.store;
  if (m && m.type === T_STRING) {
    st.setVal(m, val, exp === -1 ? undefined : exp);
  } else {
    if (m) st.deleteKey(c.db, k, m);
    st.createKey(c.db, key, T_STRING, val, exp === -1 ? 0 : exp, k);
  }
  srv.touch(c.db, k);
}

type Latin1 = { latin1Slice(s: number, e: number): string };

/**
 * Plain `SET key value` straight from the read buffer b (key and value at offsets): the server's
 * fast path, same effect and reply as the SET handler without argument Buffers. The value is
 * copied once (it is cached and written at commit); the key gets a view only for a new row.
 */
export function fastSet(srv: ServerApi, c: ClientState, b: Buffer, ks: number, kl: number, vs: number, vl: number): void {
  const st = srv.store;
  const k = (b as unknown as Latin1).latin1Slice(ks, ks + kl);
  const m = st.lookupK(c.db, k);
  let val: Buffer;
  const own = vl <= SVAL_MAX;
  if (own) {
    val = Buffer.allocUnsafe(vl);
    if (vl <= 64) for (let i = 0; i < vl; i++) val[i] = b[vs + i];
    else b.copy(val, 0, vs, vs + vl);
  } else val = b.subarray(vs, vs + vl);
  if (m && m.type === T_STRING) st.setVal(m, val, 0, own);
  else {
    if (m) st.deleteKey(c.db, k, m);
    st.createKey(c.db, b.subarray(ks, ks + kl), T_STRING, val, 0, k, own);
  }
  srv.touch(c.db, k);
  c.out.ok();
}

/** `GET key` straight from the read buffer (the server's fast path). */
export function fastGet(srv: ServerApi, c: ClientState, b: Buffer, ks: number, kl: number): void {
  const m = srv.store.lookupK(c.db, (b as unknown as Latin1).latin1Slice(ks, ks + kl));
  if (!m) return c.out.nil();
  if (m.type !== T_STRING) err('WRONGTYPE Operation against a key holding the wrong kind of value');
  c.out.bulk(srv.store.getVal(m));
}

function getString(srv: ServerApi, c: ClientState, key: Buffer): Buffer | null {
  const m = getTyped(srv, c, key, T_STRING);
  return m ? srv.store.getVal(m) : null;
}

def('get', 2, 'readonly fast', [1, 1, 1], (c, a, srv) => c.out.bulk(getString(srv, c, a[1])));

function parseExpire(b: Buffer, unitMs: number, absolute: boolean, cmd: string): number {
  const n = parseInt64(b);
  if (n <= 0 && !absolute) err(`ERR invalid expire time in '${cmd}' command`);
  if (absolute && n <= 0) err(`ERR invalid expire time in '${cmd}' command`);
  const ms = n * unitMs;
  if (!Number.isSafeInteger(ms)) err(`ERR invalid expire time in '${cmd}' command`);
  return absolute ? ms : Date.now() + ms;
}

def('set', -3, 'write denyoom', [1, 1, 1], (c, a, srv) => {
  if (a.length === 3) {
    // plain SET key value: one key lookup
    const k = kstr(a[1]);
    writeStringAt(srv, c, a[1], k, srv.store.lookupK(c.db, k), a[2], 0);
    c.out.ok();
    return;
  }
  let nx = false;
  let xx = false;
  let get = false;
  let keep = false;
  let exp = 0;
  let expSet = false;
  for (let i = 3; i < a.length; i++) {
    const o = lower(a[i]);
    const hasNext = i + 1 < a.length;
    if (o === 'nx' && !xx) nx = true;
    else if (o === 'xx' && !nx) xx = true;
    else if (o === 'get') get = true;
    else if (o === 'keepttl' && !expSet) keep = true;
    else if ((o === 'ex' || o === 'px' || o === 'exat' || o === 'pxat') && !keep && !expSet && hasNext) {
      expSet = true;
      const unit = o === 'ex' || o === 'exat' ? 1000 : 1;
      exp = parseExpire(a[++i], unit, o.endsWith('at'), 'set');
    } else err(E_SYNTAX);
  }
  const st = srv.store;
  const k = kstr(a[1]);
  const m = st.lookupK(c.db, k);
  let old: Buffer | null = null;
  if (get && m) {
    if (m.type !== T_STRING) err('WRONGTYPE Operation against a key holding the wrong kind of value');
    old = st.getVal(m);
  }
  if ((nx && m) || (xx && !m)) {
    if (get) c.out.bulk(old);
    else c.out.nil();
    return;
  }
  writeStringAt(srv, c, a[1], k, m, a[2], keep ? -1 : exp);
  if (get) c.out.bulk(old);
  else c.out.ok();
});

def('setnx', 3, 'write denyoom fast', [1, 1, 1], (c, a, srv) => {
  if (srv.store.lookup(c.db, a[1])) return c.out.int(0);
  writeString(srv, c, a[1], a[2], 0);
  c.out.int(1);
});

def('setex', 4, 'write denyoom', [1, 1, 1], (c, a, srv) => {
  const exp = parseExpire(a[2], 1000, false, 'setex');
  writeString(srv, c, a[1], a[3], exp);
  c.out.ok();
});

def('psetex', 4, 'write denyoom', [1, 1, 1], (c, a, srv) => {
  const exp = parseExpire(a[2], 1, false, 'psetex');
  writeString(srv, c, a[1], a[3], exp);
  c.out.ok();
});

def('getset', 3, 'write denyoom fast', [1, 1, 1], (c, a, srv) => {
  const old = getString(srv, c, a[1]);
  writeString(srv, c, a[1], a[2], 0);
  c.out.bulk(old);
});

def('getdel', 2, 'write fast', [1, 1, 1], (c, a, srv) => {
  const old = getString(srv, c, a[1]);
  if (old) {
    const m = srv.store.lookup(c.db, a[1]);
    if (m) srv.store.deleteKey(c.db, kstr(a[1]), m);
    srv.touch(c.db, a[1]);
  }
  c.out.bulk(old);
});

def('mget', -2, 'readonly fast', [1, -1, 1], (c, a, srv) => {
  c.out.arr(a.length - 1);
  for (let i = 1; i < a.length; i++) {
    const m = srv.store.lookup(c.db, a[i]);
    c.out.bulk(m && m.type === T_STRING ? srv.store.getVal(m) : null);
  }
});

def('mset', -3, 'write denyoom', [1, -1, 2], (c, a, srv) => {
  if (a.length % 2 === 0) err("ERR wrong number of arguments for 'mset' command");
  for (let i = 1; i < a.length; i += 2) writeString(srv, c, a[i], a[i + 1], 0);
  c.out.ok();
});

def('msetnx', -3, 'write denyoom', [1, -1, 2], (c, a, srv) => {
  if (a.length % 2 === 0) err("ERR wrong number of arguments for 'msetnx' command");
  for (let i = 1; i < a.length; i += 2) if (srv.store.lookup(c.db, a[i])) return c.out.int(0);
  for (let i = 1; i < a.length; i += 2) writeString(srv, c, a[i], a[i + 1], 0);
  c.out.int(1);
});

const I64_MAX = 9223372036854775807n;
const I64_MIN = -9223372036854775808n;

function incrBy(c: ClientState, srv: ServerApi, key: Buffer, by: bigint): void {
  const cur = getString(srv, c, key);
  const v = cur === null ? 0n : parseBig(cur);
  const r = v + by;
  if (r > I64_MAX || r < I64_MIN) err('ERR increment or decrement would overflow');
  writeString(srv, c, key, Buffer.from(r.toString()), -1);
  c.out.int(r);
}

def('incr', 2, 'write denyoom fast', [1, 1, 1], (c, a, srv) => incrBy(c, srv, a[1], 1n));
def('decr', 2, 'write denyoom fast', [1, 1, 1], (c, a, srv) => incrBy(c, srv, a[1], -1n));
def('incrby', 3, 'write denyoom fast', [1, 1, 1], (c, a, srv) => incrBy(c, srv, a[1], parseBig(a[2])));
def('decrby', 3, 'write denyoom fast', [1, 1, 1], (c, a, srv) => {
  const by = parseBig(a[2]);
  if (by === I64_MIN) err('ERR decrement would overflow');
  incrBy(c, srv, a[1], -by);
});

def('append', 3, 'write denyoom fast', [1, 1, 1], (c, a, srv) => {
  const cur = getString(srv, c, a[1]);
  const nv = cur ? Buffer.concat([cur, a[2]]) : Buffer.from(a[2]);
  writeString(srv, c, a[1], nv, -1);
  c.out.int(nv.length);
});

def('strlen', 2, 'readonly fast', [1, 1, 1], (c, a, srv) => {
  const v = getString(srv, c, a[1]);
  c.out.int(v ? v.length : 0);
});

def('getrange', 4, 'readonly', [1, 1, 1], (c, a, srv) => {
  let s = parseInt64(a[2]);
  let e = parseInt64(a[3]);
  const v = getString(srv, c, a[1]) ?? Buffer.alloc(0);
  const n = v.length;
  if (s < 0 && e < 0 && s > e) return c.out.bulk(Buffer.alloc(0));
  if (s < 0) s = n + s;
  if (e < 0) e = n + e;
  if (s < 0) s = 0;
  if (e < 0) e = 0;
  if (e >= n) e = n - 1;
  if (n === 0 || s > e) return c.out.bulk(Buffer.alloc(0));
  c.out.bulk(v.subarray(s, e + 1));
});
