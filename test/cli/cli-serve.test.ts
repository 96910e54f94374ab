// `hxredis serve` as a user runs it, on a fresh directory; and its refusal of an open bind.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { HGrid, HRef, ZincReader } from 'haystack-core';
import { ROOT, cliArgs, startServe, tempDir } from '../server/helpers.js';

const dirs: string[] = [];
function dir(): string {
  const d = tempDir();
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function hx(args: string[], cwd = ROOT) {
  const r = spawnSync(process.execPath, cliArgs(args), { cwd, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

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

