// RESP wire format: an incremental request parser and a reply writer that encodes
// straight into one growable Buffer, so a whole pipeline goes out in one socket.write.

export class ProtocolError extends Error {}

const CR = 13;
const LF = 10;
const MAX_MULTIBULK = 1024 * 1024;
const MAX_BULK = 512 * 1024 * 1024;
const MAX_INLINE = 64 * 1024;

/**
 * Parses client requests (multibulk arrays of bulk strings, or inline commands).
 * feed() appends bytes; next() returns one command, null when more bytes are needed,
 * and throws ProtocolError on malformed input (the caller replies and closes).
 */
export class RequestParser {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;

  feed(chunk: Buffer): void {
    if (this.pos >= this.buf.length) {
      this.buf = chunk;
    } else {
      this.buf = Buffer.concat([this.buf.subarray(this.pos), chunk]);
    }
    this.pos = 0;
  }

  get pending(): number {
    return this.buf.length - this.pos;
  }

  private findCRLF(from: number): number {
    const b = this.buf;
    let i = b.indexOf(CR, from);
    while (i !== -1) {
      if (i + 1 >= b.length) return -1;
      if (b[i + 1] === LF) return i;
      i = b.indexOf(CR, i + 1);
    }
    return -1;
  }

  /** Reads a decimal integer between start and end; NaN when not a plain integer. */
  private readInt(start: number, end: number): number {
    const b = this.buf;
    if (start >= end) return NaN;
    let neg = false;
    let i = start;
    if (b[i] === 45) {
      neg = true;
      i++;
      if (i >= end) return NaN;
    }
    let n = 0;
    for (; i < end; i++) {
      const c = b[i] - 48;
      if (c < 0 || c > 9) return NaN;
      n = n * 10 + c;
      if (n > Number.MAX_SAFE_INTEGER) return NaN;
    }
    return neg ? -n : n;
  }

  /** Start offsets (in buf) and lengths of the arguments of the command scan() found. */
  argOff = new Int32Array(16);
  argLen = new Int32Array(16);

  /** The buffer the offsets of the last scan() refer to. */
  get data(): Buffer {
    return this.buf;
  }

  next(): Buffer[] | null {
    const n = this.scan();
    if (n === 0) return null;
    if (n < 0) return this.nextInline();
    return this.args(n);
  }

