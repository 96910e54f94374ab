// TS.*: the observed replies of shared/spec/redis-timeseries.md (v8.10), plus duplicate
// policies, retention trimming, aggregation buckets and label filters.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine, type EngineHandle } from '../../src/engine/index.js';
import { RawClient, prng, type Reply } from './helpers.js';

let engine: EngineHandle;
let c: RawClient;

beforeAll(async () => {
  engine = await startEngine({});
  c = await RawClient.connect(engine.port);
});
afterAll(async () => {
  c.close();
  await engine.stop();
});

const int = (n: number): Reply => ({ t: ':', v: String(n) });
const bulk = (s: string): Reply => ({ t: '$', v: s });
const errR = (s: string): Reply => ({ t: '-', v: s });
const arr = (...v: Reply[]): Reply => ({ t: '*', v });
const sample = (t: number, v: string): Reply => arr(int(t), bulk(v));
const OK: Reply = { t: '+', v: 'OK' };
const E_NOTTS = 'ERR TSDB: the key is not a TSDB key';
const E_NOKEY = 'ERR TSDB: the key does not exist';
const E_BLOCK =
  'ERR TSDB: Error at upsert, update is not supported when DUPLICATE_POLICY is set to BLOCK mode, or either current or new value is NaN and DUPLICATE_POLICY is MAX/MIN/SUM';

async function q(...args: Array<string | number>): Promise<Reply> {
  return c.call(...args);
}

describe('TS.MADD', () => {
  it('reports a missing key per element and writes the rest', async () => {
    await q('FLUSHALL');
    expect(await q('TS.CREATE', 's1')).toEqual(OK);
    expect(await q('TS.MADD', 's1', 20000, 1, 'nokey', 1, 1)).toEqual(arr(int(20000), errR(E_NOTTS)));
    expect(await q('TS.MADD', 's1', 5000, 1, 's1', 6000, 1, 'nokey', 1, 1, 's1', 7000, 1)).toEqual(
      arr(int(5000), int(6000), errR(E_NOTTS), int(7000)),
    );
  });
  it('per-element value and timestamp errors', async () => {
    expect(await q('TS.MADD', 's1', 1, 'abc', 's1', -5, 1, 's1', 'notanumber', 1)).toEqual(
      arr(errR('ERR TSDB: invalid value'), errR('ERR TSDB: invalid timestamp, must be a nonnegative integer'), errR('ERR TSDB: invalid timestamp')),
    );
    expect(await q('TS.MADD', 's1', 1)).toEqual(errR("ERR wrong number of arguments for 'ts.madd' command"));
  });
  it('NaN is stored; inf is rejected', async () => {
    expect(await q('TS.MADD', 's1', 9000, 'nan')).toEqual(arr(int(9000)));
    expect(await q('TS.MADD', 's1', 9001, 'NaN', 's1', 9002, '-nan', 's1', 9003, 'inf', 's1', 9004, '-inf')).toEqual(
      arr(int(9001), int(9002), errR('ERR TSDB: invalid value'), errR('ERR TSDB: invalid value')),
    );
    expect(await q('TS.RANGE', 's1', 9000, 9000)).toEqual(arr(sample(9000, 'NaN')));
    expect(await q('TS.ADD', 's1', 9000, 'nan')).toEqual(errR(E_BLOCK));
  });
});

describe('duplicate policies', () => {
  it('defaults to BLOCK, even for an identical value, for TS.CREATE and TS.ADD-created keys', async () => {
    await q('TS.CREATE', 'dup');
    expect(await q('TS.ADD', 'dup', 100, 1)).toEqual(int(100));
    expect(await q('TS.ADD', 'dup', 100, 1)).toEqual(errR(E_BLOCK));
    await q('TS.ADD', 'auto', 100, 1);
    expect(await q('TS.ADD', 'auto', 100, 1)).toEqual(errR(E_BLOCK));
    const info = await q('TS.INFO', 'auto');
    const v = (info as { v: Reply[] }).v;
    const i = v.findIndex((x) => 'v' in x && x.v === 'duplicatePolicy');
    expect(v[i + 1]).toEqual({ t: '+', v: 'block' });
  });
  it('ON_DUPLICATE overrides per call', async () => {
    const steps: Array<[string, number, string]> = [
      ['LAST', 3, '3'],
      ['SUM', 1, '4'],
      ['FIRST', 10, '4'],
      ['MIN', -1, '-1'],
      ['MAX', 50, '50'],
    ];
    for (const [p, v, want] of steps) {
      expect(await q('TS.ADD', 'dup', 100, v, 'ON_DUPLICATE', p)).toEqual(int(100));
      expect(await q('TS.GET', 'dup')).toEqual(sample(100, want));
    }
    expect(await q('TS.ADD', 'dup', 100, 1, 'ON_DUPLICATE', 'BLOCK')).toEqual(errR(E_BLOCK));
  });
  it('series DUPLICATE_POLICY applies to TS.MADD; out-of-order inserts are accepted', async () => {
    await q('TS.CREATE', 'dl', 'DUPLICATE_POLICY', 'LAST');
    expect(await q('TS.MADD', 'dl', 10, 1, 'dl', 5, 2, 'dl', 10, 7)).toEqual(arr(int(10), int(5), int(10)));
    expect(await q('TS.RANGE', 'dl', '-', '+')).toEqual(arr(sample(5, '2'), sample(10, '7')));
    await q('TS.ALTER', 'dl', 'DUPLICATE_POLICY', 'MAX');
    await q('TS.ADD', 'dl', 10, 3);
    expect(await q('TS.GET', 'dl')).toEqual(sample(10, '7'));
  });
});

