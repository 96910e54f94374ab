// The embedded engine: a Redis-compatible server (RESP2/RESP3) whose data lives in SQLite.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { EngineServer } from './server.js';

export interface EngineOptions {
  /** SQLite file; default ':memory:' */
  path?: string;
  /** TCP port; 0 (default) picks a free one */
  port?: number;
  /** loopback address to bind; default 127.0.0.1 */
  host?: string;
  /** when set, clients must AUTH (user "default") */
  password?: string;
}

export interface EngineHandle {
  url: string;
  port: number;
  stop(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export async function startEngine(opts: EngineOptions = {}): Promise<EngineHandle> {
  const host = opts.host ?? '127.0.0.1';
  // only loopback: the engine has no TLS and a single optional password
  if (!LOOPBACK.has(host)) throw new Error(`engine binds loopback addresses only, not ${host}`);
  const path = opts.path ?? ':memory:';
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  let srv: EngineServer;
  try {
    srv = new EngineServer(path, opts.password);
  } catch (e) {
    // the store holds an exclusive SQLite lock: a second engine on the same file is refused here
    const msg = (e as Error).message;
    if (/locked|busy/i.test(msg)) throw new Error(`engine data file ${path} is in use by another process (${msg})`, { cause: e });
    throw e;
  }
  let port: number;
  try {
    port = await srv.listen(opts.port ?? 0, host);
  } catch (e) {
    srv.store.close();
    throw e;
  }
  const h = host.includes(':') ? `[${host}]` : host;
  let stopped: Promise<void> | null = null;
  return {
    url: `redis://${h}:${port}`,
    port,
    stop: () => (stopped ??= srv.stop()),
  };
}
