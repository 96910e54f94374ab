// Connection, transaction, pub/sub and server commands.
import { COMMANDS, def, err, lower, parseInt64, E_SYNTAX, globMatch, type ClientState, type CommandSpec, type ServerApi } from '../core.js';
import { NUM_DBS, TYPE_NAMES } from '../store.js';

export const REDIS_VERSION = '7.0.15';
export const TS_MODULE_VERSION = 11200;

def('ping', -1, 'fast', [0, 0, 0], (c, a) => {
  if (a.length > 2) err("ERR wrong number of arguments for 'ping' command");
  if (c.resp === 2 && (c.subs.size || c.psubs.size)) {
    c.out.arr(2);
    c.out.bulkStr('pong');
    c.out.bulk(a.length === 2 ? a[1] : Buffer.alloc(0));
    return;
  }
  if (a.length === 2) c.out.bulk(a[1]);
  else c.out.simple('PONG');
});

def('echo', 2, 'fast', [0, 0, 0], (c, a) => c.out.bulk(a[1]));

def('quit', -1, 'fast', [0, 0, 0], (c) => {
  c.out.ok();
  c.closeAfterFlush = true;
});

def('select', 2, 'fast', [0, 0, 0], (c, a) => {
  const db = parseInt64(a[1]);
  if (db < 0 || db >= NUM_DBS) err('ERR DB index is out of range');
  c.db = db;
  c.out.ok();
});

function checkAuth(srv: ServerApi, user: string, pass: string): boolean {
  if (user !== 'default') return false;
  return srv.password === undefined ? true : pass === srv.password;
}

def('auth', -2, 'fast', [0, 0, 0], (c, a, srv) => {
  if (a.length > 3) err(E_SYNTAX);
  if (a.length === 2 && srv.password === undefined) {
    err('ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?');
  }
  const user = a.length === 3 ? a[1].toString() : 'default';
  const pass = a[a.length - 1].toString();
  if (!checkAuth(srv, user, pass)) err('WRONGPASS invalid username-password pair or user is disabled.');
  c.authed = true;
  c.out.ok();
});

function writeModules(c: ClientState): void {
  c.out.arr(1);
  c.out.map(4);
  c.out.bulkStr('name');
  c.out.bulkStr('timeseries');
  c.out.bulkStr('ver');
  c.out.int(TS_MODULE_VERSION);
  c.out.bulkStr('path');
  c.out.bulkStr('hxredis-engine');
  c.out.bulkStr('args');
  c.out.arr(0);
}

def('hello', -1, 'fast', [0, 0, 0], (c, a, srv) => {
  let ver = c.resp as number;
  if (a.length >= 2) {
    ver = parseInt64(a[1], 'ERR Protocol version is not an integer or out of range');
    if (ver < 2 || ver > 3) err('NOPROTO unsupported protocol version');
  }
  let name: string | null = null;
  for (let i = 2; i < a.length; i++) {
    const o = lower(a[i]);
    if (o === 'auth' && i + 2 < a.length) {
      if (!checkAuth(srv, a[i + 1].toString(), a[i + 2].toString())) {
        err('WRONGPASS invalid username-password pair or user is disabled.');
      }
      c.authed = true;
      i += 2;
    } else if (o === 'setname' && i + 1 < a.length) {
      name = a[++i].toString();
      validateName(name);
    } else err(`ERR Syntax error in HELLO option '${a[i].toString()}'`);
  }
  if (!c.authed) err('NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time');
  if (name !== null) c.name = name || null;
  c.resp = ver as 2 | 3;
  c.out.resp = c.resp;
  c.out.map(7);
  c.out.bulkStr('server');
  c.out.bulkStr('redis');
  c.out.bulkStr('version');
  c.out.bulkStr(REDIS_VERSION);
  c.out.bulkStr('proto');
  c.out.int(ver);
  c.out.bulkStr('id');
  c.out.int(c.id);
  c.out.bulkStr('mode');
  c.out.bulkStr('standalone');
  c.out.bulkStr('role');
  c.out.bulkStr('master');
  c.out.bulkStr('modules');
  writeModules(c);
});