describe('retention', () => {
  it('is measured from the newest sample and trims on write', async () => {
    await q('TS.CREATE', 'ret', 'RETENTION', 1000);
    expect(await q('TS.ADD', 'ret', 10000, 1)).toEqual(int(10000));
    expect(await q('TS.ADD', 'ret', 9500, 2)).toEqual(int(9500));
    expect(await q('TS.ADD', 'ret', 9000, 3)).toEqual(int(9000));
    expect(await q('TS.ADD', 'ret', 8999, 3)).toEqual(errR('ERR TSDB: Timestamp is older than retention'));
    expect(await q('TS.MADD', 'ret', 5000, 4, 'ret', 10001, 5)).toEqual(
      arr(errR('ERR TSDB: Timestamp is older than retention'), int(10001)),
    );
    expect(await q('TS.ADD', 'ret', 20000, 6)).toEqual(int(20000));
    expect(await q('TS.RANGE', 'ret', '-', '+')).toEqual(arr(sample(20000, '6')));
    const info = (await q('TS.INFO', 'ret')) as { v: Reply[] };
    expect(info.v.slice(0, 2)).toEqual([{ t: '+', v: 'totalSamples' }, int(1)]);
  });
});

describe('empty and missing keys', () => {
  it('replies as observed', async () => {
    await q('TS.CREATE', 'empty');
    expect(await q('TS.RANGE', 'empty', '-', '+')).toEqual(arr());
    expect(await q('TS.REVRANGE', 'empty', '-', '+')).toEqual(arr());
    expect(await q('TS.RANGE', 'empty', '-', '+', 'AGGREGATION', 'avg', 3600000)).toEqual(arr());
    expect(await q('TS.GET', 'empty')).toEqual(arr());
    expect(await q('TS.RANGE', 'nokey', '-', '+')).toEqual(errR(E_NOKEY));
    expect(await q('TS.GET', 'nokey')).toEqual(errR(E_NOKEY));
    expect(await q('TS.DEL', 'nokey', 0, 1)).toEqual(errR(E_NOKEY));
    expect(await q('TS.INFO', 'nokey')).toEqual(errR(E_NOKEY));
    await q('SET', 'plain', 'x');
    expect(await q('TS.RANGE', 'plain', '-', '+')).toEqual(errR('ERR WRONGTYPE Operation against a key holding the wrong kind of value'));
    expect(await q('TS.ADD', 'plain', 1, 1)).toEqual(errR(E_NOTTS));
    expect(await q('TS.RANGE', 's1', 5000, 1000)).toEqual(arr());
    expect(await q('TYPE', 's1')).toEqual({ t: '+', v: 'TSDB-TYPE' });
  });
});

describe('TS.DEL', () => {
  it('deletes inclusive ranges', async () => {
    await q('TS.CREATE', 'd');
    await q('TS.MADD', 'd', 1000, 1, 'd', 2000, 2, 'd', 3000, 3, 'd', 4000, 4, 'd', 5000, 5);
    expect(await q('TS.DEL', 'd', 2000, 4000)).toEqual(int(3));
    expect(await q('TS.RANGE', 'd', '-', '+')).toEqual(arr(sample(1000, '1'), sample(5000, '5')));
    expect(await q('TS.DEL', 'd', 2000, 4000)).toEqual(int(0));
    expect(await q('TS.DEL', 'd', 9000, 1000)).toEqual(int(0));
    expect(await q('TS.DEL', 'd', '-', '+')).toEqual(int(2));
    expect(await q('TS.DEL', 'd', 1)).toEqual(errR("ERR wrong number of arguments for 'ts.del' command"));
  });
});

