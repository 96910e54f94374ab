// Differential test: seeded command sequences run against redis-server and the engine,
// replies compared exactly (types included) in RESP2 and RESP3. Only replies whose order
// Redis leaves unspecified (set members, hash fields, KEYS) are sorted before comparing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findRedisServer, startRedisServer, type RedisServerProcess } from '../harness/redis.js';
import { startEngine, type EngineHandle } from '../../src/engine/index.js';
import { RawClient, prng, type Reply } from './helpers.js';

const HAVE_REDIS = findRedisServer() !== null;
if (!HAVE_REDIS) console.log('[engine differential] skipped: redis-server is not installed');

const SEQUENCES = Number(process.env.ENGINE_DIFF_SEQUENCES ?? 3000);
const SEQ_LEN = 30;

type Cmd = string[];
type Rng = ReturnType<typeof prng>;

const KEYS = ['k1', 'k2', 'k3', 'k4'];
const FIELDS = ['f1', 'f2', 'f3', 'f4'];
const MEMBERS = ['a', 'b', 'c', 'd', 'e', 'm1', 'm2'];
const VALS = ['0', '1', '-3', '42', 'x', 'hello', '', '10', '9223372036854775806', '3.5'];
const SCORES = ['0', '1', '2', '-1', '1.5', '0.1', '100', '-inf', '+inf', '2.5e3', '3'];
const SBOUNDS = ['-inf', '+inf', '0', '1', '(1', '2', '(2.5', '100', '(0', '-1', 'abc'];
const LBOUNDS = ['-', '+', '[a', '(b', '[c', '(m1', '[z', 'x'];
const IDX = ['0', '1', '-1', '2', '-2', '5', '-10', '100'];

function key(r: Rng): string {
  return r.pick(KEYS);
}

