// Shared pieces of the command layer: errors, the command table, argument parsing,
// and the client/server surface the handlers see.
import type { Socket } from 'node:net';
import type { ReplyWriter } from './resp.js';
import type { KeyMeta, Store } from './store.js';

/** A Redis error reply; message is the full text including the code (ERR, WRONGTYPE, ...). */
export class RedisError extends Error {}

export const E_SYNTAX = 'ERR syntax error';
export const E_NOTINT = 'ERR value is not an integer or out of range';
export const E_NOTFLOAT = 'ERR value is not a valid float';
export const E_WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';

export function err(msg: string): never {
  throw new RedisError(msg);
}

export interface BlockState {
  keys: string[];
  timer?: NodeJS.Timeout;
  /** re-tries the read; true when it produced a reply */
  retry: () => boolean;
  onTimeout: () => void;
}

export interface ClientState {
  id: number;
  sock: Socket;
  out: ReplyWriter;
  resp: 2 | 3;
  db: number;
  name: string | null;
  libName: string;
  libVer: string;
  authed: boolean;
  multi: Buffer[][] | null;
  multiDirty: boolean;
  inExec: boolean;
  watched: Set<string>;
  casDirty: boolean;
  subs: Set<string>;
  psubs: Set<string>;
  blocked: BlockState | null;
  closeAfterFlush: boolean;
  closed: boolean;
  createdAt: number;
  lastCmd: string;
  addr: string;
  laddr: string;
}

export interface ServerApi {
  store: Store;
  password: string | undefined;
  clients: Map<number, ClientState>;
  startedAt: number;
  port: number;
  /** marks a key modified: WATCH invalidation */
  touch(db: number, key: Buffer | string): void;
  touchDb(db: number | null): void;
  /** wakes clients blocked on this key */
  signalReady(db: number, key: Buffer): void;
  publish(channel: Buffer, message: Buffer): number;
  subscribe(c: ClientState, ch: string, pattern: boolean): void;
  unsubscribe(c: ClientState, ch: string, pattern: boolean): boolean;
  block(c: ClientState, b: BlockState, timeoutMs: number): void;
  killClient(c: ClientState): void;
  dirty(c: ClientState): void;
  numSubscribers(ch: string): number;
  numPatterns(): number;
  watch(c: ClientState, db: number, key: Buffer): void;
  unwatchAll(c: ClientState): void;
  execQueued(c: ClientState, queued: Buffer[][]): void;
}

export type Handler = (c: ClientState, argv: Buffer[], srv: ServerApi) => void;

export interface CommandSpec {
  name: string;
  /** container name for subcommands ("client" for "client|kill") */
  base: string;
  arity: number;
  flags: string[];
  firstKey: number;
  lastKey: number;
  step: number;
  handler?: Handler;
  subs?: Map<string, CommandSpec>;
}

export const COMMANDS = new Map<string, CommandSpec>();

/** Registers a command. keys = [first, last, step] as in COMMAND INFO. */
export function def(
  name: string,
  arity: number,
  flags: string,
  keys: [number, number, number],
  handler: Handler,
): void {
  const [parent, sub] = name.split('|');
  const spec: CommandSpec = {
    name,
    base: parent,
    arity,
    flags: flags ? flags.split(' ') : [],
    firstKey: keys[0],
    lastKey: keys[1],
    step: keys[2],
    handler,
  };
  if (sub) {
    let p = COMMANDS.get(parent);
    if (!p) {
      p = { name: parent, base: parent, arity: -2, flags: [], firstKey: 0, lastKey: 0, step: 0, subs: new Map() };
      COMMANDS.set(parent, p);
    }
    p.subs?.set(sub, spec);
  } else COMMANDS.set(name, spec);
}

const INT_RE = /^-?(0|[1-9][0-9]*)$/;
const I64_MAX = 9223372036854775807n;
const I64_MIN = -9223372036854775808n;

/** Redis string2ll: a canonical 64-bit integer, as a BigInt. */
export function parseBig(b: Buffer | string, msg = E_NOTINT): bigint {
  const s = typeof b === 'string' ? b : b.toString('latin1');
  if (s.length === 0 || s.length > 20 || !INT_RE.test(s) || s === '-0') err(msg);
  const v = BigInt(s);
  if (v > I64_MAX || v < I64_MIN) err(msg);
  return v;
}

/** A 64-bit integer argument as a JS number (exact within 2^53; clamped beyond). */
export function parseInt64(b: Buffer | string, msg = E_NOTINT): number {
  const s = typeof b === 'string' ? b : b.toString('latin1');
  if (s.length < 16 && INT_RE.test(s) && s !== '-0') return Number(s);
  return Number(parseBig(s, msg));
}

