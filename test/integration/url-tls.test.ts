// Connection URLs a user gives: `redis://user:pass@host:port/db` (an ACL user, a database other
// than 0) and `rediss://` (TLS, with the CA passed through as an ioredis option).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { HDateTime, HMarker, HNum, type HDict, type HRef } from 'haystack-core';
import { Diff, RedisFolio, StorageError } from '../../src/index.js';
import { FolioKeys } from '../../src/storage/keys.js';
import { findRedisServer, freePort, waitForPort } from '../harness/redis.js';

const haveOpenssl = spawnSync('openssl', ['version']).status === 0;


describe.skipIf(!findRedisServer() || !haveOpenssl)('[redis] URLs: ACL user, database, TLS', () => {
  let dir: string;
  let proc: ChildProcess;
  let port: number;
  let tlsPort: number;
  let ca: Buffer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hxredis-tls-'));
    const r = spawnSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ]);
    if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
    ca = readFileSync(join(dir, 'cert.pem'));
    port = await freePort();
    tlsPort = await freePort();
    proc = spawn(
      'redis-server',
      [
        '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
        '--tls-port', String(tlsPort), '--tls-cert-file', join(dir, 'cert.pem'), '--tls-key-file', join(dir, 'key.pem'),
        '--tls-ca-cert-file', join(dir, 'cert.pem'), '--tls-auth-clients', 'no',
        '--user', 'app', 'on', '>s3cret', '~*', '&*', '+@all',
      ],
      { stdio: 'ignore' },
    );
    await waitForPort(port);
    await waitForPort(tlsPort);
  });
  afterAll(() => {
    proc?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('redis://user:pass@host:port/db: authenticates as the ACL user and keeps to that database', async () => {
    const url = `redis://app:s3cret@127.0.0.1:${port}/3`;
    const folio = await RedisFolio.open({ url, name: 'acl' });
    await folio.commit(Diff.makeAdd({ dis: 'in db 3', n: HNum.make(1) }));
    await folio.close();
    const admin = new Redis({ port, host: '127.0.0.1', username: 'app', password: 's3cret', db: 3 });
    const db0 = new Redis({ port, host: '127.0.0.1', username: 'app', password: 's3cret', db: 0 });
    try {
      expect(await admin.scard(new FolioKeys('acl').all)).toBe(1);
      expect(await db0.scard(new FolioKeys('acl').all)).toBe(0);
    } finally {
      admin.disconnect();
      db0.disconnect();
    }
    const wrong = await RedisFolio.open({ url: `redis://app:wrong@127.0.0.1:${port}/3`, name: 'acl' }).catch((e: Error) => e);
    expect(wrong).toBeInstanceOf(StorageError);
    expect((wrong as Error).message).toContain('redis://app:***@127.0.0.1');
  });

  it('rediss://: TLS with the CA passed through as an ioredis option; history over TLS too', async () => {
    const url = `rediss://127.0.0.1:${tlsPort}`;
    const folio = await RedisFolio.open({ url, name: 'tls', redisOptions: { tls: { ca } } });
    try {
      const rec = (await folio.commit(Diff.makeAdd({ dis: 'over TLS', n: HNum.make(2) }))).newRec;
      expect(rec?.get('dis')?.toString()).toBe('over TLS');
      expect(await folio.readCount('n == 2')).toBe(1);
      expect(await folio.curVer()).toBe(1);
      const point = (await folio.commit(
        Diff.makeAdd({ dis: 'P', point: HMarker.make(), his: HMarker.make(), kind: 'Number', tz: 'UTC' }),
      )).newRec as HDict;
      const ts = HDateTime.make('2024-01-01T00:00:00Z UTC');
      await folio.his.write(point.get('id') as HRef, [{ ts, val: HNum.make(5) }]);
      const items = await folio.his.read(point.get('id') as HRef);
      expect(items.map((i) => (i.val as HNum).value)).toEqual([5]);
    } finally {
      await folio.close();
    }
    // without the CA the self-signed certificate is refused: a clear error, not a hang
    const refused = await RedisFolio.open({ url, name: 'tls', redisOptions: { connectTimeout: 3000, retryStrategy: () => null } }).catch((e: Error) => e);
    expect(refused).toBeInstanceOf(StorageError);
  });
});