  /** The last scan()'s n arguments as Buffers (views of the read buffer, no copies). */
  args(n: number): Buffer[] {
    const b = this.buf;
    const off = this.argOff;
    const len = this.argLen;
    const out: Buffer[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = b.subarray(off[i], off[i] + len[i]);
    return out;
  }

  /**
   * Finds the next multibulk command and records its arguments' offsets (argOff/argLen);
   * returns the argument count, 0 when no complete command is buffered, -1 when the next
   * request is inline (read it with next()). Throws ProtocolError on malformed input.
   */
  scan(): number {
    for (;;) {
      const n = this.scanOne();
      if (n !== -2) return n;
    }
  }

  /**
   * A command cut off mid-arguments (it spans socket reads) is not scanned again from its start:
   * the argument count, how many arguments were read and where the next one starts (relative to
   * the command's start, which feed() may move) are kept here. Large pipelined commands (a
   * 1,000-sample TS.MADD is 40-120 KB) span several reads.
   */
  private rCount = 0;
  private rI = 0;
  private rP = 0;
  private rStart = 0;

  private suspend(count: number, i: number, p: number, start: number): 0 {
    this.rCount = count;
    this.rI = i;
    this.rP = p - start;
    this.rStart = start;
    return 0;
  }

  /** scan() for one request; -2 for an empty multibulk (`*0`, `*-1`: skipped). */
  private scanOne(): number {
    const b = this.buf;
    let p = this.pos;
    if (p >= b.length) return 0;
    const blen = b.length;
    const cmdStart = p;
    let count = 0;
    let q = p + 1;
    let d = 0;
    let i = 0;
    if (this.rCount > 0) {
      count = this.rCount;
      i = this.rI;
      const shift = cmdStart - this.rStart;
      if (shift !== 0) for (let k = 0; k < i; k++) this.argOff[k] += shift;
      p = cmdStart + this.rP;
      this.rCount = 0;
    } else {
      if (b[p] !== 42 /* '*' */) return -1;
      // fast path: up to 9 digits then CRLF, scanned in place (no indexOf call, no second pass)
      while (q < blen && q - p <= 9 && (d = b[q] - 48) >= 0 && d <= 9) {
        count = count * 10 + d;
        q++;
      }
      if (q > p + 1 && q + 1 < blen && b[q] === CR && b[q + 1] === LF) {
        p = q + 2;
        if (count > MAX_MULTIBULK) throw new ProtocolError('Protocol error: invalid multibulk length');
      } else {
        const eol = this.findCRLF(p + 1);
        if (eol === -1) {
          if (blen - p > MAX_INLINE) throw new ProtocolError('Protocol error: too big mbulk count string');
          return 0;
        }
        count = this.readInt(p + 1, eol);
        if (Number.isNaN(count) || count > MAX_MULTIBULK) throw new ProtocolError('Protocol error: invalid multibulk length');
        p = eol + 2;
      }
      if (count <= 0) {
        this.pos = p;
        return -2;
      }
      if (count > this.argOff.length) {
        let size = this.argOff.length * 2;
        while (size < count) size *= 2;
        this.argOff = new Int32Array(size);
        this.argLen = new Int32Array(size);
      }
    }
    const off = this.argOff;
    const lens = this.argLen;
    for (; i < count; i++) {
      if (p >= blen) return this.suspend(count, i, p, cmdStart);
      if (b[p] !== 36 /* '$' */) {
        throw new ProtocolError(`Protocol error: expected '$', got '${String.fromCharCode(b[p])}'`);
      }
      let len = 0;
      q = p + 1;
      while (q < blen && q - p <= 9 && (d = b[q] - 48) >= 0 && d <= 9) {
        len = len * 10 + d;
        q++;
      }
      let start: number;
      if (q > p + 1 && q + 1 < blen && b[q] === CR && b[q + 1] === LF) {
        start = q + 2;
      } else {
        const e = this.findCRLF(p + 1);
        if (e === -1) {
          if (blen - p > MAX_INLINE) throw new ProtocolError('Protocol error: too big bulk count string');
          return this.suspend(count, i, p, cmdStart);
        }
        len = this.readInt(p + 1, e);
        start = e + 2;
      }
      if (Number.isNaN(len) || len < 0 || len > MAX_BULK) throw new ProtocolError('Protocol error: invalid bulk length');
      if (start + len + 2 > blen) return this.suspend(count, i, p, cmdStart);
      if (b[start + len] !== CR || b[start + len + 1] !== LF) {
        // Redis trusts the length and skips two bytes; a mismatch means a confused client.
        throw new ProtocolError('Protocol error: invalid bulk length');
      }
      off[i] = start;
      lens[i] = len;
      p = start + len + 2;
    }
    this.pos = p;
    return count;
  }

  private nextInline(): Buffer[] | null {
    const b = this.buf;
    const nl = b.indexOf(LF, this.pos);
    if (nl === -1) {
      if (b.length - this.pos > MAX_INLINE) throw new ProtocolError('Protocol error: too big inline request');
      return null;
    }
    let end = nl;
    if (end > this.pos && b[end - 1] === CR) end--;
    const line = b.subarray(this.pos, end).toString('latin1');
    this.pos = nl + 1;
    const args = splitInline(line);
    if (args === null) throw new ProtocolError('Protocol error: unbalanced quotes in request');
    if (args.length === 0) return this.next();
    return args.map((s) => Buffer.from(s, 'latin1'));
  }
}

/** sdssplitargs-like splitting of an inline command line (quotes and simple escapes). */
function splitInline(line: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    while (i < n && /\s/.test(line[i])) i++;
    if (i >= n) break;
    let cur = '';
    if (line[i] === '"' || line[i] === "'") {
      const q = line[i++];
      let closed = false;
      while (i < n) {
        const ch = line[i];
        if (q === '"' && ch === '\\' && i + 1 < n) {
          const nx = line[i + 1];
          if (nx === 'x' && i + 3 < n && /^[0-9a-fA-F]{2}$/.test(line.slice(i + 2, i + 4))) {
            cur += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
            i += 4;
            continue;
          }
          cur += nx === 'n' ? '\n' : nx === 'r' ? '\r' : nx === 't' ? '\t' : nx === 'b' ? '\b' : nx === 'a' ? '\x07' : nx;
          i += 2;
          continue;
        }
        if (q === "'" && ch === '\\' && line[i + 1] === "'") {
          cur += "'";
          i += 2;
          continue;
        }
        if (ch === q) {
          closed = true;
          i++;
          break;
        }
        cur += ch;
        i++;
      }
      if (!closed) return null;
      if (i < n && !/\s/.test(line[i])) return null;
    } else {
      while (i < n && !/\s/.test(line[i])) cur += line[i++];
    }
    out.push(cur);
  }
  return out;
}

/** Formats a double the way C's printf("%.17g") does (Redis 7.0 score replies). */
export function fmtG17(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const expStr = x.toExponential(16);
  const ePos = expStr.indexOf('e');
  const exp = parseInt(expStr.slice(ePos + 1), 10);
  if (exp < -4 || exp >= 17) {
    let mant = expStr.slice(0, ePos);
    if (mant.includes('.')) mant = mant.replace(/0+$/, '').replace(/\.$/, '');
    const ae = Math.abs(exp);
    return `${mant}e${exp < 0 ? '-' : '+'}${ae < 10 ? '0' : ''}${ae}`;
  }
  let s = x.toFixed(Math.max(0, 16 - exp));
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return s;
}

/** Shortest round-trip form, with C-style exponents (TimeSeries values). */
export function fmtShortest(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  const s = String(x);
  const e = s.indexOf('e');
  if (e === -1) return s;
  const sign = s[e + 1];
  const digits = s.slice(e + 2);
  return `${s.slice(0, e)}e${sign}${digits.length < 2 ? '0' : ''}${digits}`;
}