def('reset', 1, 'fast', [0, 0, 0], (c, _a, srv) => {
  c.multi = null;
  c.multiDirty = false;
  srv.unwatchAll(c);
  for (const ch of [...c.subs]) srv.unsubscribe(c, ch, false);
  for (const ch of [...c.psubs]) srv.unsubscribe(c, ch, true);
  c.db = 0;
  c.name = null;
  c.resp = 2;
  c.out.resp = 2;
  c.authed = !srv.password;
  c.out.simple('RESET');
});

// --- transactions -----------------------------------------------------------

def('multi', 1, 'fast', [0, 0, 0], (c) => {
  if (c.multi) err('ERR MULTI calls can not be nested');
  c.multi = [];
  c.multiDirty = false;
  c.out.ok();
});

def('discard', 1, 'fast', [0, 0, 0], (c, _a, srv) => {
  if (!c.multi) err('ERR DISCARD without MULTI');
  c.multi = null;
  c.multiDirty = false;
  srv.unwatchAll(c);
  c.out.ok();
});

def('exec', 1, 'fast', [0, 0, 0], (c, _a, srv) => {
  const q = c.multi;
  if (!q) err('ERR EXEC without MULTI');
  c.multi = null;
  if (c.multiDirty) {
    c.multiDirty = false;
    srv.unwatchAll(c);
    err('EXECABORT Transaction discarded because of previous errors.');
  }
  const aborted = c.casDirty;
  srv.unwatchAll(c);
  if (aborted) return c.out.nilArray();
  srv.execQueued(c, q);
});

def('watch', -2, 'fast', [1, -1, 1], (c, a, srv) => {
  if (c.multi) err('ERR WATCH inside MULTI is not allowed');
  for (let i = 1; i < a.length; i++) srv.watch(c, c.db, a[i]);
  c.out.ok();
});

def('unwatch', 1, 'fast', [0, 0, 0], (c, _a, srv) => {
  srv.unwatchAll(c);
  c.out.ok();
});

// --- pub/sub ------------------------------------------------------------------

function subReply(c: ClientState, kind: string, ch: Buffer | null): void {
  c.out.push(3);
  c.out.bulkStr(kind);
  c.out.bulk(ch);
  c.out.int(c.subs.size + c.psubs.size);
}

def('subscribe', -2, 'pubsub', [0, 0, 0], (c, a, srv) => {
  for (let i = 1; i < a.length; i++) {
    srv.subscribe(c, a[i].toString('latin1'), false);
    subReply(c, 'subscribe', a[i]);
  }
});
def('psubscribe', -2, 'pubsub', [0, 0, 0], (c, a, srv) => {
  for (let i = 1; i < a.length; i++) {
    srv.subscribe(c, a[i].toString('latin1'), true);
    subReply(c, 'psubscribe', a[i]);
  }
});

function unsub(c: ClientState, a: Buffer[], srv: ServerApi, pattern: boolean): void {
  const kind = pattern ? 'punsubscribe' : 'unsubscribe';
  const own = pattern ? c.psubs : c.subs;
  if (a.length === 1) {
    if (own.size === 0) return subReply(c, kind, null);
    for (const ch of [...own]) {
      srv.unsubscribe(c, ch, pattern);
      subReply(c, kind, Buffer.from(ch, 'latin1'));
    }
    return;
  }
  for (let i = 1; i < a.length; i++) {
    srv.unsubscribe(c, a[i].toString('latin1'), pattern);
    subReply(c, kind, a[i]);
  }
}
def('unsubscribe', -1, 'pubsub', [0, 0, 0], (c, a, srv) => unsub(c, a, srv, false));
def('punsubscribe', -1, 'pubsub', [0, 0, 0], (c, a, srv) => unsub(c, a, srv, true));

def('publish', 3, 'pubsub fast', [0, 0, 0], (c, a, srv) => c.out.int(srv.publish(a[1], a[2])));

def('pubsub|channels', -2, 'pubsub', [0, 0, 0], (c, a, srv) => {
  const pat = a.length > 2 ? a[2].toString('latin1') : null;
  const chans = new Set<string>();
  for (const cl of srv.clients.values()) for (const ch of cl.subs) if (!pat || globMatch(pat, ch)) chans.add(ch);
  c.out.bulkArray([...chans].map((s) => Buffer.from(s, 'latin1')));
});
def('pubsub|numsub', -2, 'pubsub', [0, 0, 0], (c, a, srv) => {
  c.out.map(a.length - 2);
  for (let i = 2; i < a.length; i++) {
    c.out.bulk(a[i]);
    c.out.int(srv.numSubscribers(a[i].toString('latin1')));
  }
});
def('pubsub|numpat', 2, 'pubsub', [0, 0, 0], (c, _a, srv) => c.out.int(srv.numPatterns()));