describe('aggregation', () => {
  beforeAll(async () => {
    await q('TS.CREATE', 'agg');
    await q('TS.MADD', 'agg', 0, 1, 'agg', 1800000, 3, 'agg', 3600000, 10, 'agg', 3600001, 20, 'agg', 7300000, 5);
  });
  const agg = (...extra: Array<string | number>) => q('TS.RANGE', 'agg', '-', '+', ...extra);
  it('buckets align to epoch 0, labelled by bucket start', async () => {
    expect(await agg('AGGREGATION', 'avg', 3600000)).toEqual(arr(sample(0, '2'), sample(3600000, '15'), sample(7200000, '5')));
    expect(await agg('AGGREGATION', 'sum', 3600000)).toEqual(arr(sample(0, '4'), sample(3600000, '30'), sample(7200000, '5')));
    expect(await agg('AGGREGATION', 'count', 3600000)).toEqual(arr(sample(0, '2'), sample(3600000, '2'), sample(7200000, '1')));
    expect(await agg('AGGREGATION', 'min', 3600000)).toEqual(arr(sample(0, '1'), sample(3600000, '10'), sample(7200000, '5')));
    expect(await agg('AGGREGATION', 'max', 3600000)).toEqual(arr(sample(0, '3'), sample(3600000, '20'), sample(7200000, '5')));
    expect(await agg('AGGREGATION', 'range', 3600000)).toEqual(arr(sample(0, '2'), sample(3600000, '10'), sample(7200000, '0')));
    expect(await agg('AGGREGATION', 'first', 3600000)).toEqual(arr(sample(0, '1'), sample(3600000, '10'), sample(7200000, '5')));
    expect(await agg('AGGREGATION', 'last', 3600000)).toEqual(arr(sample(0, '3'), sample(3600000, '20'), sample(7200000, '5')));
  });
  it('BUCKETTIMESTAMP, twa, ALIGN and errors', async () => {
    expect(await agg('AGGREGATION', 'avg', 3600000, 'BUCKETTIMESTAMP', 'mid')).toEqual(
      arr(sample(1800000, '2'), sample(5400000, '15'), sample(9000000, '5')),
    );
    expect(await agg('AGGREGATION', 'avg', 3600000, 'BUCKETTIMESTAMP', 'end')).toEqual(
      arr(sample(3600000, '2'), sample(7200000, '15'), sample(10800000, '5')),
    );
    expect(await agg('AGGREGATION', 'twa', 3600000)).toEqual(
      arr(sample(0, '4.25'), sample(3600000, '12.702703395625353'), sample(7200000, '5.2027027574872315')),
    );
    expect(await agg('ALIGN', 'start', 'AGGREGATION', 'avg', 3600000)).toEqual(
      errR('ERR TSDB: start alignment can only be used with explicit start timestamp'),
    );
    expect(await q('TS.RANGE', 'agg', 100, '+', 'ALIGN', 'start', 'AGGREGATION', 'avg', 3600000)).toEqual(
      arr(sample(100, '11'), sample(7200100, '5')),
    );
    expect(await agg('AGGREGATION', 'bogus', 3600000)).toEqual(errR('ERR TSDB: Unknown aggregation type'));
    expect(await agg('AGGREGATION', 'avg', 0)).toEqual(errR('ERR TSDB: bucketDuration must be greater than zero'));
  });
  it('COUNT, REVRANGE, FILTER_BY_TS, FILTER_BY_VALUE and EMPTY', async () => {
    expect(await agg('COUNT', 2, 'AGGREGATION', 'sum', 3600000)).toEqual(arr(sample(0, '4'), sample(3600000, '30')));
    expect(await q('TS.REVRANGE', 'agg', '-', '+', 'AGGREGATION', 'sum', 3600000)).toEqual(
      arr(sample(7200000, '5'), sample(3600000, '30'), sample(0, '4')),
    );
    expect(await q('TS.REVRANGE', 'agg', '-', '+', 'COUNT', 2)).toEqual(arr(sample(7300000, '5'), sample(3600001, '20')));
    expect(await agg('FILTER_BY_TS', 0, 3600001)).toEqual(arr(sample(0, '1'), sample(3600001, '20')));
    expect(await agg('FILTER_BY_VALUE', 3, 10)).toEqual(arr(sample(1800000, '3'), sample(3600000, '10'), sample(7300000, '5')));
    expect(await agg('FILTER_BY_VALUE', 3, 10, 'AGGREGATION', 'count', 3600000)).toEqual(
      arr(sample(0, '1'), sample(3600000, '1'), sample(7200000, '1')),
    );
    expect(await agg('AGGREGATION', 'count', 1800000, 'EMPTY')).toEqual(
      arr(sample(0, '1'), sample(1800000, '1'), sample(3600000, '2'), sample(5400000, '0'), sample(7200000, '1')),
    );
  });
});

