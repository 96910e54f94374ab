// The storage fast paths: key rows held until the end of a pipeline's transaction (strings and
// metadata values), key ids assigned in memory (and continued after a reopen), SQL set algebra,
// and the row-value range queries of streams and sorted sets.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { startEngine, type EngineHandle } from '../../src/engine/index.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function open(path?: string): Promise<{ eng: EngineHandle; r: Redis; path: string }> {
  let p = path;
  if (!p) {
    const dir = mkdtempSync(join(tmpdir(), 'hxredis-storage-'));
    dirs.push(dir);
    p = join(dir, 'engine.sqlite');
  }
  const eng = await startEngine({ path: p });
  const r = new Redis(eng.url, { lazyConnect: true });
  await r.connect();
  return { eng, r, path: p };
}

async function close(x: { eng: EngineHandle; r: Redis }): Promise<void> {
  x.r.disconnect();
  await x.eng.stop();
}

async function scanAll(r: Redis, db = 0): Promise<string[]> {
  await r.select(db);
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await r.scan(cursor, 'COUNT', 7);
    cursor = next;
    out.push(...keys);
  } while (cursor !== '0');
  return out.sort();
}

describe('key rows written at commit', () => {
  it('keeps every pipelined string write, rename, move, delete and flush in order, across a reopen', async () => {
    const x = await open();
    const big = 'b'.repeat(10_000);
    const p = x.r.pipeline();
    for (let i = 0; i < 300; i++) p.set(`k${i}`, `v${i}`);
    p.set('big', big);
    p.get('big');
    p.set('k1', 'v1b'); // overwrite within the pipeline
    p.del('k2');
    p.set('k2', 'again'); // delete, then a new key of the same name
    p.rename('k3', 'k3r'); // rename a key written in this pipeline
    p.move('k4', 2);
    p.set('tmp', 'x', 'PX', 100_000);
    p.pexpire('k5', 100_000);
    p.persist('tmp');
    p.append('k6', '+');
    p.incr('n');
    p.incrby('n', 41);
    p.hset('h', 'f', 'v');
    p.xadd('s', '1-1', 'a', 'b');
    p.set('h2', 'string then hash');
    p.del('h2');
    p.hset('h2', 'f', 'v');
    const res = (await p.exec()) ?? [];
    expect(res.every(([e]) => e === null)).toBe(true);
    expect(res[301]?.[1]).toBe(big);
    // SCAN sees keys written earlier in the same pipeline
    const [, scanned] = (await x.r.pipeline().set('fresh', '1').scan('0', 'COUNT', 10_000).exec())?.[1]?.[1] as [string, string[]];
    expect(scanned).toContain('fresh');

    const check = async (r: Redis) => {
      await r.select(0);
      expect(await r.get('k0')).toBe('v0');
      expect(await r.get('k1')).toBe('v1b');
      expect(await r.get('k2')).toBe('again');
      expect(await r.exists('k3')).toBe(0);
      expect(await r.get('k3r')).toBe('v3');
      expect(await r.exists('k4')).toBe(0);
      expect(await r.get('big')).toBe(big);
      expect(await r.pttl('tmp')).toBe(-1);
      expect(await r.pttl('k5')).toBeGreaterThan(90_000);
      expect(await r.get('k6')).toBe('v6+');
      expect(await r.get('n')).toBe('42');
      expect(await r.hget('h2', 'f')).toBe('v');
      expect(await r.xlen('s')).toBe(1);
      expect(await r.dbsize()).toBe(306);
      const keys = await scanAll(r, 0);
      expect(keys.length).toBe(306);
      expect(new Set(keys).size).toBe(306);
      await r.select(2);
      expect(await r.get('k4')).toBe('v4');
      await r.select(0);
    };
    await check(x.r);
    await close(x);

    // reopen: everything is there, and new keys get ids after the old ones
    const y = await open(x.path);
    await check(y.r);
    const p2 = y.r.pipeline();
    for (let i = 0; i < 50; i++) p2.set(`new${i}`, `n${i}`);
    p2.sadd('set', 'a');
    await p2.exec();
    const keys = await scanAll(y.r, 0);
    expect(keys.length).toBe(306 + 51);
    expect(await y.r.get('k0')).toBe('v0');
    expect(await y.r.get('new49')).toBe('n49');
    await y.r.flushdb();
    expect(await scanAll(y.r, 0)).toEqual([]);
    await close(y);
  });

  it('MULTI/EXEC and WATCH see the values written earlier in the pipeline', async () => {
    const x = await open();
    await x.r.set('w', '1');
    await x.r.watch('w');
    const other = new Redis(x.eng.url);
    await other.pipeline().set('w', '2').set('w', '3').exec();
    expect(await x.r.multi().get('w').exec()).toBeNull();
    other.disconnect();
    const res = await x.r.multi().set('a', '1').get('a').append('a', '2').get('a').exec();
    expect(res?.map(([, v]) => v)).toEqual(['OK', '1', 2, '12']);
    await close(x);
  });
});

