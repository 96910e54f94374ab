// The network side: connections, request dispatch, MULTI/WATCH, pub/sub and blocking
// reads. Every incoming read (a pipeline) runs in one SQLite transaction, committed
// before any reply of that batch leaves, so an acknowledged write is on disk.
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { RequestParser, ProtocolError, ReplyWriter } from './resp.js';
import { Store, kstr } from './store.js';
import {
  COMMANDS,
  RedisError,
  globMatch,
  type BlockState,
  type ClientState,
  type CommandSpec,
  type ServerApi,
} from './core.js';
import './commands/index.js';
import { fastGet, fastSet } from './commands/strings.js';
import { fastZadd } from './commands/zset.js';

const SET_SPEC = COMMANDS.get('set') as CommandSpec;
const GET_SPEC = COMMANDS.get('get') as CommandSpec;

/** Command name as sent (any case) -> spec, so the hot path skips toLowerCase. */
const RAW_NAMES = new Map<string, CommandSpec>();

const PUBSUB_ALLOWED = new Set(['subscribe', 'psubscribe', 'unsubscribe', 'punsubscribe', 'ssubscribe', 'sunsubscribe', 'ping', 'quit', 'reset']);
const MULTI_IMMEDIATE = new Set(['exec', 'discard', 'multi', 'watch', 'quit', 'reset']);

interface Conn extends ClientState {
  parser: RequestParser;
  protoErr: string | null;
}

export class EngineServer implements ServerApi {
  readonly store: Store;
  readonly clients = new Map<number, Conn>();
  readonly startedAt = Date.now();
  port = 0;
  private net: NetServer;
  private nextId = 1;
  private watchers = new Map<string, Set<ClientState>>();
  private channels = new Map<string, Set<ClientState>>();
  private patterns = new Map<string, Set<ClientState>>();
  private blockedOn = new Map<string, Set<Conn>>();
  private ready: string[] = [];
  private dirtySet = new Set<Conn>();
  private running = false;
  /** the last resolved top-level command's name as sent, and its spec (resolve's fast path) */
  private lastName: Buffer = Buffer.alloc(0);
  private lastSpec: CommandSpec | null = null;

