// The hxredis CLI as a user runs it (its own process, from source through tsx): help and exit
// codes, all-or-nothing import.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HGrid, ZincReader } from 'haystack-core';
import { ROOT, cliArgs } from '../server/helpers.js';
import { hx, useTempDirs } from './cli-helpers.js';

const dir = useTempDirs();

function hxAsync(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, cliArgs(args), { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.on('error', reject);
    p.on('exit', (code) => resolve({ code, out }));
  });
}


describe('help and exit codes', () => {
  it('--help on every command exits 0; no command or a bad one exits 2', async () => {
    const cmds = [[], ['serve'], ['import'], ['export'], ['his', 'import'], ['engine'], ['bench']];
    const results = await Promise.all(cmds.map((cmd) => hxAsync([...cmd, '--help'])));
    results.forEach((r, i) => {
      expect(r.code, cmds[i]?.join(' ')).toBe(0);
      expect(r.out).toMatch(/usage: hxredis/);
    });
    expect(hx([]).code).toBe(2);
    const bad = hx(['frobnicate']);
    expect(bad.code).toBe(2);
    expect(bad.err.trim().split('\n')).toHaveLength(1);
    const opt = hx(['export', '--bogus']);
    expect(opt.code).toBe(2);
    expect(opt.err).toMatch(/bogus/);
    expect(hx(['import']).code).toBe(2);
  });

  it('a failure exits 1 with the cause on one line', () => {
    const r = hx(['import', '--data', dir(), '/nonexistent/file.zinc']);
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/file\.zinc.*cannot read.*ENOENT/);
  });
});


describe('import', () => {
  it('all or nothing: one bad row in one of the files means nothing is written', () => {
    const d = dir();
    const good = join(d, 'good.zinc');
    const bad = join(d, 'bad.trio');
    writeFileSync(good, 'ver:"3.0"\nid,dis,site\n@s1,"S1",M\n@s2,"S2",M\n');
    writeFileSync(bad, 'id: @a1\ndis: "fine"\n---\nid: @a2\ndis: "also fine"\n---\nid: @a3\nhisStart: 2020-01-01T00:00:00Z UTC\ndis: "fine too"\n---\nid: @a4\nBadTag: 1\n');
    const r = hx(['import', '--data', join(d, 'db'), good, bad]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bad\.trio: row 4 \(line 12\): .*BadTag/);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    const exp = hx(['export', '--data', join(d, 'db')]);
    expect(exp.code).toBe(0);
    expect((ZincReader.readValue(exp.out) as HGrid).length).toBe(0);
    // with the bad row fixed, everything goes in
    writeFileSync(bad, readFileSync(bad, 'utf8').replace('BadTag', 'goodTag'));
    const ok = hx(['import', '--data', join(d, 'db'), good, bad]);
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toMatch(/imported 6 records/);
    // importing the same ids again is refused (and names the row), unless --upsert
    const again = hx(['import', '--data', join(d, 'db'), good]);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/good\.zinc: row 1 .*@s1 already exists/);
    expect(hx(['import', '--data', join(d, 'db'), '--upsert', good]).code).toBe(0);
  });

  it('a bad Zinc row is located by line', () => {
    const d = dir();
    const f = join(d, 'x.zinc');
    writeFileSync(f, 'ver:"3.0"\nid,dis\n@a,"A"\n@b,"B\n@c,"C"\n');
    const r = hx(['import', '--data', join(d, 'db'), f]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/x\.zinc: row 2 \(line 4\): invalid Zinc/);
  });
});