function gen(r: Rng, ids: { n: number }): Cmd {
  const k = key(r);
  switch (r.int(62)) {
    case 0: {
      const c = ['SET', k, r.pick(VALS)];
      if (r.chance(0.2)) c.push(r.pick(['NX', 'XX']));
      if (r.chance(0.15)) c.push('GET');
      if (r.chance(0.1)) c.push('EX', r.pick(['100', '0', 'abc']));
      return c;
    }
    case 1:
      return ['GET', k];
    case 2:
      return ['MGET', k, key(r), 'nokey'];
    case 3:
      return r.chance(0.1) ? ['MSET', k] : ['MSET', k, r.pick(VALS), key(r), r.pick(VALS)];
    case 4:
      return ['INCR', k];
    case 5:
      return ['INCRBY', k, r.pick(['5', '-7', 'x', '9223372036854775807'])];
    case 6:
      return ['DECR', k];
    case 7:
      return ['APPEND', k, r.pick(VALS)];
    case 8:
      return ['STRLEN', k];
    case 9:
      return ['GETDEL', k];
    case 10:
      return ['DEL', k, ...(r.chance(0.3) ? [key(r)] : [])];
    case 11:
      return ['EXISTS', k, key(r)];
    case 12:
      return ['TYPE', k];
    case 13:
      return ['RENAME', k, key(r)];
    case 14:
      return ['DBSIZE'];
    case 15:
      return ['EXPIRE', k, r.pick(['100', '-1', 'x'])];
    case 16:
      return ['TTL', k];
    case 17: {
      const c = ['HSET', k];
      const n = 1 + r.int(3);
      for (let i = 0; i < n; i++) c.push(r.pick(FIELDS), r.pick(VALS));
      if (r.chance(0.05)) c.pop();
      return c;
    }
    case 18:
      return ['HGET', k, r.pick(FIELDS)];
    case 19:
      return ['HMGET', k, r.pick(FIELDS), r.pick(FIELDS)];
    case 20:
      return ['HGETALL', k];
    case 21:
      return ['HDEL', k, r.pick(FIELDS), r.pick(FIELDS)];
    case 22:
      return ['HEXISTS', k, r.pick(FIELDS)];
    case 23:
      return ['HLEN', k];
    case 24:
      return [r.pick(['HKEYS', 'HVALS']), k];
    case 25:
      return ['HINCRBY', k, r.pick(FIELDS), r.pick(['1', '-2', 'x'])];
    case 26:
      return ['HSETNX', k, r.pick(FIELDS), r.pick(VALS)];
    case 27:
      return ['SADD', k, r.pick(MEMBERS), r.pick(MEMBERS)];
    case 28:
      return ['SREM', k, r.pick(MEMBERS), r.pick(MEMBERS)];
    case 29:
      return ['SMEMBERS', k];
    case 30:
      return ['SISMEMBER', k, r.pick(MEMBERS)];
    case 31:
      return ['SMISMEMBER', k, r.pick(MEMBERS), r.pick(MEMBERS)];
    case 32:
      return ['SCARD', k];
    case 33:
      return [r.pick(['SINTER', 'SUNION', 'SDIFF']), k, key(r)];
    case 34:
      return [r.pick(['SINTERSTORE', 'SUNIONSTORE', 'SDIFFSTORE']), k, key(r), key(r)];
    case 35:
      return ['SINTERCARD', r.pick(['2', '0', '3']), k, key(r), ...(r.chance(0.3) ? ['LIMIT', r.pick(['1', '0', '-1'])] : [])];
    case 36:
    case 37: {
      const c = ['ZADD', k];
      if (r.chance(0.3)) c.push(r.pick(['NX', 'XX', 'GT', 'LT', 'CH', 'INCR', 'XX', 'CH']));
      if (r.chance(0.1)) c.push(r.pick(['NX', 'GT', 'CH']));
      const n = 1 + r.int(3);
      for (let i = 0; i < n; i++) c.push(r.pick(SCORES), r.pick(MEMBERS));
      if (r.chance(0.05)) c.push('1');
      return c;
    }
    case 38:
      return ['ZREM', k, r.pick(MEMBERS), r.pick(MEMBERS)];
    case 39:
      return ['ZCARD', k];
    case 40:
      return ['ZSCORE', k, r.pick(MEMBERS)];
    case 41: {
      const c = ['ZRANGE', k];
      const mode = r.int(3);
      if (mode === 0) c.push(r.pick(IDX), r.pick(IDX));
      else c.push(r.pick(SBOUNDS), r.pick(SBOUNDS), 'BYSCORE');
      if (r.chance(0.3)) c.push('REV');
      if (mode !== 0 && r.chance(0.3)) c.push('LIMIT', r.pick(['0', '1', '-1']), r.pick(['1', '2', '-1', '0']));
      if (r.chance(0.5)) c.push('WITHSCORES');
      if (r.chance(0.05)) c.push('LIMIT', '0', '1');
      return c;
    }
    case 42: {
      const c = [r.pick(['ZRANGEBYSCORE', 'ZREVRANGEBYSCORE']), k, r.pick(SBOUNDS), r.pick(SBOUNDS)];
      if (r.chance(0.4)) c.push('WITHSCORES');
      if (r.chance(0.3)) c.push('LIMIT', r.pick(['0', '1', '2']), r.pick(['1', '3', '-1']));
      return c;
    }
    case 43:
      return ['ZREMRANGEBYSCORE', k, r.pick(SBOUNDS), r.pick(SBOUNDS)];
    case 44:
      return ['ZCOUNT', k, r.pick(SBOUNDS), r.pick(SBOUNDS)];
    case 45: {
      // lex ranges only on a key whose scores are all 0 (Redis leaves mixed scores unspecified)
      const c = ['ZRANGEBYLEX', 'zl', r.pick(LBOUNDS), r.pick(LBOUNDS)];
      if (r.chance(0.3)) c.push('LIMIT', r.pick(['0', '1']), r.pick(['1', '2', '-1']));
      return c;
    }
    case 46:
      return ['ZADD', 'zl', '0', r.pick(MEMBERS), '0', r.pick(MEMBERS)];
    case 47:
      return ['ZREMRANGEBYRANK', k, r.pick(IDX), r.pick(IDX)];
    case 48:
      return ['ZINCRBY', k, r.pick(SCORES), r.pick(MEMBERS)];
    case 49: {
      const sk = r.pick(['s1', 's2', k]);
      const c = ['XADD', sk];
      if (r.chance(0.2)) c.push('MAXLEN', r.pick(['2', '3', '0']));
      const roll = r.int(10);
      if (roll === 0) c.push(`${Math.max(1, ids.n - 2)}-1`);
      else if (roll === 1) c.push(`${ids.n}-*`);
      else {
        ids.n += 1 + r.int(2);
        c.push(`${ids.n}-${r.int(3)}`);
      }
      c.push('f', r.pick(VALS));
      if (r.chance(0.3)) c.push('g', r.pick(VALS));
      return c;
    }
    case 50: {
      const sk = r.pick(['s1', 's2']);
      const c = [r.chance(0.5) ? 'XRANGE' : 'XREVRANGE', sk];
      const b = ['-', '+', '1', '3-0', '(2-0', '5', String(ids.n)];
      c.push(r.pick(b), r.pick(b));
      if (c[0] === 'XREVRANGE') [c[2], c[3]] = [r.pick(['+', c[2]]), r.pick(['-', c[3]])];
      if (r.chance(0.3)) c.push('COUNT', r.pick(['1', '2', '0']));
      return c;
    }
    case 51:
      return ['XLEN', r.pick(['s1', 's2', k])];
    case 52:
      return ['XTRIM', r.pick(['s1', 's2']), 'MAXLEN', r.pick(['1', '2', '5'])];
    case 53:
      return ['XDEL', r.pick(['s1', 's2']), `${1 + r.int(Math.max(1, ids.n))}-${r.int(3)}`];
    case 54:
      return ['XREAD', 'COUNT', r.pick(['1', '2', '10']), 'STREAMS', r.pick(['s1', 's2']), r.pick(['0', '2-0', String(ids.n)])];
    case 55:
      return r.pick([['FOO', k], ['GET'], ['HSET', k, 'f'], ['ZADD', k], ['PING'], ['ECHO', 'hi'], ['PING', 'x']]);
    case 56:
      return ['KEYS', r.pick(['*', 'k*', 'k[12]', 's?', '*3'])];
    case 57:
      return ['SETNX', k, r.pick(VALS)];
    case 58:
      return ['ZRANK', k, r.pick(MEMBERS)];
    case 59:
      return ['PERSIST', k];
    case 60:
      return ['ZRANGE', k, r.pick(IDX), r.pick(IDX), 'WITHSCORES'];
    default:
      return ['SELECT', r.pick(['0', '1', '0', '16'])];
  }
}

