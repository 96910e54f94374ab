// The hxredis CLI as a user runs it: export, import into a fresh folio, export again, equal.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../server/helpers.js';
import { hx, useTempDirs } from './cli-helpers.js';

const dir = useTempDirs();

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

