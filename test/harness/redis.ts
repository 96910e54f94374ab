// Gives each test file a Redis to talk to, in this order of preference:
//   1. REDIS_URL, when set (shared: tests use unique folio names, so they never collide);
//   2. a redis-server process of our own on a free loopback port (clean per file, killed after);
//   3. testcontainers, where a Docker engine answers.
// With none of these the suite fails and says how to get one.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestRedis {
  url: string;
  /** how this Redis was obtained, for test names and skip messages */
  kind: 'env' | 'redis-server' | 'testcontainers' | 'engine';
  stop(): Promise<void>;
}

export const NO_REDIS_HELP =
  'No Redis for the tests: install redis-server (apt-get install -y redis-server), ' +
  'set REDIS_URL=redis://127.0.0.1:6379, or run a Docker engine for testcontainers.';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

let redisServerBin: string | null | undefined;
export function findRedisServer(): string | null {
  if (redisServerBin !== undefined) return redisServerBin;
  const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  redisServerBin = r.status === 0 ? 'redis-server' : null;
  return redisServerBin;
}

/** Resolves once something listens on 127.0.0.1:port (rejects after timeoutMs). */
export function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const sock = connect(port, '127.0.0.1');
      sock.once('connect', () => {
        sock.destroy();
        resolve();
      });
      sock.once('error', () => {
        sock.destroy();
        if (Date.now() > deadline) reject(new Error(`redis-server did not listen on ${port}`));
        else setTimeout(attempt, 20);
      });
    };
    attempt();
  });
}

export interface RedisServerProcess extends TestRedis {
  port: number;
  proc: ChildProcess;
  dir: string;
}

/** Starts a throwaway redis-server on a free loopback port. */
export async function startRedisServer(extraArgs: string[] = []): Promise<RedisServerProcess> {
  const bin = findRedisServer();
  if (!bin) throw new Error(NO_REDIS_HELP);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'hxredis-test-'));
  const proc = spawn(
    bin,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extraArgs],
    { stdio: 'ignore' },
  );
  await waitForPort(port, 10_000);
  return {
    url: `redis://127.0.0.1:${port}`,
    kind: 'redis-server',
    port,
    proc,
    dir,
    stop: async () => {
      // a process killed by a signal has exitCode null but signalCode set: it has exited already
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise<void>((r) => proc.once('exit', () => r()));
        proc.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function dockerAvailable(): Promise<boolean> {
  const r = spawnSync('docker', ['info'], { encoding: 'utf8', timeout: 5000 });
  return r.status === 0;
}

/** The Redis for one test file. */
export async function getTestRedis(): Promise<TestRedis> {
  if (process.env.REDIS_URL) {
    return { url: process.env.REDIS_URL, kind: 'env', stop: async () => {} };
  }
  if (findRedisServer()) return startRedisServer();
  if (await dockerAvailable()) {
    const { GenericContainer } = await import('testcontainers');
    const c = await new GenericContainer('redis:7').withExposedPorts(6379).start();
    return {
      url: `redis://${c.getHost()}:${c.getMappedPort(6379)}`,
      kind: 'testcontainers',
      stop: async () => {
        await c.stop();
      },
    };
  }
  throw new Error(NO_REDIS_HELP);
}

let counter = 0;
/** A folio name no other test (or test process) uses, so tests can share one Redis. */
export function uniqueName(base = 't'): string {
  counter += 1;
  return `${base}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}