  constructor(
    path: string,
    readonly password: string | undefined,
  ) {
    this.store = new Store(path);
    this.net = createServer((sock) => this.accept(sock));
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.net.once('error', reject);
      this.net.listen(port, host, () => {
        const a = this.net.address();
        this.port = typeof a === 'object' && a ? a.port : port;
        resolve(this.port);
      });
    });
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.net.close(() => resolve());
      for (const c of this.clients.values()) c.sock.destroy();
    });
    this.store.close();
  }

  private accept(sock: Socket): void {
    sock.setNoDelay(true);
    const c: Conn = {
      id: this.nextId++,
      sock,
      out: new ReplyWriter(2),
      resp: 2,
      db: 0,
      name: null,
      libName: '',
      libVer: '',
      authed: !this.password,
      multi: null,
      multiDirty: false,
      inExec: false,
      watched: new Set(),
      casDirty: false,
      subs: new Set(),
      psubs: new Set(),
      blocked: null,
      closeAfterFlush: false,
      closed: false,
      createdAt: Date.now(),
      lastCmd: 'NULL',
      addr: `${sock.remoteAddress}:${sock.remotePort}`,
      laddr: `${sock.localAddress}:${sock.localPort}`,
      parser: new RequestParser(),
      protoErr: null,
    };
    this.clients.set(c.id, c);
    sock.on('data', (chunk) => this.onData(c, chunk));
    sock.on('error', () => {});
    sock.on('close', () => this.cleanup(c));
  }

  private onData(c: Conn, chunk: Buffer): void {
    if (c.closed || c.protoErr) return;
    // commands are parsed as they run (drain), so a pipeline's argument arrays die young
    c.parser.feed(chunk);
    this.run(c);
  }

  /** Runs a client's queued commands in one transaction, then flushes every touched client. */
  private run(c: Conn): void {
    if (this.running) {
      setImmediate(() => this.run(c));
      return;
    }
    this.running = true;
    // this client's replies go out first, before those of clients its writes woke or published to
    // (as Redis does: the caller's reply is queued first)
    this.dirtySet.add(c);
    this.store.begin();
    try {
      this.drain(c);
    } finally {
      try {
        this.store.commit();
      } finally {
        this.running = false;
      }
    }
    this.flushDirty();
  }

  /** Parses and runs the client's buffered commands until none is complete or it blocks. */
  private drain(c: Conn): void {
    const parser = c.parser;
    while (!c.protoErr && !c.blocked && !c.closed && !c.closeAfterFlush) {
      let argv: Buffer[] | null;
      try {
        const n = parser.scan();
        if (n === 0) break;
        // plain SET/GET of an authenticated client outside MULTI and RESP2 pub/sub: run from the
        // read buffer's offsets, without argument Buffers
        if (n <= 4 && n >= 2 && c.authed && !c.multi && (c.resp === 3 || (!c.subs.size && !c.psubs.size)) && this.fast(c, parser, n)) {
          if (this.ready.length) this.serveReady();
          continue;
        }
        argv = n < 0 ? parser.next() : parser.args(n);
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
        c.protoErr = e.message;
        break;
      }
      if (!argv) break;
      this.execute(c, argv);
      if (this.ready.length) this.serveReady();
    }
    if (c.protoErr && !c.blocked && !c.closed && !c.closeAfterFlush) {
      c.out.error(`ERR ${c.protoErr}`);
      c.closeAfterFlush = true;
    }
    this.dirtySet.add(c);
  }

  /** Runs a just-scanned SET key value / GET key without argument Buffers; false: not one of those. */
  private fast(c: Conn, p: RequestParser, n: number): boolean {
    const b = p.data;
    const off = p.argOff;
    const len = p.argLen;
    const o = off[0];
    if (n === 4) {
      // ZADD key score member, the score not a letter (no option)
      const s0 = b[off[2]] | 0x20;
      if (len[0] !== 4 || len[2] === 0 || (s0 >= 97 && s0 <= 122)) return false;
      if ((b[o] | 0x20) !== 122 || (b[o + 1] | 0x20) !== 97 || (b[o + 2] | 0x20) !== 100 || (b[o + 3] | 0x20) !== 100) return false;
      c.lastCmd = 'zadd';
      try {
        fastZadd(this, c, b, off[1], len[1], off[2], len[2], off[3], len[3]);
      } catch (e) {
        if (e instanceof RedisError) c.out.error(e.message);
        else if (e instanceof Error && /SQLITE_FULL|SQLITE_IOERR|disk/i.test(e.message)) c.out.error(`ERR ${e.message}`);
        else throw e;
      }
      return true;
    }
    if (len[0] !== 3 || (b[o + 1] | 0x20) !== 101 /* e */ || (b[o + 2] | 0x20) !== 116 /* t */) return false;
    const c0 = b[o] | 0x20;
    const spec = n === 3 ? (c0 === 115 /* s */ ? SET_SPEC : undefined) : c0 === 103 /* g */ ? GET_SPEC : undefined;
    if (!spec) return false;
    c.lastCmd = spec.name;
    try {
      if (n === 3) fastSet(this, c, b, off[1], len[1], off[2], len[2]);
      else fastGet(this, c, b, off[1], len[1]);
    } catch (e) {
      if (e instanceof RedisError) c.out.error(e.message);
      else if (e instanceof Error && /SQLITE_FULL|SQLITE_IOERR|disk/i.test(e.message)) c.out.error(`ERR ${e.message}`);
      else throw e;
    }
    return true;
  }

  private flushDirty(): void {
    for (const c of this.dirtySet) {
      const b = c.out.take();
      if (!c.closed) {
        if (b) c.sock.write(b);
        if (c.closeAfterFlush) {
          c.closed = true;
          c.sock.end();
          this.cleanup(c);
        }
      }
    }
    this.dirtySet.clear();
  }

  dirty(c: ClientState): void {
    this.dirtySet.add(c as Conn);
  }

  private unknownCommand(argv: Buffer[]): string {
    let args = '';
    for (let i = 1; i < argv.length && args.length < 128; i++) {
      args += `'${argv[i].toString('latin1').slice(0, 128 - args.length)}' `;
    }
    return `ERR unknown command '${argv[0].toString('latin1').slice(0, 128)}', with args beginning with: ${args}`;
  }

  /** Resolves a command (and subcommand) or returns the error text. */
  private resolve(argv: Buffer[]): CommandSpec | string {
    // a pipeline usually repeats one command: compare its name's bytes with the last one's
    const a0 = argv[0];
    const last = this.lastName;
    let spec: CommandSpec | undefined;
    if (a0.length === last.length && this.lastSpec && !this.lastSpec.subs) {
      let i = 0;
      while (i < a0.length && a0[i] === last[i]) i++;
      if (i === a0.length) spec = this.lastSpec;
    }
    if (spec) {
      const n = argv.length;
      if ((spec.arity > 0 && n !== spec.arity) || n < -spec.arity) return `ERR wrong number of arguments for '${spec.name}' command`;
      return spec;
    }
    const raw = kstr(a0);
    spec = RAW_NAMES.get(raw);
    const name = spec ? spec.name : raw.toLowerCase();
    if (!spec) {
      spec = COMMANDS.get(name);
      // remember the spelling clients use (bounded: only known commands, few spellings each)
      if (spec && RAW_NAMES.size < 4096) RAW_NAMES.set(raw, spec);
    }
    if (!spec) return this.unknownCommand(argv);
    if (spec.subs && !(argv.length < 2 && spec.handler)) {
      if (argv.length < 2) return `ERR wrong number of arguments for '${name}' command`;
      const subName = argv[1].toString('latin1').toLowerCase();
      const sub = spec.subs.get(subName);
      if (!sub) {
        return `ERR unknown subcommand '${argv[1].toString('latin1').slice(0, 128)}'. Try ${name.toUpperCase()} HELP.`;
      }
      spec = sub;
    }
    const n = argv.length;
    if ((spec.arity > 0 && n !== spec.arity) || n < -spec.arity) {
      return `ERR wrong number of arguments for '${spec.name}' command`;
    }
    if (spec.base === spec.name) {
      // a top-level command (no subcommand): remember its spelling
      this.lastName = Buffer.from(a0);
      this.lastSpec = spec;
    }
    return spec;
  }

  /** Executes one command for a client, writing its reply (or queueing it inside MULTI). */
  execute(c: Conn, argv: Buffer[]): void {
    const out = c.out;
    const spec = this.resolve(argv);
    if (typeof spec === 'string') {
      if (c.multi) c.multiDirty = true;
      out.error(spec);
      return;
    }
    const base = spec.base;
    if (!c.authed && base !== 'auth' && base !== 'hello' && base !== 'quit') {
      if (c.multi) c.multiDirty = true;
      out.error('NOAUTH Authentication required.');
      return;
    }
    if (c.resp === 2 && (c.subs.size || c.psubs.size) && !PUBSUB_ALLOWED.has(base)) {
      out.error(
        `ERR Can't execute '${spec.name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`,
      );
      return;
    }
    if (c.multi && !MULTI_IMMEDIATE.has(base)) {
      c.multi.push(argv);
      out.simple('QUEUED');
      return;
    }
    this.call(c, spec, argv);
  }

  /** Runs a resolved command; errors thrown by handlers become error replies. */
  call(c: ClientState, spec: CommandSpec, argv: Buffer[]): void {
    c.lastCmd = spec.name;
    // a handler that fails after writing part of its reply (a TS.MADD array whose rows then fail to
    // reach SQLite) must leave one error reply, not a partial one the client would misread
    const mark = c.out.len;
    try {
      (spec.handler as NonNullable<CommandSpec['handler']>)(c, argv, this);
    } catch (e) {
      if (e instanceof RedisError) {
        c.out.len = mark;
        c.out.error(e.message);
      } else if (e instanceof Error && /SQLITE_FULL|SQLITE_IOERR|disk/i.test(e.message)) {
        c.out.len = mark;
        c.out.error(`ERR ${e.message}`);
      } else throw e;
    }
  }

  /** EXEC's body: runs queued commands, each replying into the EXEC array. */
  execQueued(c: ClientState, queued: Buffer[][]): void {
    c.out.arr(queued.length);
    c.inExec = true;
    try {
      for (const argv of queued) {
        const spec = this.resolve(argv);
        if (typeof spec === 'string') c.out.error(spec);
        else this.call(c, spec, argv);
      }
    } finally {
      c.inExec = false;
    }
  }

  // --- WATCH -------------------------------------------------------------

  watch(c: ClientState, db: number, key: Buffer): void {
    const k = `${db}\0${kstr(key)}`;
    if (c.watched.has(k)) return;
    c.watched.add(k);
    let s = this.watchers.get(k);
    if (!s) this.watchers.set(k, (s = new Set()));
    s.add(c);
  }

  unwatchAll(c: ClientState): void {
    for (const k of c.watched) {
      const s = this.watchers.get(k);
      if (s) {
        s.delete(c);
        if (!s.size) this.watchers.delete(k);
      }
    }
    c.watched.clear();
    c.casDirty = false;
  }

  touch(db: number, key: Buffer | string): void {
    if (this.watchers.size === 0) return;
    const s = this.watchers.get(`${db}\0${typeof key === 'string' ? key : kstr(key)}`);
    if (s) for (const c of s) c.casDirty = true;
  }

  touchDb(db: number | null): void {
    for (const [k, s] of this.watchers) {
      const sep = k.indexOf('\0');
      const d = Number(k.slice(0, sep));
      if (db !== null && d !== db) continue;
      if (this.store.dbs[d].has(k.slice(sep + 1))) for (const c of s) c.casDirty = true;
    }
  }

  // --- pub/sub -------------------------------------------------------------

  subscribe(c: ClientState, ch: string, pattern: boolean): void {
    const map = pattern ? this.patterns : this.channels;
    const own = pattern ? c.psubs : c.subs;
    if (own.has(ch)) return;
    own.add(ch);
    let s = map.get(ch);
    if (!s) map.set(ch, (s = new Set()));
    s.add(c);
  }

  unsubscribe(c: ClientState, ch: string, pattern: boolean): boolean {
    const map = pattern ? this.patterns : this.channels;
    const own = pattern ? c.psubs : c.subs;
    if (!own.delete(ch)) return false;
    const s = map.get(ch);
    if (s) {
      s.delete(c);
      if (!s.size) map.delete(ch);
    }
    return true;
  }

  numSubscribers(ch: string): number {
    return this.channels.get(ch)?.size ?? 0;
  }

  numPatterns(): number {
    return this.patterns.size;
  }

  publish(channel: Buffer, message: Buffer): number {
    const ch = kstr(channel);
    let n = 0;
    const subs = this.channels.get(ch);
    if (subs) {
      for (const c of subs) {
        c.out.push(3);
        c.out.bulkStr('message');
        c.out.bulk(channel);
        c.out.bulk(message);
        this.dirtySet.add(c as Conn);
        n++;
      }
    }
    for (const [pat, set] of this.patterns) {
      if (!globMatch(pat, ch)) continue;
      for (const c of set) {
        c.out.push(4);
        c.out.bulkStr('pmessage');
        c.out.bulk(Buffer.from(pat, 'latin1'));
        c.out.bulk(channel);
        c.out.bulk(message);
        this.dirtySet.add(c as Conn);
        n++;
      }
    }
    return n;
  }

  // --- blocking reads ------------------------------------------------------

  block(c: ClientState, b: BlockState, timeoutMs: number): void {
    const conn = c as Conn;
    conn.blocked = b;
    for (const k of b.keys) {
      let s = this.blockedOn.get(k);
      if (!s) this.blockedOn.set(k, (s = new Set()));
      s.add(conn);
    }
    if (timeoutMs > 0) {
      b.timer = setTimeout(() => {
        if (conn.blocked !== b) return;
        this.unblock(conn);
        b.onTimeout();
        this.dirtySet.add(conn);
        this.run(conn);
      }, timeoutMs);
    }
  }

  private unblock(c: Conn): void {
    const b = c.blocked;
    if (!b) return;
    if (b.timer) clearTimeout(b.timer);
    for (const k of b.keys) {
      const s = this.blockedOn.get(k);
      if (s) {
        s.delete(c);
        if (!s.size) this.blockedOn.delete(k);
      }
    }
    c.blocked = null;
  }

  signalReady(db: number, key: Buffer): void {
    const k = `${db}\0${kstr(key)}`;
    if (this.blockedOn.has(k)) this.ready.push(k);
  }

  private serveReady(): void {
    while (this.ready.length) {
      const k = this.ready.shift() as string;
      const s = this.blockedOn.get(k);
      if (!s) continue;
      for (const c of [...s]) {
        const b = c.blocked;
        if (!b) continue;
        if (b.retry()) {
          this.unblock(c);
          this.dirtySet.add(c);
          // its pipelined commands continue after the current batch
          setImmediate(() => this.run(c));
        }
      }
    }
  }

  // --- connection lifecycle ------------------------------------------------

  killClient(c: ClientState): void {
    const conn = c as Conn;
    conn.closed = true;
    conn.sock.destroy();
    this.cleanup(conn);
  }

  private cleanup(c: Conn): void {
    if (!this.clients.has(c.id)) return;
    c.closed = true;
    this.clients.delete(c.id);
    this.unblock(c);
    this.unwatchAll(c);
    for (const ch of [...c.subs]) this.unsubscribe(c, ch, false);
    for (const ch of [...c.psubs]) this.unsubscribe(c, ch, true);
  }
}
