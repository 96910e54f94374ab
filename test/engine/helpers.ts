// Test helpers: a raw RESP client that keeps reply types (RESP2 and RESP3), and a seeded PRNG.
import { connect, type Socket } from 'node:net';

/** A reply with its wire type: '+', '-', ':', '$', '*', '%', '~', '>', ',', '_', '#', '=', '(' */
export type Reply =
  | { t: '+' | '-' | ':' | ',' | '#' | '(' | '$' | '='; v: string }
  | { t: '_' }
  | { t: '$' | '*'; v: null }
  | { t: '*' | '~' | '>'; v: Reply[] }
  | { t: '%'; v: Array<[Reply, Reply]> };

class ReplyReader {
  buf: Buffer = Buffer.alloc(0);
  pos = 0;
  feed(b: Buffer) {
    this.buf = this.pos < this.buf.length ? Buffer.concat([this.buf.subarray(this.pos), b]) : b;
    this.pos = 0;
  }
  /** Parses one reply or returns undefined when incomplete. */
  next(): Reply | undefined {
    const save = this.pos;
    const r = this.read();
    if (r === undefined) this.pos = save;
    return r;
  }
  private line(): string | undefined {
    const i = this.buf.indexOf('\r\n', this.pos);
    if (i < 0) return undefined;
    const s = this.buf.subarray(this.pos, i).toString('latin1');
    this.pos = i + 2;
    return s;
  }
  private read(): Reply | undefined {
    if (this.pos >= this.buf.length) return undefined;
    const t = String.fromCharCode(this.buf[this.pos++]);
    const l = this.line();
    if (l === undefined) return undefined;
    switch (t) {
      case '+':
      case '-':
      case ':':
      case ',':
      case '#':
      case '(':
        return { t, v: l };
      case '_':
        return { t: '_' };
      case '$':
      case '=':
      case '!': {
        const n = Number(l);
        if (n < 0) return { t: '$', v: null };
        if (this.pos + n + 2 > this.buf.length) return undefined;
        const v = this.buf.subarray(this.pos, this.pos + n).toString('latin1');
        this.pos += n + 2;
        return { t: t === '!' ? '-' : (t as '$' | '='), v };
      }
      case '*':
      case '~':
      case '>': {
        const n = Number(l);
        if (n < 0) return { t: '*', v: null };
        const items: Reply[] = [];
        for (let i = 0; i < n; i++) {
          const r = this.read();
          if (r === undefined) return undefined;
          items.push(r);
        }
        return { t: t as '*' | '~' | '>', v: items };
      }
      case '%':
      case '|': {
        const n = Number(l);
        const items: Array<[Reply, Reply]> = [];
        for (let i = 0; i < n; i++) {
          const k = this.read();
          if (k === undefined) return undefined;
          const v = this.read();
          if (v === undefined) return undefined;
          items.push([k, v]);
        }
        if (t === '|') return this.read();
        return { t: '%', v: items };
      }
      default:
        throw new Error(`bad reply type ${JSON.stringify(t)} in ${JSON.stringify(this.buf.toString('latin1').slice(0, 200))}`);
    }
  }
}

export function encodeCommand(args: Array<string | Buffer | number>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a));
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

export class RawClient {
  private reader = new ReplyReader();
  private waiting: Array<(r: Reply) => void> = [];
  readonly pushes: Reply[] = [];
  closed = false;
  private constructor(readonly sock: Socket) {
    sock.on('data', (d) => {
      this.reader.feed(d);
      for (;;) {
        const r = this.reader.next();
        if (!r) break;
        // out-of-band data (RESP3 pushes, or RESP2 messages nobody waits for) is kept aside
        if (this.waiting.length === 0 || (r.t === '>' && isPubsubMessage(r))) this.pushes.push(r);
        else this.waiting.shift()?.(r);
      }
    });
    sock.on('close', () => {
      this.closed = true;
    });
    sock.on('error', () => {});
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect(port, host, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  /** Sends commands pipelined and resolves with their replies in order. */
  pipeline(cmds: Array<Array<string | Buffer | number>>): Promise<Reply[]> {
    const ps = cmds.map(() => new Promise<Reply>((r) => this.waiting.push(r)));
    this.sock.write(Buffer.concat(cmds.map(encodeCommand)));
    return Promise.all(ps);
  }

  async call(...args: Array<string | Buffer | number>): Promise<Reply> {
    return (await this.pipeline([args]))[0];
  }

  /** Resolves with the next reply without sending anything. */
  nextReply(): Promise<Reply> {
    const ready = this.pushes.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((r) => this.waiting.push(r));
  }

  writeRaw(b: Buffer | string): void {
    this.sock.write(b);
  }

  close(): void {
    this.sock.destroy();
  }
}

function isPubsubMessage(r: Reply): boolean {
  if (r.t !== '>') return false;
  const first = r.v[0];
  return first && 'v' in first && (first.v === 'message' || first.v === 'pmessage');
}

export { prng } from '../harness/prng.js';

/** Plain-text rendering of a reply, for messages. */
export function show(r: Reply): string {
  return JSON.stringify(r);
}

export function str(r: Reply): string | null {
  return 'v' in r && typeof r.v === 'string' ? r.v : null;
}