describe('SQL set algebra', () => {
  it('SINTER/SDIFF/SINTERCARD/*STORE with several keys, repeated and missing keys', async () => {
    const x = await open();
    const r = x.r;
    await r.sadd('a', '1', '2', '3', '4', '5', '6');
    await r.sadd('b', '2', '3', '4', '5', 'x');
    await r.sadd('c', '3', '4', '5', 'y');
    await r.sadd('d', '4', '5');
    await r.set('str', 'v');
    expect((await r.sinter('a', 'b', 'c', 'd')).sort()).toEqual(['4', '5']);
    expect((await r.sinter('a', 'a')).sort()).toEqual(['1', '2', '3', '4', '5', '6']);
    expect(await r.sinter('a', 'missing')).toEqual([]);
    expect((await r.sdiff('a', 'b', 'c')).sort()).toEqual(['1', '6']);
    expect(await r.sdiff('a', 'a')).toEqual([]);
    expect((await r.sdiff('a', 'missing', 'd')).sort()).toEqual(['1', '2', '3', '6']);
    expect(await r.sdiff('missing', 'a')).toEqual([]);
    expect(await r.call('SINTERCARD', '3', 'a', 'b', 'c')).toBe(3);
    expect(await r.call('SINTERCARD', '2', 'a', 'b', 'LIMIT', '2')).toBe(2);
    expect(await r.sinterstore('dst', 'a', 'b', 'c')).toBe(3);
    expect((await r.smembers('dst')).sort()).toEqual(['3', '4', '5']);
    expect(await r.sdiffstore('dst', 'a', 'b')).toBe(2);
    expect((await r.smembers('dst')).sort()).toEqual(['1', '6']);
    await expect(r.sinter('a', 'str')).rejects.toThrow(/WRONGTYPE/);
    // more sets than one statement takes
    const many = Array.from({ length: 40 }, (_, i) => `m${i}`);
    for (const k of many) await r.sadd(k, 'common', `only-${k}`);
    expect(await r.sinter(...many)).toEqual(['common']);
    expect(await r.sdiff('a', ...many)).toHaveLength(6);
    await close(x);
  });
});

describe('row-value ranges', () => {
  it('stream ranges, XREAD and MINID trimming across ms boundaries; ZRANK with equal scores', async () => {
    const x = await open();
    const r = x.r;
    for (const id of ['1-1', '1-2', '1-3', '2-0', '2-5', '3-1']) await r.xadd('s', id, 'f', id);
    const ids = (rows: Array<[string, string[]]>) => rows.map(([id]) => id);
    expect(ids(await r.xrange('s', '1-2', '2-5'))).toEqual(['1-2', '1-3', '2-0', '2-5']);
    expect(ids(await r.xrange('s', '(1-3', '+', 'COUNT', 2))).toEqual(['2-0', '2-5']);
    expect(ids(await r.xrevrange('s', '2-4', '1-2'))).toEqual(['2-0', '1-3', '1-2']);
    const read = await r.xread('STREAMS', 's', '1-3');
    expect(ids(read?.[0]?.[1] ?? [])).toEqual(['2-0', '2-5', '3-1']);
    expect(await r.xtrim('s', 'MINID', '2-1')).toBe(4);
    expect(ids(await r.xrange('s', '-', '+'))).toEqual(['2-5', '3-1']);

    await r.zadd('z', 1, 'b', 1, 'a', 1, 'c', 0, 'z', 2, 'a0');
    expect(await r.zrank('z', 'z')).toBe(0);
    expect(await r.zrank('z', 'a')).toBe(1);
    expect(await r.zrank('z', 'c')).toBe(3);
    expect(await r.zrevrank('z', 'a')).toBe(3);
    expect(await r.zrevrank('z', 'a0')).toBe(0);
    // ZADD flags on the insert-first path
    expect(await r.zadd('z', 'NX', 5, 'a', 6, 'new')).toBe(1);
    expect(await r.zscore('z', 'a')).toBe('1');
    expect(await r.zadd('z', 'XX', 5, 'a', 6, 'nope')).toBe(0);
    expect(await r.zscore('z', 'a')).toBe('5');
    expect(await r.zscore('z', 'nope')).toBeNull();
    expect(await r.zadd('z', 'GT', 'CH', 4, 'a', 7, 'b', 1, 'fresh')).toBe(2);
    expect(await r.zadd('z', 'INCR', 2, 'fresh')).toBe('3');
    expect(await r.zadd('z', 'XX', 'INCR', 2, 'ghost')).toBeNull();
    expect(await r.zcard('z')).toBe(7);
    await close(x);
  });
});

describe('member scans', () => {
  it('HSCAN, SSCAN and ZSCAN apply MATCH and reject a bad cursor or COUNT as Redis does', async () => {
    const x = await open();
    try {
      await x.r.hset('h', 'apple', '1', 'banana', '2', 'avocado', '3');
      await x.r.sadd('s', 'apple', 'banana', 'avocado');
      await x.r.zadd('z', 1, 'apple', 2, 'banana', 3, 'avocado');
      const [hc, h] = await x.r.hscan('h', '0', 'MATCH', 'a*');
      expect(hc).toBe('0');
      expect(h).toEqual(['apple', '1', 'avocado', '3']);
      const [, s] = await x.r.sscan('s', '0', 'MATCH', 'a*');
      expect([...s].sort()).toEqual(['apple', 'avocado']);
      const [zc, z] = await x.r.zscan('z', '0', 'MATCH', 'a*', 'COUNT', '10');
      expect(zc).toBe('0');
      expect(z).toEqual(['apple', '1', 'avocado', '3']);
      await expect(x.r.zscan('z', 'x')).rejects.toThrow('ERR invalid cursor');
      await expect(x.r.zscan('z', '0', 'COUNT', '0')).rejects.toThrow('ERR syntax error');
    } finally {
      await close(x);
    }
  });
});