/** A sequence, with MULTI blocks mixed in. */
function sequence(seed: number): Cmd[] {
  const r = prng(seed);
  const ids = { n: 1 };
  const out: Cmd[] = [];
  while (out.length < SEQ_LEN) {
    if (r.chance(0.08)) {
      out.push(['MULTI']);
      const n = 1 + r.int(4);
      for (let i = 0; i < n; i++) out.push(gen(r, ids));
      if (r.chance(0.1)) out.push(['MULTI']);
      if (r.chance(0.1)) out.push(['WATCH', 'k1']);
      out.push([r.chance(0.85) ? 'EXEC' : 'DISCARD']);
    } else out.push(gen(r, ids));
  }
  if (r.chance(0.05)) out.push(['EXEC']);
  return out;
}

const UNORDERED = new Set(['SMEMBERS', 'SINTER', 'SUNION', 'SDIFF', 'KEYS', 'HKEYS', 'HVALS']);

function sortKey(r: Reply): string {
  return JSON.stringify(r);
}

/** Sorts replies whose order Redis does not define; EXEC arrays are normalised per command. */
function normalize(cmds: Cmd[], replies: Reply[]): Reply[] {
  const out: Reply[] = [];
  let queued: Cmd[] | null = null;
  cmds.forEach((c, i) => {
    const name = c[0].toUpperCase();
    let rep = replies[i];
    if (queued && name !== 'EXEC' && name !== 'DISCARD' && name !== 'MULTI' && name !== 'WATCH') queued.push(c);
    if (name === 'MULTI' && rep.t === '+') queued = [];
    if ((name === 'EXEC' || name === 'DISCARD') && queued) {
      if (name === 'EXEC' && rep.t === '*' && rep.v) {
        const q = queued;
        rep = { t: '*', v: rep.v.map((x, j) => normOne(q[j]?.[0].toUpperCase() ?? '', x)) };
      }
      queued = null;
    } else rep = normOne(name, rep);
    out.push(rep);
  });
  return out;
}

