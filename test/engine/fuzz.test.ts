// Parser fuzz: random and truncated RESP from several connections for a bounded time. The
// engine must keep serving, reply to malformed input with a protocol error and close that
// connection, and leave the stored data untouched.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine, type EngineHandle } from '../../src/engine/index.js';
import { RawClient, encodeCommand, prng } from './helpers.js';

const FUZZ_MS = Number(process.env.ENGINE_FUZZ_MS ?? 3000);
let engine: EngineHandle;
beforeAll(async () => {
  engine = await startEngine({});
});
afterAll(async () => {
  await engine.stop();
});

/** Sends bytes on a fresh connection; resolves with what came back once closed or idle. */
function blast(port: number, chunks: Buffer[]): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      s.destroy();
      resolve(got);
    };
    s.on('data', (d) => (got += d.toString('latin1')));
    s.on('close', finish);
    s.on('error', finish);
    s.on('connect', () => {
      for (const c of chunks) s.write(c);
      setTimeout(finish, 40);
    });
  });
}

function mutate(r: ReturnType<typeof prng>): Buffer[] {
  const valid = encodeCommand(r.pick([['SET', 'fz', 'v'], ['GET', 'fz'], ['HSET', 'fh', 'a', '1'], ['PING'], ['XADD', 'fs', '*', 'a', 'b']]));
  switch (r.int(6)) {
    case 0: {
      const b = Buffer.alloc(1 + r.int(200));
      for (let i = 0; i < b.length; i++) b[i] = r.int(256);
      return [b];
    }
    case 1:
      return [valid.subarray(0, r.int(valid.length))];
    case 2: {
      const b = Buffer.from(valid);
      b[r.int(b.length)] = r.int(256);
      return [b];
    }
    case 3:
      return [Buffer.from(r.pick(['*-5\r\n', '*99999999999\r\n', '*1\r\n$-3\r\n', '*2\r\n:1\r\n', '*1\r\n$3\r\nabcde\r\n', '$5\r\nhello\r\n', '*1\r\n$9999999999\r\n', '"unbalanced\r\n']))];
    case 4: {
      // valid bytes split at random points
      const cut = r.int(valid.length);
      return [valid.subarray(0, cut), valid.subarray(cut)];
    }
    default:
      return [Buffer.concat([valid, Buffer.from('*1\r\n$x\r\n')])];
  }
}

describe('parser fuzz', () => {
  it('survives random and truncated RESP, and keeps stored data intact', async () => {
    const good = await RawClient.connect(engine.port);
    const setup: string[][] = [['FLUSHALL']];
    for (let i = 0; i < 200; i++) setup.push(['SET', `keep:${i}`, `v${i}`], ['ZADD', 'keepz', String(i), `m${i}`]);
    await good.pipeline(setup);
    const r = prng(42);
    const end = Date.now() + FUZZ_MS;
    let rounds = 0;
    while (Date.now() < end) {
      const batch = Array.from({ length: 8 }, () => blast(engine.port, mutate(r)));
      const outs = await Promise.all(batch);
      for (const o of outs) {
        // any error the engine writes is a well-formed error line
        for (const m of o.matchAll(/-ERR Protocol error[^\r\n]*/g)) expect(m[0]).toMatch(/^-ERR Protocol error: /);
      }
      expect(await good.call('PING')).toEqual({ t: '+', v: 'PONG' });
      rounds++;
    }
    expect(rounds).toBeGreaterThan(5);
    const checks = await good.pipeline([
      ...Array.from({ length: 200 }, (_, i) => ['GET', `keep:${i}`]),
      ['ZCARD', 'keepz'],
      ['ZRANGE', 'keepz', '0', '2'],
    ]);
    for (let i = 0; i < 200; i++) expect(checks[i]).toEqual({ t: '$', v: `v${i}` });
    expect(checks[200]).toEqual({ t: ':', v: '200' });
    expect(checks[201]).toEqual({ t: '*', v: [{ t: '$', v: 'm0' }, { t: '$', v: 'm1' }, { t: '$', v: 'm2' }] });
    good.close();
  });

  it('malformed input gets a protocol error and the connection closes', async () => {
    const out = await blast(engine.port, [Buffer.from('*1\r\n$3\r\nGET\r\n*2\r\n:1\r\n')]);
    expect(out).toBe("-ERR wrong number of arguments for 'get' command\r\n-ERR Protocol error: expected '$', got ':'\r\n");
    const c = await RawClient.connect(engine.port);
    c.writeRaw('*1\r\n$-3\r\n');
    await new Promise((r) => setTimeout(r, 50));
    expect(c.closed).toBe(true);
    expect(c.pushes).toEqual([{ t: '-', v: 'ERR Protocol error: invalid bulk length' }]);
  });
});