describe('limits and creation errors', () => {
  it('replies as observed', async () => {
    expect(await q('TS.ADD', 'lim', '18446744073709551615', 1)).toEqual(errR('ERR TSDB: invalid timestamp'));
    expect(await q('TS.ADD', 'lim', '1.5', 1)).toEqual(errR('ERR TSDB: invalid timestamp'));
    expect(await q('TS.ADD', 'lim', -1, 1)).toEqual(errR('ERR TSDB: invalid timestamp, must be a nonnegative integer'));
    expect(await q('TS.ADD', 'lim', 1, '1e308')).toEqual(int(1));
    expect(await q('TS.ADD', 'lim', 2, '1e309')).toEqual(errR('ERR TSDB: invalid value'));
    expect(await q('TS.CREATE', 'x', 'CHUNK_SIZE', 7)).toEqual(
      errR('ERR TSDB: CHUNK_SIZE value must be a multiple of 8 in the range [48 .. 1048576]'),
    );
    expect(await q('TS.CREATE', 'x', 'ENCODING', 'foo')).toEqual(errR('ERR TSDB: unknown ENCODING parameter'));
    expect(await q('TS.CREATE', 'lim')).toEqual(errR('ERR TSDB: key already exists'));
    expect(await q('TS.INCRBY', 'ctr', 5, 'TIMESTAMP', 100)).toEqual(int(100));
    expect(await q('TS.INCRBY', 'ctr', 5, 'TIMESTAMP', 50)).toEqual(
      errR('TSDB: timestamp must be equal to or higher than the maximum existing timestamp'),
    );
    expect(await q('TS.INCRBY', 'ctr', 2, 'TIMESTAMP', 100)).toEqual(int(100));
    expect(await q('TS.GET', 'ctr')).toEqual(sample(100, '7'));
  });
  it('TS.INFO field order', async () => {
    const info = (await q('TS.INFO', 'lim')) as { v: Reply[] };
    const names = info.v.filter((_, i) => i % 2 === 0).map((r) => (r as { v: string }).v);
    expect(names).toEqual([
      'totalSamples',
      'memoryUsage',
      'firstTimestamp',
      'lastTimestamp',
      'retentionTime',
      'chunkCount',
      'chunkSize',
      'chunkType',
      'duplicatePolicy',
      'labels',
      'sourceKey',
      'rules',
      'ignoreMaxTimeDiff',
      'ignoreMaxValDiff',
    ]);
    expect(info.v[info.v.length - 1]).toEqual(bulk('0'));
  });
});

