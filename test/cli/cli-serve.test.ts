// `hxredis serve` as a user runs it, on a fresh directory, and its refusal of an open bind;
// `hxredis his import` and `hxredis engine`.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { join } from 'node:path';
import { HGrid, HRef, ZincReader } from 'haystack-core';
import { ROOT, cliArgs, startServe } from '../server/helpers.js';
import { hx, useTempDirs } from './cli-helpers.js';

const dir = useTempDirs();

describe('serve', () => {
  it('on a fresh directory: creates it, loads the demo, answers about and read; SIGTERM stops it cleanly', async () => {
    const cwd = dir();
    const s = await startServe([], { dir: cwd });
    try {
      expect(existsSync(join(cwd, 'hxredis-data', 'engine.sqlite'))).toBe(true);
      expect(s.stdout()).toMatch(/curl .*\/api\/demo\/about/);
      const about = ZincReader.readValue(await (await fetch(`${s.api}/about`)).text()) as HGrid;
      expect(about.getRows()[0]?.get('productName')?.toString()).toBe('hxredis');
      const sites = ZincReader.readValue(await (await fetch(`${s.api}/read?filter=site`)).text()) as HGrid;
      expect(sites.getRows().map((r) => (r.get('id') as HRef).value)).toEqual(['p_demo_r_23a44701-a89a6c66']);
      const points = ZincReader.readValue(await (await fetch(`${s.api}/read?filter=point%20and%20his`)).text()) as HGrid;
      expect(points.length).toBeGreaterThan(10);
      expect(s.stderr()).toMatch(/24 records, \d+ history items/);
      // one process per engine data directory
      const other = hx(['export', '--data', join(cwd, 'hxredis-data')]);
      expect(other.code).toBe(1);
      expect(other.err).toMatch(/in use by hxredis process/);
    } finally {
      expect(await s.stop()).toBe(0);
    }
    // a second start finds the data and does not load the demo again
    const again = await startServe([], { dir: cwd });
    try {
      expect(again.stderr()).not.toMatch(/loading the Carytown demo/);
      const sites = ZincReader.readValue(await (await fetch(`${again.api}/read?filter=site`)).text()) as HGrid;
      expect(sites.length).toBe(1);
    } finally {
      expect(await again.stop()).toBe(0);
    }
  });

  it('refuses a non-loopback bind without a token (exit 2)', () => {
    const r = hx(['serve', '--host', '0.0.0.0', '--data', dir()]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/token/);
  });
});

const DEMO = join(ROOT, 'data/carytown/carytown.zinc');

describe('his import', () => {
  it('imports Carytown history grids, converting to the point tz; a file with no point fails', () => {
    const d = dir();
    expect(hx(['import', '--data', d, DEMO]).code).toBe(0);
    const f = join(ROOT, 'data/carytown/p_demo_r_23a44701-3940e690.zinc');
    const r = hx(['his', 'import', '--data', d, f]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/imported 6 history items from 1 file/);
    const orphan = join(d, 'orphan.zinc');
    writeFileSync(orphan, 'ver:"3.0"\nts,val\n2020-01-01T00:00:00Z UTC,1\n');
    const bad = hx(['his', 'import', '--data', d, orphan]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/orphan\.zinc: no point/);
  });
});


describe('engine', () => {
  it('runs the embedded engine standalone and prints its URL', async () => {
    const proc = spawn(process.execPath, cliArgs(['engine', '--memory', '--port', '0']), { cwd: dir(), stdio: ['ignore', 'pipe', 'pipe'] });
    const url = await new Promise<string>((res, rej) => {
      let out = '';
      proc.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /redis:\/\/\S+/.exec(out);
        if (m) res(m[0]);
      });
      proc.on('exit', (c) => rej(new Error(`engine exited ${c}`)));
    });
    const r = new Redis(url);
    try {
      expect(await r.ping()).toBe('PONG');
    } finally {
      r.disconnect();
    }
    const exited = new Promise<number | null>((res) => proc.once('exit', (c) => res(c)));
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