// --- CLIENT -------------------------------------------------------------------

function validateName(n: string): void {
  for (let i = 0; i < n.length; i++) {
    const ch = n.charCodeAt(i);
    if (ch < 33 || ch > 126) err('ERR Client names cannot contain spaces, newlines or special characters.');
  }
}

def('client|id', 2, 'fast', [0, 0, 0], (c) => c.out.int(c.id));
def('client|setname', 3, 'fast', [0, 0, 0], (c, a) => {
  const n = a[2].toString();
  validateName(n);
  c.name = n || null;
  c.out.ok();
});
def('client|getname', 2, 'fast', [0, 0, 0], (c) => c.out.bulk(c.name));
def('client|setinfo', 4, 'fast', [0, 0, 0], (c, a) => {
  const o = lower(a[2]);
  const v = a[3].toString();
  if (o === 'lib-name') c.libName = v;
  else if (o === 'lib-ver') c.libVer = v;
  else err(`ERR Unrecognized option '${a[2].toString()}'`);
  c.out.ok();
});

function clientLine(cl: ClientState): string {
  const age = Math.floor((Date.now() - cl.createdAt) / 1000);
  const flags = cl.multi ? 'x' : cl.subs.size || cl.psubs.size ? 'P' : cl.blocked ? 'b' : 'N';
  return (
    `id=${cl.id} addr=${cl.addr} laddr=${cl.laddr} fd=0 name=${cl.name ?? ''} age=${age} idle=0 flags=${flags} ` +
    `db=${cl.db} sub=${cl.subs.size} psub=${cl.psubs.size} ssub=0 multi=${cl.multi ? cl.multi.length : -1} qbuf=0 ` +
    `qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd=${cl.lastCmd} ` +
    `user=default redir=-1 resp=${cl.resp} lib-name=${cl.libName} lib-ver=${cl.libVer}\n`
  );
}

def('client|list', -2, 'admin', [0, 0, 0], (c, a, srv) => {
  let ids: Set<number> | null = null;
  if (a.length > 2) {
    if (lower(a[2]) !== 'id' || a.length < 4) err(E_SYNTAX);
    ids = new Set(a.slice(3).map((b) => parseInt64(b)));
  }
  let s = '';
  for (const cl of srv.clients.values()) if (!ids || ids.has(cl.id)) s += clientLine(cl);
  c.out.verbatim(s);
});
def('client|info', 2, 'fast', [0, 0, 0], (c) => c.out.verbatim(clientLine(c)));

def('client|kill', -3, 'admin', [0, 0, 0], (c, a, srv) => {
  if (a.length === 3) {
    // old form: CLIENT KILL addr
    const addr = a[2].toString();
    const target = [...srv.clients.values()].find((cl) => cl.addr === addr);
    if (!target) err('ERR No such client');
    killLater(srv, c, target);
    return c.out.ok();
  }
  if ((a.length - 2) % 2 !== 0) err(E_SYNTAX);
  let id: number | null = null;
  let addr: string | null = null;
  let laddr: string | null = null;
  let skipme = true;
  for (let i = 2; i < a.length; i += 2) {
    const o = lower(a[i]);
    const v = a[i + 1].toString();
    if (o === 'id') {
      id = parseInt64(v, 'ERR client-id should be greater than 0');
      if (id <= 0) err('ERR client-id should be greater than 0');
    } else if (o === 'addr') addr = v;
    else if (o === 'laddr') laddr = v;
    else if (o === 'skipme') {
      if (v.toLowerCase() === 'yes') skipme = true;
      else if (v.toLowerCase() === 'no') skipme = false;
      else err(E_SYNTAX);
    } else if (o === 'type' || o === 'user' || o === 'maxage') {
      continue;
    } else err(E_SYNTAX);
  }
  let n = 0;
  for (const cl of [...srv.clients.values()]) {
    if (id !== null && cl.id !== id) continue;
    if (addr !== null && cl.addr !== addr) continue;
    if (laddr !== null && cl.laddr !== laddr) continue;
    if (cl === c && skipme) continue;
    killLater(srv, c, cl);
    n++;
  }
  c.out.int(n);
});

