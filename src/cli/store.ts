// Opening the folio a command works on: a Redis URL, or the embedded engine in a data directory.
import { mkdirSync, readFileSync, existsSync } from 'node:fs';
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
  if (url) {
    where = url.replace(/\/\/[^@/]*@/, '//***@');
  } else {
    const dir = resolve(opts.data);
    const file = join(dir, 'engine.sqlite');
    fresh = !existsSync(file);
    mkdirSync(dir, { recursive: true });
    try {
      engine = await startEngine({ path: file, port: 0 });
    } catch (e) {
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
    },
  };
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
