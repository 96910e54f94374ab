// Real clients and concurrency: ioredis (RESP2/RESP3) and node-redis 5 connect and work,
// many clients write at once, WATCH is invalidated by other connections, XREAD BLOCK wakes
// on XADD, pub/sub delivers in both protocols, CLIENT KILL drops a connection mid-flight.
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine, type EngineHandle } from '../../src/engine/index.js';
import { RawClient } from './helpers.js';

let engine: EngineHandle;
beforeAll(async () => {
  engine = await startEngine({});
});
afterAll(async () => {
  await engine.stop();
});

describe('clients', () => {
  it('ioredis RESP2 and RESP3 connect, run commands and transactions', async () => {
    for (const protocol of [2, 3] as const) {
      const r = new Redis(engine.url, { protocol, connectionName: 'hx-test', lazyConnect: true });
      await r.connect();
      await r.flushall();
      await r.set('a', '1');
      expect(await r.get('a')).toBe('1');
      await r.hset('h', { x: '1', y: '2' });
      expect(await r.hgetall('h')).toEqual({ x: '1', y: '2' });
      await r.zadd('z', 1, 'a', 2, 'b');
      expect(await r.zrangebyscore('z', '-inf', '+inf', 'WITHSCORES')).toEqual(
        protocol === 2 ? ['a', '1', 'b', '2'] : expect.anything(),
      );
      const res = await r.multi().incr('n').incr('n').get('n').exec();
      expect(res?.map(([e, v]) => [e, v])).toEqual([
        [null, 1],
        [null, 2],
        [null, '2'],
      ]);
      expect(await r.client('GETNAME')).toBe('hx-test');
      const mods = (await r.call('MODULE', 'LIST')) as unknown;
      expect(JSON.stringify(mods)).toContain('timeseries');
      r.disconnect();
    }
  });

  it('node-redis 5 connects (RESP2 and RESP3) with password, SELECT and pub/sub', async () => {
    const eng = await startEngine({ password: 'sekret' });
    try {
      for (const RESP of [2, 3] as const) {
        const url = `redis://default:sekret@127.0.0.1:${eng.port}/2`;
        const c = createClient({ url, RESP });
        await c.connect();
        await c.set('k', 'v');
        expect(await c.get('k')).toBe('v');
        expect(await c.sendCommand(['CLIENT', 'GETNAME'])).toBe(null);
        const sub = c.duplicate();
        await sub.connect();
        const got: string[] = [];
        await sub.subscribe('chan', (m) => {
          got.push(m);
        });
        await sub.pSubscribe('ch*', (m, ch) => {
          got.push(`p:${ch}:${m}`);
        });
        expect(await c.publish('chan', 'hello')).toBe(2);
        await new Promise((r) => setTimeout(r, 50));
        expect(got.sort()).toEqual(['hello', 'p:chan:hello']);
        await sub.quit();
        await c.quit();
      }
      const bad = await RawClient.connect(eng.port);
      expect(await bad.call('GET', 'k')).toEqual({ t: '-', v: 'NOAUTH Authentication required.' });
      expect(await bad.call('AUTH', 'nope')).toEqual({ t: '-', v: 'WRONGPASS invalid username-password pair or user is disabled.' });
      bad.close();
    } finally {
      await eng.stop();
    }
  });

  it('many clients at once keep every increment', async () => {
    const clients = await Promise.all(Array.from({ length: 40 }, () => RawClient.connect(engine.port)));
    await clients[0].call('DEL', 'ctr');
    await Promise.all(clients.map((c) => c.pipeline(Array.from({ length: 250 }, () => ['INCR', 'ctr']))));
    expect(await clients[0].call('GET', 'ctr')).toEqual({ t: '$', v: '10000' });
    for (const c of clients) c.close();
  });

  it('a write by another connection to a watched key makes EXEC return nil', async () => {
    const a = await RawClient.connect(engine.port);
    const b = await RawClient.connect(engine.port);
    await a.call('SET', 'w', '1');
    expect(await a.call('WATCH', 'w')).toEqual({ t: '+', v: 'OK' });
    await b.call('SET', 'w', '2');
    await a.pipeline([['MULTI'], ['SET', 'w', '3']]);
    expect(await a.call('EXEC')).toEqual({ t: '*', v: null });
    expect(await a.call('GET', 'w')).toEqual({ t: '$', v: '2' });
    // untouched watch: EXEC runs
    await a.call('WATCH', 'w');
    await b.call('SET', 'other', '1');
    await a.pipeline([['MULTI'], ['SET', 'w', '4']]);
    expect(await a.call('EXEC')).toEqual({ t: '*', v: [{ t: '+', v: 'OK' }] });
    // queue-time error aborts, runtime error does not roll back
    await a.pipeline([['MULTI'], ['SET', 'w', '5'], ['NOPE']]);
    expect(await a.call('EXEC')).toEqual({ t: '-', v: 'EXECABORT Transaction discarded because of previous errors.' });
    const r = await a.pipeline([['MULTI'], ['SET', 'w', 'x'], ['INCR', 'w'], ['SET', 'w2', 'y'], ['EXEC']]);
    expect(r[4]).toEqual({
      t: '*',
      v: [{ t: '+', v: 'OK' }, { t: '-', v: 'ERR value is not an integer or out of range' }, { t: '+', v: 'OK' }],
    });
    a.close();
    b.close();
  });

  it('XREAD BLOCK wakes on XADD from another client without blocking others', async () => {
    const a = await RawClient.connect(engine.port);
    const b = await RawClient.connect(engine.port);
    await a.call('DEL', 'st');
    await a.call('XADD', 'st', '1-1', 'f', 'v');
    const pending = a.call('XREAD', 'BLOCK', '5000', 'STREAMS', 'st', '$');
    // the engine still serves others while a is blocked
    expect(await b.call('PING')).toEqual({ t: '+', v: 'PONG' });
    await b.call('XADD', 'st', '2-1', 'g', 'w');
    expect(await pending).toEqual({
      t: '*',
      v: [{ t: '*', v: [{ t: '$', v: 'st' }, { t: '*', v: [{ t: '*', v: [{ t: '$', v: '2-1' }, { t: '*', v: [{ t: '$', v: 'g' }, { t: '$', v: 'w' }] }] }] }] }],
    });
    // timeout gives nil; the pipelined command behind it then runs
    const [r1, r2] = await a.pipeline([['XREAD', 'BLOCK', '100', 'STREAMS', 'st', '$'], ['PING']]);
    expect(r1).toEqual({ t: '*', v: null });
    expect(r2).toEqual({ t: '+', v: 'PONG' });
    // ioredis blocking read
    const io = new Redis(engine.url);
    const p = io.xread('BLOCK', 2000, 'STREAMS', 'st', '$');
    await new Promise((r) => setTimeout(r, 30));
    await b.call('XADD', 'st', '3-1', 'h', 'x');
    expect(await p).toEqual([['st', [['3-1', ['h', 'x']]]]]);
    io.disconnect();
    a.close();
    b.close();
  });

  it('RESP2 pub/sub mode and RESP3 push messages', async () => {
    const s2 = await RawClient.connect(engine.port);
    const s3 = await RawClient.connect(engine.port);
    const pub = await RawClient.connect(engine.port);
    await s3.call('HELLO', '3');
    expect(await s2.call('SUBSCRIBE', 'news')).toEqual({ t: '*', v: [{ t: '$', v: 'subscribe' }, { t: '$', v: 'news' }, { t: ':', v: '1' }] });
    expect(await s2.call('GET', 'x')).toEqual({
      t: '-',
      v: "ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
    });
    expect(await s3.call('SUBSCRIBE', 'news')).toEqual({ t: '>', v: [{ t: '$', v: 'subscribe' }, { t: '$', v: 'news' }, { t: ':', v: '1' }] });
    expect(await pub.call('PUBLISH', 'news', 'hi')).toEqual({ t: ':', v: '2' });
    const msg2 = await s2.nextReply();
    expect(msg2).toEqual({ t: '*', v: [{ t: '$', v: 'message' }, { t: '$', v: 'news' }, { t: '$', v: 'hi' }] });
    await new Promise((r) => setTimeout(r, 20));
    expect(s3.pushes).toEqual([{ t: '>', v: [{ t: '$', v: 'message' }, { t: '$', v: 'news' }, { t: '$', v: 'hi' }] }]);
    expect(await s3.call('GET', 'nothing')).toEqual({ t: '_' });
    s2.close();
    s3.close();
    pub.close();
  });

  it('CLIENT KILL ID and ADDR drop the connection', async () => {
    const victim = await RawClient.connect(engine.port);
    const admin = await RawClient.connect(engine.port);
    const id = (await victim.call('CLIENT', 'ID')) as { v: string };
    const pending = victim.call('XREAD', 'BLOCK', '0', 'STREAMS', 'never', '$');
    void pending;
    expect(await admin.call('CLIENT', 'KILL', 'ID', id.v)).toEqual({ t: ':', v: '1' });
    await new Promise((r) => setTimeout(r, 30));
    expect(victim.closed).toBe(true);
    const v2 = await RawClient.connect(engine.port);
    const list = (await admin.call('CLIENT', 'LIST')) as { v: string };
    const addr = `127.0.0.1:${v2.sock.localPort}`;
    expect(list.v).toContain(`addr=${addr}`);
    expect(await admin.call('CLIENT', 'KILL', addr)).toEqual({ t: '+', v: 'OK' });
    await new Promise((r) => setTimeout(r, 30));
    expect(v2.closed).toBe(true);
    expect(await admin.call('PING')).toEqual({ t: '+', v: 'PONG' });
    admin.close();
  });

  it('SELECT keeps databases apart; INFO and COMMAND answer', async () => {
    const c = await RawClient.connect(engine.port);
    await c.pipeline([['FLUSHALL'], ['SET', 'k', '0'], ['SELECT', '5'], ['SET', 'k', '5']]);
    expect(await c.call('GET', 'k')).toEqual({ t: '$', v: '5' });
    expect(await c.call('DBSIZE')).toEqual({ t: ':', v: '1' });
    await c.call('SELECT', '0');
    expect(await c.call('GET', 'k')).toEqual({ t: '$', v: '0' });
    const info = (await c.call('INFO')) as { v: string };
    expect(info.v).toMatch(/redis_version:7\.0\.15/);
    expect(info.v).toMatch(/used_memory:\d+/);
    expect(info.v).toMatch(/db5:keys=1/);
    const cnt = (await c.call('COMMAND', 'COUNT')) as { v: string };
    expect(Number(cnt.v)).toBeGreaterThan(100);
    const ci = (await c.call('COMMAND', 'INFO', 'get')) as { v: Array<{ v: unknown[] }> };
    expect(ci.v[0].v[0]).toEqual({ t: '$', v: 'get' });
    c.close();
  });
});
