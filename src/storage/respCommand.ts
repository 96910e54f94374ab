// Commands whose RESP bytes are written by hand into one Buffer and handed to ioredis.
//
// Why: for each argument ioredis flattens the array, stringifies, measures (Buffer.byteLength)
// and concatenates a string that is UTF-8 encoded again when written. For a history ZADD (two
// arguments per sample) that was ~0.9 µs of the ~1.4 µs a sample cost on the client; written
// straight into a Buffer it is ~0.1 µs (docs/history.md, "Third session"). Only history's bulk
// commands go this way. ioredis still owns everything else: the connection, reply parsing,
// pipelines and MULTI/EXEC, offline queueing, and cluster slot routing (the command carries its
// key as its only parsed argument).
//
// No String#charCodeAt loops here: ioredis and node-redis both declare `class VerbatimString
// extends String`, and from then on V8 (Node 20) no longer inlines charCodeAt in the process: a
// char costs ~5 ns instead of ~1 (measured: 0.032 -> 0.144 µs per 18-char text). Text goes in
// through Buffer#write, and the member tails the caller repeats come as cached bytes.
import { Command } from 'ioredis';

const HEAD = 24; // room in front for "*<argc>\r\n", written when the argument count is known
const CR = 13;
const LF = 10;
const DOLLAR = 36;
const EMPTY = new Uint8Array(0);

/** Digits of a non-negative safe integer. */
function digitCount(n: number): number {
  if (n >= 1e12 && n < 1e13) return 13; // an epoch ms from 2001 to 2286
  if (n < 10) return 1;
  if (n < 100) return 2;
  let d = 3;
  for (let p = 1000; p <= n; p *= 10) d++;
  return d;
}

/** Builds one command's RESP array of bulk strings. */
export class RespBuilder {
  private buf: Buffer;
  private pos = HEAD;
  private argc = 0;

  constructor(sizeHint = 4096) {
    this.buf = Buffer.allocUnsafe(HEAD + sizeHint);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Writes `$<len>\r\n` (len < 2^31). */
  private header(len: number): void {
    const buf = this.buf;
    buf[this.pos++] = DOLLAR;
    this.pos = writeUint(buf, this.pos, len, digitCount(len));
    buf[this.pos++] = CR;
    buf[this.pos++] = LF;
  }

  private end(): void {
    this.buf[this.pos++] = CR;
    this.buf[this.pos++] = LF;
    this.argc++;
  }

  /** A string argument (UTF-8). */
  str(s: string): this {
    const len = Buffer.byteLength(s);
    this.ensure(len + 16);
    this.header(len);
    this.pos += this.buf.write(s, this.pos, len, 'utf8');
    this.end();
    return this;
  }

  /** An integer argument, as its decimal text. */
  int(n: number): this {
    return this.intWith(n, EMPTY);
  }

  /**
   * One argument made of an integer's decimal text followed by the bytes `tail`: a sorted-set
   * member `<ms>|n:<value>` without building its string (the caller caches the tails).
   */
  intWith(n: number, tail: Uint8Array): this {
    if (!Number.isSafeInteger(n)) {
      const text = String(n);
      return this.intWithText(text, tail);
    }
    const neg = n < 0;
    const abs = neg ? -n : n;
    const digits = digitCount(abs);
    const tl = tail.length;
    const len = (neg ? 1 : 0) + digits + tl;
    this.ensure(len + 16);
    this.header(len);
    const buf = this.buf;
    let p = this.pos;
    if (neg) buf[p++] = 45; // '-'
    p = writeUint(buf, p, abs, digits);
    // a byte loop: short tails, and a typed-array copy call costs more than it saves
    for (let i = 0; i < tl; i++) buf[p++] = tail[i] as number;
    this.pos = p;
    this.end();
    return this;
  }

  private intWithText(text: string, tail: Uint8Array): this {
    const tl = tail.length;
    const len = text.length + tl;
    this.ensure(len + 16);
    this.header(len);
    this.pos += this.buf.write(text, this.pos, 'latin1');
    this.buf.set(tail, this.pos);
    this.pos += tl;
    this.end();
    return this;
  }

  /**
   * Two arguments: an integer and the same integer followed by `tail`, e.g. a sorted-set score and
   * its member `<ms>|n:21.3`. The digits are computed once and copied.
   */
  intPair(n: number, tail: Uint8Array): this {
    if (!Number.isSafeInteger(n) || n < 0) return this.int(n).intWith(n, tail);
    const digits = digitCount(n);
    const tl = tail.length;
    this.ensure(2 * digits + tl + 32);
    this.header(digits);
    const buf = this.buf;
    const at = this.pos;
    let p = writeUint(buf, at, n, digits);
    buf[p++] = CR;
    buf[p++] = LF;
    this.pos = p;
    this.argc++;
    this.header(digits + tl);
    p = this.pos;
    for (let i = 0; i < digits; i++) buf[p++] = buf[at + i] as number;
    for (let i = 0; i < tl; i++) buf[p++] = tail[i] as number;
    this.pos = p;
    this.end();
    return this;
  }

  /** Number of arguments written so far (the command name counts). */
  get count(): number {
    return this.argc;
  }

  /** The finished command: `*<argc>\r\n` and the arguments. The builder is spent. */
  done(): Buffer {
    const head = `*${this.argc}\r\n`;
    const start = HEAD - head.length;
    this.buf.write(head, start, 'latin1');
    return this.buf.subarray(start, this.pos);
  }
}

/** "00".."99" as byte pairs: two digits per step halves the division chain. */
const PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  PAIRS[2 * i] = 48 + Math.floor(i / 10);
  PAIRS[2 * i + 1] = 48 + (i % 10);
}

/**
 * Writes the `digits` decimal digits of a non-negative safe integer at `pos`; returns the new
 * pos. Split at 1e8 so the digit loop runs on int32 values (an epoch ms is 13 digits).
 */
function writeUint(buf: Buffer, pos: number, n: number, digits: number): number {
  let p = pos + digits;
  const end = p;
  const hi = Math.floor(n / 1e8);
  let lo = n - hi * 1e8;
  if (hi > 0) {
    for (let k = 0; k < 4; k++) {
      const q = (lo / 100) | 0;
      const r = (lo - q * 100) << 1;
      buf[--p] = PAIRS[r + 1] as number;
      buf[--p] = PAIRS[r] as number;
      lo = q;
    }
    lo = hi; // < 2^31 for n < 2^53
  }
  while (lo >= 100) {
    const q = (lo / 100) | 0;
    const r = (lo - q * 100) << 1;
    buf[--p] = PAIRS[r + 1] as number;
    buf[--p] = PAIRS[r] as number;
    lo = q;
  }
  if (lo >= 10) {
    buf[--p] = PAIRS[(lo << 1) + 1] as number;
    buf[--p] = PAIRS[lo << 1] as number;
  } else buf[--p] = 48 + lo;
  return end;
}

/**
 * An ioredis command whose bytes were built by RespBuilder. `keys` are its key arguments (for
 * ioredis's cluster slot check and key extraction); the bytes must hold the same keys.
 */
export class PreEncodedCommand extends Command {
  private readonly bytes: Buffer;

  constructor(name: string, keys: string[], bytes: Buffer) {
    super(name, keys);
    this.bytes = bytes;
  }

  override toWritable(): Buffer {
    return this.bytes;
  }
}
