// Which history backend a server offers, and the node-redis client used for TimeSeries writes.
import type { Redis } from 'ioredis';
import { createClient } from 'redis';
import { checkUrl, redactUrl, type ConnectionOptions } from '../storage/connection.js';
import { StorageError } from '../folio/errors.js';

export type HisBackend = 'timeseries' | 'zset';

export interface Detection {
  backend: HisBackend;
  /** how it was decided: `forced`, `MODULE LIST`, `TS probe` */
  how: string;
  detail: string;
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** True if a MODULE LIST reply (RESP2 arrays or RESP3 maps) names the `timeseries` module. */
export function moduleListHasTimeSeries(reply: unknown): boolean {
  if (!Array.isArray(reply)) return false;
  for (const mod of reply) {
    let name: unknown;
    if (Array.isArray(mod)) {
      const i = mod.findIndex((x) => String(x).toLowerCase() === 'name');
      name = i >= 0 ? mod[i + 1] : undefined;
    } else if (mod instanceof Map) {
      name = mod.get('name');
    } else if (mod && typeof mod === 'object') {
      name = (mod as Record<string, unknown>).name;
    }
    if (typeof name === 'string' || Buffer.isBuffer(name)) {
      const n = String(name).toLowerCase();
      if (n === 'timeseries' || n === 'redistimeseries') return true;
    }
  }
  return false;
}

/**
 * MODULE LIST (module `timeseries`); where MODULE is refused (ACL NOPERM, managed services that
 * rename or hide it, unknown command) a TS command is probed instead: TS.INFO on a key that does
 * not exist answers `TSDB: the key does not exist` when the module is loaded, `unknown command`
 * otherwise.
 */
export async function detectBackend(main: Redis, probeKey: string): Promise<Detection> {
  let moduleErr: string;
  try {
    const reply = await main.call('MODULE', 'LIST');
    if (moduleListHasTimeSeries(reply)) return { backend: 'timeseries', how: 'MODULE LIST', detail: 'module timeseries loaded' };
    return { backend: 'zset', how: 'MODULE LIST', detail: 'no timeseries module' };
  } catch (e) {
    moduleErr = errText(e);
  }
  try {
    await main.call('TS.INFO', probeKey);
    return { backend: 'timeseries', how: 'TS probe', detail: `MODULE LIST refused (${moduleErr}); TS.INFO answered` };
  } catch (e) {
    const msg = errText(e);
    if (/TSDB/i.test(msg) && !/unknown command/i.test(msg)) {
      return { backend: 'timeseries', how: 'TS probe', detail: `MODULE LIST refused (${moduleErr}); TS.INFO: ${msg}` };
    }
    return { backend: 'zset', how: 'TS probe', detail: `MODULE LIST refused (${moduleErr}); TS.INFO: ${msg}` };
  }
}

export type TsClient = ReturnType<typeof createClient>;

/**
 * A node-redis client configured from the folio's connection options (URL, TLS, auth, db), for
 * TimeSeries writes: node-redis pipelines concurrent commands and measured fastest for TS.MADD.
 */
export async function openTsClient(opts: ConnectionOptions, log: (msg: string) => void): Promise<TsClient> {
  checkUrl(opts.url);
  const ro = (opts.redisOptions ?? {}) as Record<string, unknown>;
  const socket: Record<string, unknown> = {
    connectTimeout: typeof ro.connectTimeout === 'number' ? ro.connectTimeout : 10_000,
    reconnectStrategy: (retries: number) => (retries > 5 ? false : Math.min(50 * 2 ** retries, 1000)),
  };
  if (ro.tls) {
    socket.tls = true;
    if (typeof ro.tls === 'object') Object.assign(socket, ro.tls);
  }
  const options: Record<string, unknown> = { url: opts.url, socket, name: 'hxredis:his' };
  if (typeof ro.username === 'string') options.username = ro.username;
  if (typeof ro.password === 'string') options.password = ro.password;
  if (typeof ro.db === 'number') options.database = ro.db;
  const client = createClient(options as Parameters<typeof createClient>[0]) as TsClient;
  let lastErr = '';
  client.on('error', (e: unknown) => {
    const msg = errText(e);
    if (msg !== lastErr) log(`hxredis his: TimeSeries connection to ${redactUrl(opts.url)}: ${msg}`);
    lastErr = msg;
  });
  try {
    await client.connect();
  } catch (e) {
    client.destroy();
    throw new StorageError(`Cannot connect to Redis at ${redactUrl(opts.url)}: ${errText(e)}`, { cause: e });
  }
  return client;
}
