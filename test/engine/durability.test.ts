// Durability: an engine child process acknowledges writes, is killed with SIGKILL mid-stream,
// the store is reopened, and every acknowledged write is there.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { startEngine } from '../../src/engine/index.js';
import { RawClient, type Reply } from './helpers.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function startChild(dir: string): Promise<{ port: number; kill: () => Promise<void> }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/engine/main.ts', '--data', dir, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /redis:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        resolve({
          port: Number(m[1]),
          kill: () =>
            new Promise<void>((r) => {
              proc.once('exit', () => r());
              proc.kill('SIGKILL');
            }),
        });
      }
    });
    proc.once('exit', (code) => reject(new Error(`engine child exited early (${code})`)));
  });
}

describe('durability', () => {
  it('every acknowledged write survives SIGKILL of the engine process', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hxredis-engine-dur-'));
    dirs.push(dir);
    const child = await startChild(dir);
    const cl = await RawClient.connect(child.port);
    expect(await cl.call('TS.CREATE', 'series', 'DUPLICATE_POLICY', 'LAST')).toEqual({ t: '+', v: 'OK' });
    const acked: number[] = [];
    let killed = false;
    // writers keep pipelining batches; the kill lands while batches are in flight
    // one listener for the whole loop (a `once` per batch piled up past Node's listener warning)
    const closed = new Promise<never>((_, rej) => cl.sock.once('close', () => rej(new Error('closed'))));
    closed.catch(() => undefined);
    const writer = (async () => {
      for (let batch = 0; !killed; batch++) {
        const cmds: Array<Array<string | number>> = [];
        for (let i = 0; i < 50; i++) {
          const n = batch * 50 + i;
          if (i % 10 === 9) cmds.push(['MULTI'], ['SET', `tx:${n}`, n], ['HSET', 'txh', `f${n}`, n], ['EXEC']);
          else cmds.push(['SET', `k:${n}`, n], ['ZADD', 'z', n, `m${n}`], ['TS.MADD', 'series', n, n]);
        }
        let replies: Reply[];
        try {
          replies = await Promise.race([cl.pipeline(cmds), closed]);
        } catch {
          return;
        }
        for (let i = 0; i < 50; i++) acked.push(batch * 50 + i);
        void replies;
      }
    })();
    await new Promise((r) => setTimeout(r, 700));
    await child.kill();
    killed = true;
    await writer;
    cl.close();
    expect(acked.length).toBeGreaterThan(100);

    const eng = await startEngine({ path: join(dir, 'engine.sqlite') });
    const c2 = await RawClient.connect(eng.port);
    try {
      const checks: Array<Array<string | number>> = [];
      for (const n of acked) {
        if (n % 10 === 9) checks.push(['GET', `tx:${n}`], ['HGET', 'txh', `f${n}`]);
        else checks.push(['GET', `k:${n}`], ['ZSCORE', 'z', `m${n}`], ['TS.RANGE', 'series', n, n]);
      }
      const res = await c2.pipeline(checks);
      let j = 0;
      for (const n of acked) {
        if (n % 10 === 9) {
          expect(res[j++]).toEqual({ t: '$', v: String(n) });
          expect(res[j++]).toEqual({ t: '$', v: String(n) });
        } else {
          expect(res[j++]).toEqual({ t: '$', v: String(n) });
          expect(res[j++]).toEqual({ t: '$', v: String(n) });
          expect(res[j++]).toEqual({ t: '*', v: [{ t: '*', v: [{ t: ':', v: String(n) }, { t: '$', v: String(n) }] }] });
        }
      }
      // the store is consistent: counts agree with what is stored
      const zcard = (await c2.call('ZCARD', 'z')) as { v: string };
      expect(Number(zcard.v)).toBeGreaterThanOrEqual(acked.filter((n) => n % 10 !== 9).length);
    } finally {
      c2.close();
      await eng.stop();
    }
  });
});

describe('one engine per data file', () => {
  it('a second engine on the same SQLite file is refused with a clear error, and may open it once the first stops', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hxredis-lock-'));
    const path = join(dir, 'engine.db');
    try {
      const first = await startEngine({ path });
      try {
        await expect(startEngine({ path })).rejects.toThrow(`engine data file ${path} is in use by another process`);
      } finally {
        await first.stop();
      }
      const again = await startEngine({ path });
      await again.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('key rows', () => {
  it('a file holding two rows for one key (no SQLite index enforces it) opens with the newer row only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hxredis-dup-'));
    const path = join(dir, 'engine.sqlite');
    try {
      const first = await startEngine({ path });
      const c = await RawClient.connect(first.port);
      await c.pipeline([['SET', 'k', 'old'], ['ZADD', 'z', 1, 'a'], ['SET', 'other', 'x']]);
      c.close();
      await first.stop();
      // forge the duplicate the in-memory index normally prevents: a newer row for `k`, and an
      // older row for `z` (its members must go with it, the newer zset row keeps its own)
      const db = new Database(path);
      const ids = db.prepare('SELECT id, key FROM keys').all() as Array<{ id: number; key: Buffer }>;
      const idOf = (k: string) => ids.find((r) => r.key.toString() === k)?.id as number;
      db.prepare('INSERT INTO keys (id, db, key, type, exp, val) VALUES (?, 0, ?, 1, 0, ?)').run(100, Buffer.from('k'), Buffer.from('new'));
      db.prepare('INSERT INTO keys (id, db, key, type, exp, val) VALUES (?, 0, ?, 4, 0, NULL)').run(200, Buffer.from('z'));
      db.prepare('INSERT INTO zset (kid, member, score) VALUES (200, ?, 2)').run(Buffer.from('b'));
      db.close();
      const again = await startEngine({ path });
      const c2 = await RawClient.connect(again.port);
      try {
        expect(await c2.call('GET', 'k')).toEqual({ t: '$', v: 'new' });
        expect(await c2.call('DBSIZE')).toEqual({ t: ':', v: '3' });
        expect(await c2.call('ZRANGE', 'z', 0, -1)).toEqual({ t: '*', v: [{ t: '$', v: 'b' }] });
        expect(await c2.call('GET', 'other')).toEqual({ t: '$', v: 'x' });
      } finally {
        c2.close();
        await again.stop();
      }
      const check = new Database(path, { readonly: true });
      expect(check.prepare('SELECT count(*) FROM keys WHERE key = ?').pluck().get(Buffer.from('k'))).toBe(1);
      expect(check.prepare('SELECT count(*) FROM zset WHERE kid = ?').pluck().get(idOf('z'))).toBe(0);
      check.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
