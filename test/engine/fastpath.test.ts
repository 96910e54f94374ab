// The request fast paths: plain SET/GET/ZADD run from the read buffer's offsets (no argument
// Buffers), and must answer exactly as the general handlers do, in every client state.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine, type EngineHandle } from '../../src/engine/index.js';

let eng: EngineHandle;
let engPw: EngineHandle;
beforeAll(async () => {
  eng = await startEngine({});
  engPw = await startEngine({ password: 'pw' });
});
afterAll(async () => {
  await eng.stop();
  await engPw.stop();
});

function enc(...args: Array<string | Buffer>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a) : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** Sends the requests (one write, optionally split into small chunks) and reads until `expect` bytes arrived. */
async function talk(url: string, reqs: Buffer[], want: number, chunk = 0): Promise<string> {
  const u = new URL(url);
  const s: Socket = await new Promise((res, rej) => {
    const x = connect(Number(u.port), u.hostname, () => res(x));
    x.once('error', rej);
  });
  let got = Buffer.alloc(0);
  const done = new Promise<void>((res) => {
    s.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= want) res();
    });
    s.on('close', () => res());
  });
  const all = Buffer.concat(reqs);
  if (chunk > 0) {
    for (let i = 0; i < all.length; i += chunk) {
      s.write(all.subarray(i, i + chunk));
      await new Promise((r) => setTimeout(r, 1));
    }
  } else s.write(all);
  await done;
  s.destroy();
  return got.toString('latin1');
}

describe('SET/GET/ZADD fast paths', () => {
  it('answer like the handlers, any name case, binary data, errors in order', async () => {
    const bin = Buffer.from([0, 13, 10, 255, 36, 42]);
    const reqs = [
      enc('sEt', 'fp:a', 'v1'),
      enc('GeT', 'fp:a'),
      enc('get', 'fp:none'),
      enc('SET', bin, bin),
      enc('GET', bin),
      enc('zAdD', 'fp:z', '1.5', 'm'),
      enc('ZADD', 'fp:z', '-inf', 'n'),
      enc('ZADD', 'fp:z', '2', 'm'), // existing member, new score
      enc('ZADD', 'fp:z', '2', 'm'), // unchanged
      enc('ZADD', 'fp:z', 'x1', 'm'), // not a float (generic path)
      enc('ZADD', 'fp:z', '1x', 'm'), // not a float (fast path)
      enc('ZSCORE', 'fp:z', 'm'),
      enc('ZCARD', 'fp:z'),
      enc('GET', 'fp:z'), // WRONGTYPE
      enc('ZADD', 'fp:a', '1', 'm'), // WRONGTYPE
      enc('SET', 'fp:z', 'now-a-string'), // replaces the sorted set
      enc('GET', 'fp:z'),
      enc('ZCARD', 'fp:z'),
      enc('SET', 'fp:big', 'x'.repeat(5000)),
      enc('STRLEN', 'fp:big'),
      enc('SET', 'fp:a', ''),
      enc('GET', 'fp:a'),
      enc('GET'), // arity errors keep the generic texts
      enc('SET', 'fp:a'),
    ];
    const want =
      '+OK\r\n$2\r\nv1\r\n$-1\r\n+OK\r\n$6\r\n' +
      bin.toString('latin1') +
      '\r\n:1\r\n:1\r\n:0\r\n:0\r\n-ERR value is not a valid float\r\n-ERR value is not a valid float\r\n' +
      '$1\r\n2\r\n:2\r\n' +
      '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n' +
      '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n' +
      '+OK\r\n$12\r\nnow-a-string\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n' +
      '+OK\r\n:5000\r\n+OK\r\n$0\r\n\r\n' +
      "-ERR wrong number of arguments for 'get' command\r\n-ERR wrong number of arguments for 'set' command\r\n";
    expect(await talk(eng.url, reqs, want.length)).toBe(want);
    // the same bytes split into 7-byte chunks: commands cut anywhere
    const again = await talk(eng.url, [enc('FLUSHALL'), ...reqs], want.length + 5, 7);
    expect(again).toBe(`+OK\r\n${want}`);
  });

  it('respect MULTI, NOAUTH and the RESP2 subscribed context', async () => {
    const multi = [enc('MULTI'), enc('SET', 'fp:m', '1'), enc('GET', 'fp:m'), enc('ZADD', 'fp:mz', '1', 'a'), enc('EXEC')];
    const wantMulti = '+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n+OK\r\n$1\r\n1\r\n:1\r\n';
    expect(await talk(eng.url, multi, wantMulti.length)).toBe(wantMulti);

    const noauth = '-NOAUTH Authentication required.\r\n';
    const wantAuth = `${noauth}${noauth}${noauth}+OK\r\n+OK\r\n$1\r\n1\r\n`;
    const auth = [enc('SET', 'k', '1'), enc('GET', 'k'), enc('ZADD', 'z', '1', 'a'), enc('AUTH', 'pw'), enc('SET', 'k', '1'), enc('GET', 'k')];
    expect(await talk(engPw.url, auth, wantAuth.length)).toBe(wantAuth);

    const sub = [enc('SUBSCRIBE', 'ch'), enc('GET', 'k'), enc('SET', 'k', '1'), enc('ZADD', 'z', '1', 'a')];
    const ctx = (c: string) =>
      `-ERR Can't execute '${c}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n`;
    const wantSub = `*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n${ctx('get')}${ctx('set')}${ctx('zadd')}`;
    expect(await talk(eng.url, sub, wantSub.length)).toBe(wantSub);
  });

  it('invalidate WATCH', async () => {
    const u = new URL(eng.url);
    const a: Socket = await new Promise((res) => {
      const x = connect(Number(u.port), u.hostname, () => res(x));
    });
    const read = (n: number) =>
      new Promise<string>((res) => {
        let got = '';
        const on = (d: Buffer) => {
          got += d.toString('latin1');
          if (got.length >= n) {
            a.off('data', on);
            res(got);
          }
        };
        a.on('data', on);
      });
    for (const other of [enc('ZADD', 'fp:wz', '1', 'a'), enc('SET', 'fp:w', 'x')]) {
      let r = read(10);
      a.write(Buffer.concat([enc('WATCH', 'fp:w', 'fp:wz'), enc('MULTI')]));
      expect(await r).toBe('+OK\r\n+OK\r\n');
      await talk(eng.url, [other], 4);
      r = read(14);
      a.write(Buffer.concat([enc('GET', 'fp:w'), enc('EXEC')]));
      expect(await r).toBe('+QUEUED\r\n*-1\r\n');
    }
    a.destroy();
  });
});
