// The hxredis CLI as a user runs it: export, import into a fresh folio, export again, equal.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, cliArgs, tempDir } from '../server/helpers.js';

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

const DEMO = join(ROOT, 'data/carytown/carytown.zinc');

describe('export and import round trip', () => {
  it.each(['zinc', 'trio', 'json'])('%s: export, import into a fresh folio, export again: equal', (format) => {
    const d = dir();
    expect(hx(['import', '--data', join(d, 'a'), DEMO]).code).toBe(0);
    const e1 = join(d, `one.${format}`);
    const e2 = join(d, `two.${format}`);
    expect(hx(['export', '--data', join(d, 'a'), '--format', format, '-o', e1]).code).toBe(0);
    const imp = hx(['import', '--data', join(d, 'b'), e1]);
    expect(imp.code, imp.err).toBe(0);
    expect(imp.out).toMatch(/imported 24 records/);
    expect(hx(['export', '--data', join(d, 'b'), '--format', format, '-o', e2]).code).toBe(0);
    expect(readFileSync(e2, 'utf8')).toBe(readFileSync(e1, 'utf8'));
    if (format === 'zinc') {
      const text = readFileSync(e1, 'utf8');
      expect(text).toContain('@p_demo_r_23a44701-a89a6c66 "Carytown"');
      expect(text).not.toMatch(/\bmod\b/);
    }
  });

  it('export --filter', () => {
    const d = dir();
    expect(hx(['import', '--data', d, DEMO]).code).toBe(0);
    const r = hx(['export', '--data', d, '--filter', 'site', '--format', 'json']);
    expect(r.code).toBe(0);
    const g = JSON.parse(r.out);
    expect(g.rows).toHaveLength(1);
    expect(g.rows[0].dis).toBe('Carytown');
  });
});