const FLOAT_RE = /^[+-]?(([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|inf|infinity)$/i;

/** Redis strtod-based float parsing (scores): inf allowed, nan rejected. */
export function parseFloatArg(b: Buffer | string, msg = E_NOTFLOAT): number {
  if (typeof b !== 'string' && b.length > 0 && b.length <= 15) {
    // fast path: plain decimal digits (optionally negative), no string or regex
    let i = b[0] === 45 ? 1 : 0;
    let v = 0;
    if (i < b.length) {
      for (; i < b.length; i++) {
        const d = b[i] - 48;
        if (d < 0 || d > 9) break;
        v = v * 10 + d;
      }
      if (i === b.length) return b[0] === 45 ? -v : v;
    }
  }
  const s = typeof b === 'string' ? b : b.toString('latin1');
  if (!FLOAT_RE.test(s)) err(msg);
  const low = s.toLowerCase();
  if (low.endsWith('inf') || low.endsWith('infinity')) return s[0] === '-' ? -Infinity : Infinity;
  const v = Number(s);
  if (Number.isNaN(v)) err(msg);
  return v;
}

/**
 * The cursor and options of HSCAN/SSCAN/ZSCAN (`key cursor [MATCH p] [COUNT n]`), with Redis's
 * errors. The engine answers in one page, so only the MATCH pattern matters to the caller.
 */
export function parseMemberScan(a: Buffer[]): { pat: string | null } {
  if (!/^[0-9]+$/.test(a[2].toString('latin1'))) err('ERR invalid cursor');
  let pat: string | null = null;
  for (let i = 3; i < a.length; i++) {
    const o = lower(a[i]);
    if (o === 'match' && i + 1 < a.length) pat = a[++i].toString('latin1');
    else if (o === 'count' && i + 1 < a.length) {
      if (parseInt64(a[++i]) < 1) err(E_SYNTAX);
    } else err(E_SYNTAX);
  }
  return { pat };
}

export function lower(b: Buffer): string {
  return b.toString('latin1').toLowerCase();
}

/** Looks up a key and checks its type (WRONGTYPE otherwise). */
export function getTyped(srv: ServerApi, c: ClientState, key: Buffer, type: number): KeyMeta | undefined {
  const m = srv.store.lookup(c.db, key);
  if (m && m.type !== type) err(E_WRONGTYPE);
  return m;
}

/** Redis stringmatchlen: glob-style matching over bytes (latin1 strings). */
export function globMatch(p: string, s: string, nocase = false): boolean {
  return matchAt(p, 0, s, 0, nocase, 0);
}

function matchAt(p: string, pi: number, s: string, si: number, nocase: boolean, depth: number): boolean {
  if (depth > 1000) return false;
  while (pi < p.length) {
    const pc = p[pi];
    if (pc === '*') {
      while (p[pi + 1] === '*') pi++;
      if (pi + 1 === p.length) return true;
      for (let k = si; k <= s.length; k++) if (matchAt(p, pi + 1, s, k, nocase, depth + 1)) return true;
      return false;
    }
    if (si >= s.length) return false;
    if (pc === '?') {
      si++;
      pi++;
      continue;
    }
    if (pc === '[') {
      pi++;
      const not = p[pi] === '^';
      if (not) pi++;
      let match = false;
      for (;;) {
        if (pi >= p.length) {
          pi--;
          break;
        }
        if (p[pi] === '\\' && pi + 2 < p.length) {
          pi++;
          if (p[pi] === s[si]) match = true;
        } else if (p[pi] === ']') {
          break;
        } else if (p[pi + 1] === '-' && pi + 2 < p.length) {
          let a = p.charCodeAt(pi);
          let b = p.charCodeAt(pi + 2);
          let ch = s.charCodeAt(si);
          if (a > b) [a, b] = [b, a];
          if (nocase) {
            a = String.fromCharCode(a).toLowerCase().charCodeAt(0);
            b = String.fromCharCode(b).toLowerCase().charCodeAt(0);
            ch = String.fromCharCode(ch).toLowerCase().charCodeAt(0);
          }
          pi += 2;
          if (ch >= a && ch <= b) match = true;
        } else if (nocase ? p[pi].toLowerCase() === s[si].toLowerCase() : p[pi] === s[si]) {
          match = true;
        }
        pi++;
      }
      if (not) match = !match;
      if (!match) return false;
      si++;
      pi++;
      continue;
    }
    let lit = pc;
    if (pc === '\\' && pi + 1 < p.length) {
      pi++;
      lit = p[pi];
    }
    if (nocase ? lit.toLowerCase() !== s[si].toLowerCase() : lit !== s[si]) return false;
    si++;
    pi++;
  }
  return si === s.length;
}