function normOne(name: string, rep: Reply): Reply {
  if (UNORDERED.has(name) && (rep.t === '*' || rep.t === '~') && rep.v) {
    return { t: rep.t, v: [...rep.v].sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1)) };
  }
  if (name === 'HGETALL') {
    if (rep.t === '%') return { t: '%', v: [...rep.v].sort((a, b) => (sortKey(a[0]) < sortKey(b[0]) ? -1 : 1)) };
    if (rep.t === '*' && rep.v) {
      const pairs: Reply[][] = [];
      for (let i = 0; i < rep.v.length; i += 2) pairs.push([rep.v[i], rep.v[i + 1]]);
      pairs.sort((a, b) => (sortKey(a[0]) < sortKey(b[0]) ? -1 : 1));
      return { t: '*', v: pairs.flat() };
    }
  }
  return rep;
}

describe.skipIf(!HAVE_REDIS)('engine vs redis-server: generated command sequences', () => {
  let redis: RedisServerProcess;
  let engine: EngineHandle;
  beforeAll(async () => {
    redis = await startRedisServer();
    engine = await startEngine({});
  });
  afterAll(async () => {
    await engine?.stop();
    await redis?.stop();
  });

  for (const proto of [2, 3] as const) {
    it(`RESP${proto}: ${SEQUENCES} sequences of ${SEQ_LEN} commands give identical replies`, async () => {
      const a = await RawClient.connect(redis.port);
      const b = await RawClient.connect(engine.port);
      try {
        if (proto === 3) {
          await a.call('HELLO', '3');
          await b.call('HELLO', '3');
        }
        for (let s = 0; s < SEQUENCES; s++) {
          const seed = proto * 1_000_003 + s;
          const cmds: Cmd[] = [['SELECT', '0'], ['FLUSHALL'], ...sequence(seed), ['DISCARD']];
          const [ra, rb] = await Promise.all([a.pipeline(cmds), b.pipeline(cmds)]);
          const na = normalize(cmds, ra);
          const nb = normalize(cmds, rb);
          for (let i = 0; i < cmds.length; i++) {
            if (JSON.stringify(na[i]) !== JSON.stringify(nb[i])) {
              const ctx = cmds.slice(0, i + 1).map((c) => c.join(' ')).join('\n');
              expect.fail(
                `seed ${seed}, command ${i}: ${cmds[i].join(' ')}\nredis:  ${JSON.stringify(na[i])}\nengine: ${JSON.stringify(nb[i])}\n--- sequence ---\n${ctx}`,
              );
            }
          }
        }
      } finally {
        a.close();
        b.close();
      }
    });
  }

  it('SCAN with MATCH/TYPE iterates the same keys as Redis', async () => {
    const a = await RawClient.connect(redis.port);
    const b = await RawClient.connect(engine.port);
    try {
      const setup: Cmd[] = [['FLUSHALL']];
      for (let i = 0; i < 250; i++) setup.push(i % 3 === 0 ? ['SADD', `s:${i}`, 'x'] : ['SET', `k:${i}`, 'v']);
      await a.pipeline(setup);
      await b.pipeline(setup);
      for (const opts of [[], ['MATCH', 'k:1*'], ['TYPE', 'set'], ['COUNT', '7', 'MATCH', '*5']]) {
        const collect = async (cl: RawClient) => {
          const seen = new Set<string>();
          let cursor = '0';
          do {
            const r = await cl.call('SCAN', cursor, ...opts);
            if (r.t !== '*' || !r.v) throw new Error('bad scan reply');
            cursor = (r.v[0] as { v: string }).v;
            for (const k of (r.v[1] as { v: Reply[] }).v) seen.add((k as { v: string }).v);
          } while (cursor !== '0');
          return [...seen].sort();
        };
        expect(await collect(b)).toEqual(await collect(a));
      }
    } finally {
      a.close();
      b.close();
    }
  });
});