describe('label filters', () => {
  beforeAll(async () => {
    await q('TS.CREATE', 'l:1', 'LABELS', 'sensor', 't1', 'room', 'r1');
    await q('TS.CREATE', 'l:2', 'LABELS', 'sensor', 't2', 'room', 'r1');
    await q('TS.CREATE', 'l:3', 'LABELS', 'sensor', 't3', 'room', 'r2', 'kind', 'temp');
    await q('TS.MADD', 'l:1', 10, 1, 'l:2', 10, 2, 'l:3', 10, 3, 'l:1', 20, 4);
  });
  const keys = (r: Reply) => (r as { v: Reply[] }).v.map((x) => (x as { v: string }).v);
  it('TS.QUERYINDEX matchers', async () => {
    expect(keys(await q('TS.QUERYINDEX', 'room=r1'))).toEqual(['l:1', 'l:2']);
    expect(keys(await q('TS.QUERYINDEX', 'room=r1', 'sensor!=t1'))).toEqual(['l:2']);
    expect(keys(await q('TS.QUERYINDEX', 'sensor=(t1,t3)'))).toEqual(['l:1', 'l:3']);
    expect(keys(await q('TS.QUERYINDEX', 'sensor!=(t1,t3)', 'room=(r1,r2)'))).toEqual(['l:2']);
    expect(keys(await q('TS.QUERYINDEX', 'room=r2', 'kind!='))).toEqual(['l:3']);
    expect(keys(await q('TS.QUERYINDEX', 'room=r1', 'kind='))).toEqual(['l:1', 'l:2']);
    expect(await q('TS.MGET', 'FILTER', 'sensor!=t1')).toEqual(errR('ERR TSDB: please provide at least one matcher'));
  });
  it('TS.MGET and TS.MRANGE reply shapes', async () => {
    expect(await q('TS.MGET', 'FILTER', 'room=r1')).toEqual(
      arr(arr(bulk('l:1'), arr(), sample(20, '4')), arr(bulk('l:2'), arr(), sample(10, '2'))),
    );
    expect(await q('TS.MGET', 'SELECTED_LABELS', 'sensor', 'FILTER', 'room=r2')).toEqual(
      arr(arr(bulk('l:3'), arr(arr(bulk('sensor'), bulk('t3'))), sample(10, '3'))),
    );
    expect(await q('TS.MRANGE', '-', '+', 'WITHLABELS', 'FILTER', 'sensor=t1')).toEqual(
      arr(arr(bulk('l:1'), arr(arr(bulk('sensor'), bulk('t1')), arr(bulk('room'), bulk('r1'))), arr(sample(10, '1'), sample(20, '4')))),
    );
    expect(await q('TS.MRANGE', '-', '+', 'AGGREGATION', 'sum', 100, 'FILTER', 'room=r1')).toEqual(
      arr(arr(bulk('l:1'), arr(), arr(sample(0, '5'))), arr(bulk('l:2'), arr(), arr(sample(0, '2')))),
    );
  });
  it('RESP3: doubles and maps', async () => {
    const c3 = await RawClient.connect(engine.port);
    await c3.call('HELLO', '3');
    expect(await c3.call('TS.GET', 'l:1')).toEqual(arr(int(20), { t: ',', v: '4' }));
    const info = (await c3.call('TS.INFO', 'l:1')) as { t: string; v: Array<[Reply, Reply]> };
    expect(info.t).toBe('%');
    expect(info.v.find(([k]) => (k as { v: string }).v === 'labels')?.[1]).toEqual({
      t: '%',
      v: [
        [bulk('sensor'), bulk('t1')],
        [bulk('room'), bulk('r1')],
      ],
    });
    const mod = await c3.call('MODULE', 'LIST');
    expect(mod).toEqual(arr({ t: '%', v: [[bulk('name'), bulk('timeseries')], [bulk('ver'), int(11200)], [bulk('path'), bulk('hxredis-engine')], [bulk('args'), arr()]] }));
    c3.close();
  });
});

describe('TS.INFO totalSamples', () => {
  /** totalSamples of TS.INFO (RESP2 field/value array) */
  async function total(cl: RawClient, key: string): Promise<number> {
    const r = (await cl.call('TS.INFO', key)) as { v: Reply[] };
    const i = r.v.findIndex((x) => (x as { v: string }).v === 'totalSamples');
    return Number((r.v[i + 1] as { v: string }).v);
  }
  async function counted(cl: RawClient, key: string): Promise<number> {
    return ((await cl.call('TS.RANGE', key, '-', '+')) as { v: Reply[] }).v.length;
  }

  it('follows appends, overwrites, deletes and retention trims, and is right again after a restart', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'hxredis-tsinfo-'));
    const path = join(dir, 'engine.sqlite');
    const rand = prng(5);
    try {
      let eng = await startEngine({ path });
      let cl = await RawClient.connect(eng.port);
      await cl.call('TS.CREATE', 'a', 'DUPLICATE_POLICY', 'LAST');
      await cl.call('TS.CREATE', 'r', 'DUPLICATE_POLICY', 'LAST', 'RETENTION', 5000);
      for (let step = 0; step < 60; step++) {
        const op = rand.int(4);
        if (op <= 1) {
          // a MADD over both series: appends and overwrites of earlier timestamps
          const args: Array<string | number> = ['TS.MADD'];
          for (let k = 0; k < 1 + rand.int(40); k++) args.push(rand.chance(0.5) ? 'a' : 'r', 1000 + rand.int(20_000), rand.int(100));
          await cl.call(...args);
        } else if (op === 2) {
          const from = rand.int(20_000);
          await cl.call('TS.DEL', 'a', from, from + rand.int(3000));
        } else {
          await cl.call('TS.ADD', rand.chance(0.5) ? 'a' : 'r', 1000 + rand.int(25_000), 1, 'ON_DUPLICATE', 'LAST');
        }
        for (const key of ['a', 'r']) expect(await total(cl, key), `${key} after step ${step}`).toBe(await counted(cl, key));
      }
      const before = [await total(cl, 'a'), await total(cl, 'r')];
      cl.close();
      await eng.stop();
      eng = await startEngine({ path });
      cl = await RawClient.connect(eng.port);
      expect([await total(cl, 'a'), await total(cl, 'r')]).toEqual(before);
      await cl.call('TS.MADD', 'a', 900_000, 1, 'a', 900_001, 2);
      expect(await total(cl, 'a')).toBe(before[0] + 2);
      cl.close();
      await eng.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