/** Kills a client; killing yourself waits for this reply to go out first. */
function killLater(srv: ServerApi, self: ClientState, target: ClientState): void {
  if (target === self) self.closeAfterFlush = true;
  else srv.killClient(target);
}

for (const sub of ['no-evict', 'no-touch', 'reply', 'tracking', 'unpause', 'pause']) {
  def(`client|${sub}`, -2, 'fast', [0, 0, 0], (c) => c.out.ok());
}

// --- server ---------------------------------------------------------------------

function infoText(c: ClientState, srv: ServerApi, sections: string[]): string {
  const all = sections.length === 0 || sections.includes('all') || sections.includes('everything') || sections.includes('default');
  const want = (s: string) => all || sections.includes(s);
  const mem = process.memoryUsage();
  const parts: string[] = [];
  if (want('server')) {
    parts.push(
      [
        '# Server',
        `redis_version:${REDIS_VERSION}`,
        'redis_git_sha1:00000000',
        'redis_mode:standalone',
        'hxredis_engine:1',
        `os:${process.platform}`,
        'arch_bits:64',
        `process_id:${process.pid}`,
        `tcp_port:${srv.port}`,
        `uptime_in_seconds:${Math.floor((Date.now() - srv.startedAt) / 1000)}`,
        'executable:hxredis-engine',
      ].join('\r\n'),
    );
  }
  if (want('clients')) parts.push(['# Clients', `connected_clients:${srv.clients.size}`, 'blocked_clients:0'].join('\r\n'));
  if (want('memory')) {
    parts.push(
      ['# Memory', `used_memory:${mem.heapUsed}`, `used_memory_human:${(mem.heapUsed / 1048576).toFixed(2)}M`, `used_memory_rss:${mem.rss}`, 'maxmemory:0', 'maxmemory_policy:noeviction'].join('\r\n'),
    );
  }
  if (want('persistence')) parts.push(['# Persistence', 'loading:0', 'rdb_changes_since_last_save:0', 'aof_enabled:0'].join('\r\n'));
  if (want('replication')) parts.push(['# Replication', 'role:master', 'connected_slaves:0'].join('\r\n'));
  if (all || sections.includes('modules')) {
    parts.push(['# Modules', `module:name=timeseries,ver=${TS_MODULE_VERSION},api=1,filters=0,usedby=[],using=[],options=[]`].join('\r\n'));
  }
  if (want('keyspace')) {
    const lines = ['# Keyspace'];
    const now = Date.now();
    srv.store.dbs.forEach((d, i) => {
      let keys = 0;
      let expires = 0;
      for (const m of d.values()) {
        if (m.exp !== 0 && m.exp <= now) continue;
        keys++;
        if (m.exp) expires++;
      }
      if (keys) lines.push(`db${i}:keys=${keys},expires=${expires},avg_ttl=0`);
    });
    parts.push(lines.join('\r\n'));
  }
  void c;
  return parts.join('\r\n\r\n') + '\r\n';
}

def('info', -1, 'loading stale', [0, 0, 0], (c, a, srv) => {
  c.out.verbatim(infoText(c, srv, a.slice(1).map((b) => lower(b))));
});

def('time', 1, 'fast', [0, 0, 0], (c) => {
  const t = Date.now();
  const us = Math.floor(performance.timeOrigin * 1000 + performance.now() * 1000) % 1_000_000;
  c.out.arr(2);
  c.out.bulkStr(String(Math.floor(t / 1000)));
  c.out.bulkStr(String(us));
});

def('lastsave', 1, 'fast', [0, 0, 0], (c) => c.out.int(Math.floor(Date.now() / 1000)));
def('save', 1, 'admin', [0, 0, 0], (c, _a, srv) => {
  srv.store.db.pragma('wal_checkpoint(PASSIVE)');
  c.out.ok();
});
def('bgsave', -1, 'admin', [0, 0, 0], (c) => c.out.simple('Background saving started'));
def('wait', 3, '', [0, 0, 0], (c) => c.out.int(0));
def('readonly', 1, 'fast', [0, 0, 0], (c) => c.out.ok());
def('readwrite', 1, 'fast', [0, 0, 0], (c) => c.out.ok());

