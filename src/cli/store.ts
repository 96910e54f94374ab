// Opening the folio a command works on: a Redis URL, or the embedded engine in a data directory.
import { mkdirSync, readFileSync, existsSync, writeFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RedisFolio } from '../folio/RedisFolio.js';
import { startEngine, type EngineHandle } from '../engine/index.js';

export interface StoreOptions {
  redis?: string;
  data: string;
  name: string;
  idPrefix?: string;
}

export interface Store {
  folio: RedisFolio;
  engine?: EngineHandle;
  /** where the data lives, for messages */
  where: string;
  fresh: boolean;
  close(): Promise<void>;
}

export async function openStore(opts: StoreOptions): Promise<Store> {
  let engine: EngineHandle | undefined;
  let url = opts.redis;
  let fresh = false;
  let where: string;
  let unlock = () => {};
  if (url) {
    where = url.replace(/\/\/[^@/]*@/, '//***@');
  } else {
    const dir = resolve(opts.data);
    const file = join(dir, 'engine.sqlite');
    fresh = !existsSync(file);
    mkdirSync(dir, { recursive: true });
    unlock = lockDir(dir);
    try {
      engine = await startEngine({ path: file, port: 0 });
    } catch (e) {
      unlock();
      const msg = (e as Error).message;
      if (/lock|busy/i.test(msg)) throw new Error(`${dir} is in use by another hxredis process (stop it, or use --redis): ${msg}`);
      throw e;
    }
    url = engine.url;
    where = opts.data;
  }
  let folio: RedisFolio;
  try {
    folio = await RedisFolio.open({ url, name: opts.name, idPrefix: opts.idPrefix });
  } catch (e) {
    await engine?.stop();
    unlock();
    throw e;
  }
  return {
    folio,
    engine,
    where,
    fresh,
    close: async () => {
      await folio.close().catch(() => undefined);
      await engine?.stop();
      unlock();
    },
  };
}

/**
 * One process per engine data directory: two engines on one SQLite file would each keep their own
 * in-memory key map. A pid file marks the owner; a stale one (dead pid) is taken over.
 */
function lockDir(dir: string): () => void {
  const pidFile = join(dir, 'hxredis.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(pidFile, `${process.pid}\n`, { flag: 'wx' });
      return () => rmSync(pidFile, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      if (pid > 0 && pid !== process.pid && alive(pid)) {
        throw new Error(`${dir} is in use by hxredis process ${pid} (stop it first, or use --redis or another --data)`);
      }
      rmSync(pidFile, { force: true });
    }
  }
  throw new Error(`cannot lock ${dir}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The package root (the folder with package.json), from this module's location in src/ or dist/src/. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('cannot find the hxredis package root');
}

export function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

export function demoDir(): string {
  return join(packageRoot(), 'data', 'carytown');
}