/** Encodes replies for one client in its protocol (2 or 3). */
export class ReplyWriter {
  buf: Buffer = Buffer.allocUnsafe(16 * 1024);
  len = 0;
  constructor(public resp: 2 | 3) {}

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const nb = Buffer.allocUnsafe(size);
    this.buf.copy(nb, 0, 0, this.len);
    this.buf = nb;
  }

  raw(s: string): void {
    this.ensure(s.length);
    this.len += this.buf.write(s, this.len, 'latin1');
  }

  rawBuf(b: Buffer): void {
    this.ensure(b.length);
    b.copy(this.buf, this.len);
    this.len += b.length;
  }

  /** Takes the encoded bytes and resets the writer. */
  take(): Buffer | null {
    if (this.len === 0) return null;
    const out = Buffer.from(this.buf.subarray(0, this.len));
    this.len = 0;
    if (this.buf.length > 1024 * 1024) this.buf = Buffer.allocUnsafe(16 * 1024);
    return out;
  }

  /** Writes a non-negative safe integer's decimal digits at len (ensure()d by the caller). */
  private digits(n: number): void {
    const b = this.buf;
    if (n < 10) {
      b[this.len++] = 48 + n;
      return;
    }
    let w = 1;
    for (let t = n; t >= 10; t = Math.floor(t / 10)) w++;
    let i = this.len + w;
    this.len = i;
    while (n >= 10) {
      const q = Math.floor(n / 10);
      b[--i] = 48 + (n - q * 10);
      n = q;
    }
    b[--i] = 48 + n;
  }

  ok(): void {
    this.ensure(5);
    const b = this.buf;
    const l = this.len;
    b[l] = 43; // +OK\r\n
    b[l + 1] = 79;
    b[l + 2] = 75;
    b[l + 3] = CR;
    b[l + 4] = LF;
    this.len = l + 5;
  }
  simple(s: string): void {
    this.raw(`+${s}\r\n`);
  }
  error(s: string): void {
    this.raw(`-${s.replace(/[\r\n]+/g, ' ')}\r\n`);
  }
  int(n: number | bigint): void {
    if (typeof n === 'number' && n >= 0 && n <= Number.MAX_SAFE_INTEGER && Number.isInteger(n)) {
      this.ensure(20);
      this.buf[this.len++] = 58; // ':'
      this.digits(n);
      this.buf[this.len++] = CR;
      this.buf[this.len++] = LF;
      return;
    }
    this.raw(`:${n}\r\n`);
  }
  bulk(b: Buffer | string | null | undefined): void {
    if (b === null || b === undefined) return this.nil();
    if (typeof b === 'string') b = Buffer.from(b);
    const n = b.length;
    this.ensure(n + 16);
    const out = this.buf;
    out[this.len++] = 36; // '$'
    this.digits(n);
    let l = this.len;
    out[l++] = CR;
    out[l++] = LF;
    if (n <= 64) {
      for (let i = 0; i < n; i++) out[l + i] = b[i];
    } else out.set(b, l);
    l += n;
    out[l++] = CR;
    out[l++] = LF;
    this.len = l;
  }
  /** A bulk string whose content is ASCII. */
  bulkStr(s: string): void {
    this.raw(`$${s.length}\r\n${s}\r\n`);
  }
  nil(): void {
    this.ensure(5);
    const b = this.buf;
    let l = this.len;
    if (this.resp === 3) b[l++] = 95; // _\r\n
    else {
      b[l++] = 36; // $-1\r\n
      b[l++] = 45;
      b[l++] = 49;
    }
    b[l++] = CR;
    b[l++] = LF;
    this.len = l;
  }
  nilArray(): void {
    this.raw(this.resp === 3 ? '_\r\n' : '*-1\r\n');
  }
  arr(n: number): void {
    this.raw(`*${n}\r\n`);
  }
  map(n: number): void {
    this.raw(this.resp === 3 ? `%${n}\r\n` : `*${n * 2}\r\n`);
  }
  set(n: number): void {
    this.raw(this.resp === 3 ? `~${n}\r\n` : `*${n}\r\n`);
  }
  push(n: number): void {
    this.raw(this.resp === 3 ? `>${n}\r\n` : `*${n}\r\n`);
  }
  /** A score, formatted as Redis 7.0 does (%.17g). */
  double(d: number): void {
    if (this.resp === 3) this.raw(`,${fmtG17(d)}\r\n`);
    else this.bulkStr(fmtG17(d));
  }
  /** A TimeSeries value: shortest form, bulk string in RESP2. */
  tsDouble(d: number): void {
    if (this.resp === 3) this.raw(`,${Number.isNaN(d) ? 'nan' : fmtShortest(d)}\r\n`);
    else this.bulkStr(fmtShortest(d));
  }
  verbatim(s: string): void {
    if (this.resp === 3) {
      const b = Buffer.from(s);
      this.raw(`=${b.length + 4}\r\ntxt:`);
      this.rawBuf(b);
      this.raw('\r\n');
    } else this.bulk(s);
  }
  bulkArray(items: Buffer[]): void {
    this.arr(items.length);
    for (const it of items) this.bulk(it);
  }
}