def('module|list', 2, 'admin', [0, 0, 0], (c) => writeModules(c));

const CONFIG: Record<string, string> = {
  databases: String(NUM_DBS),
  maxmemory: '0',
  'maxmemory-policy': 'noeviction',
  save: '',
  appendonly: 'no',
  'proto-max-bulk-len': String(512 * 1024 * 1024),
  timeout: '0',
  'notify-keyspace-events': '',
  'stream-node-max-entries': '100',
  'stream-node-max-bytes': '4096',
};

def('config|get', -3, 'admin', [0, 0, 0], (c, a) => {
  const found = new Map<string, string>();
  for (let i = 2; i < a.length; i++) {
    const p = a[i].toString().toLowerCase();
    for (const [k, v] of Object.entries(CONFIG)) if (globMatch(p, k)) found.set(k, v);
  }
  c.out.map(found.size);
  for (const [k, v] of found) {
    c.out.bulkStr(k);
    c.out.bulk(v);
  }
});
def('config|set', -4, 'admin', [0, 0, 0], (c) => c.out.ok());
def('config|resetstat', 2, 'admin', [0, 0, 0], (c) => c.out.ok());

// --- COMMAND ----------------------------------------------------------------------

function writeCommandInfo(c: ClientState, spec: CommandSpec): void {
  c.out.arr(10);
  c.out.bulkStr(spec.name);
  c.out.int(spec.arity);
  c.out.set(spec.flags.length);
  for (const f of spec.flags) c.out.simple(f);
  c.out.int(spec.firstKey);
  c.out.int(spec.lastKey);
  c.out.int(spec.step);
  c.out.set(0);
  c.out.arr(0);
  c.out.arr(0);
  const subs = spec.subs ? [...spec.subs.values()] : [];
  c.out.arr(subs.length);
  for (const s of subs) writeCommandInfo(c, s);
}

def('command|count', 2, 'loading stale', [0, 0, 0], (c) => c.out.int(COMMANDS.size));
def('command|list', -2, 'loading stale', [0, 0, 0], (c) => c.out.bulkArray([...COMMANDS.keys()].map((k) => Buffer.from(k))));
def('command|info', -2, 'loading stale', [0, 0, 0], (c, a) => {
  const names = a.length > 2 ? a.slice(2).map((b) => lower(b)) : [...COMMANDS.keys()];
  c.out.arr(names.length);
  for (const n of names) {
    const spec = COMMANDS.get(n);
    if (spec) writeCommandInfo(c, spec);
    else c.out.nilArray();
  }
});
def('command|docs', -2, 'loading stale', [0, 0, 0], (c, a) => {
  const names = a.length > 2 ? a.slice(2).map((b) => lower(b)).filter((n) => COMMANDS.has(n)) : [...COMMANDS.keys()];
  c.out.map(names.length);
  for (const n of names) {
    c.out.bulkStr(n);
    c.out.map(1);
    c.out.bulkStr('summary');
    c.out.bulkStr('');
  }
});
def('command|getkeys', -3, 'loading stale', [0, 0, 0], (c, a) => {
  const spec = COMMANDS.get(lower(a[2]));
  if (!spec) err('ERR Invalid command specified');
  const argv = a.slice(2);
  const keys: Buffer[] = [];
  if (spec.firstKey > 0) {
    const last = spec.lastKey < 0 ? argv.length + spec.lastKey : spec.lastKey;
    for (let i = spec.firstKey; i <= last && i < argv.length; i += spec.step || 1) keys.push(argv[i]);
  }
  if (!keys.length) err('ERR The command has no key arguments');
  c.out.bulkArray(keys);
});

/** COMMAND with no subcommand: all command infos. Registered by hand since it takes no subcommand. */
const commandSpec = COMMANDS.get('command') as CommandSpec;
commandSpec.handler = (c) => {
  c.out.arr(COMMANDS.size);
  for (const spec of COMMANDS.values()) writeCommandInfo(c, spec);
};
commandSpec.arity = -1;

void TYPE_NAMES;
