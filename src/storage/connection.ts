// Connections to Redis: one options object configures every connection hxredis opens.
// - `main`: reads, index lookups, curVer (shared, pipelined by ioredis);
// - a generic-pool of dedicated connections for WATCH/MULTI/EXEC (WATCH state is per connection,
//   so a commit must own its connection from WATCH to EXEC);
// - `feed`: a dedicated connection for the blocking XREAD of the change stream.
import { Redis, type RedisOptions } from 'ioredis';
import genericPool from 'generic-pool';
import { ArgError, StorageError } from '../folio/errors.js';

export interface ConnectionOptions {
  /** `redis://user:pass@host:port/db` or `rediss://` (TLS) */
  url: string;
  /** extra ioredis options, passed through (tls, password, connectTimeout, ...) */
  redisOptions?: RedisOptions;
  /** dedicated commit connections at most (default 8) */
  poolSize?: number;
}

/** The URL without its password, for error messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}

export function checkUrl(url: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new StorageError(`Invalid Redis URL: ${JSON.stringify(url)} (expected redis://host:port/db or rediss://...)`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new StorageError(`Invalid Redis URL scheme ${u.protocol} in ${redactUrl(url)}: use redis:// or rediss://`);
  }
}

/**
 * Options hxredis cannot honour fail at open, by name. `keyPrefix`: hxredis names every key itself
 * (src/storage/keys.ts, under the folio name), and history's hand-built commands
 * (storage/respCommand.ts) and its node-redis connection would not carry an ioredis prefix.
 */
export function checkRedisOptions(opts: ConnectionOptions): void {
  if (opts.redisOptions?.keyPrefix) {
    throw new ArgError('redisOptions.keyPrefix is not supported: hxredis names every key itself under the folio name; use `name` to keep folios apart');
  }
}

export function makeClient(opts: ConnectionOptions, role: string, perCommandTimeout = true): Redis {
  checkUrl(opts.url);
  checkRedisOptions(opts);
  const client = new Redis(opts.url, {
    lazyConnect: true,
    // Fail fast while Redis is away instead of queueing: callers get a clear error, and the
    // caches cannot drift because nothing is applied before a reply arrives.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // a command that never answers (Redis stalled, not gone) fails instead of hanging; commit
    // connections use one watchdog per transaction instead (RedisFolio.commitPersistent), since a
    // timer per command costs a commit ~10 µs
    commandTimeout: perCommandTimeout ? 5000 : undefined,
    connectionName: `hxredis:${role}`,
    ...opts.redisOptions,
  });
  // Connection errors reach callers as rejected commands (wrapped in StorageError); without a
  // listener ioredis would also print them as unhandled 'error' events.
  client.on('error', () => undefined);
  return client;
}

/** Connects a client, turning a refused or timed-out connection into one clear error. */
export async function connectClient(client: Redis, url: string): Promise<Redis> {
  try {
    await client.connect();
  } catch (e) {
    client.disconnect();
    throw new StorageError(`Cannot connect to Redis at ${redactUrl(url)}: ${(e as Error).message}`, { cause: e });
  }
  return client;
}

export type CommitPool = genericPool.Pool<Redis>;

export function makeCommitPool(opts: ConnectionOptions): CommitPool {
  const pool = genericPool.createPool<Redis>(
    {
      create: async () => connectClient(makeClient(opts, 'commit', false), opts.url),
      destroy: async (c) => {
        c.disconnect();
      },
      validate: async (c) => c.status === 'ready',
    },
    { max: opts.poolSize ?? 8, min: 0, acquireTimeoutMillis: 10_000 },
  );
  // every waiting acquireCommitConn listens for a create failure: more than 10 concurrent writers
  // waiting for a connection is normal, not a listener leak (Node would warn at 11)
  pool.setMaxListeners(0);
  return pool;
}

/**
 * Borrows a commit connection. generic-pool keeps retrying a failing create until its acquire
 * timeout; with Redis away we want the first connect error instead, at once.
 */
export function acquireCommitConn(pool: CommitPool): Promise<Redis> {
  return new Promise((resolve, reject) => {
    // settled: this caller has its answer; a connection the pool still hands to this request
    // later (its acquire stays queued after a create error) goes straight back to the pool
    let settled = false;
    const onCreateError = (e: unknown) => {
      pool.off('factoryCreateError', onCreateError);
      if (settled) return;
      settled = true;
      reject(e instanceof Error ? e : new Error(String(e)));
    };
    pool.on('factoryCreateError', onCreateError);
    pool.acquire().then(
      (c) => {
        pool.off('factoryCreateError', onCreateError);
        if (settled) {
          void pool.release(c).catch(() => undefined);
          return;
        }
        settled = true;
        // checked here rather than by generic-pool's async testOnBorrow, which costs a hop per commit
        if (c.status !== 'ready') {
          void pool.destroy(c);
          acquireCommitConn(pool).then(resolve, reject);
          return;
        }
        resolve(c);
      },
      (e: unknown) => {
        pool.off('factoryCreateError', onCreateError);
        if (settled) return;
        settled = true;
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/** Wraps an ioredis failure (connection lost, refused, timeout) into a StorageError. */
export function storageError(e: unknown, url: string, what: string): Error {
  if (e instanceof StorageError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new StorageError(`${what} failed: Redis at ${redactUrl(url)}: ${msg}`, { cause: e });
}
