// Key layout 1 -> 2 (history keys lose the folio name's first copy): a folio written under layout
// 1 opens with its history renamed and readable, nothing overwritten, and a point holding keys
// under both names stops the open with an error naming them.
import { beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { HStr, type HRef } from 'haystack-core';
import { LoadError } from '../../src/index.js';
import { freshFolio, useFolio } from '../harness/folio.js';
import { hisBackends } from './hisBackends.js';
import { addPoint, item, num, show, T0, H } from './his-helpers.js';

/** Renames every layout 2 history key of folio `name` to its layout 1 name and sets meta to 1. */
async function downgrade(r: Redis, name: string): Promise<string[]> {
  const keys = await r.keys(`hxhis:\\{${name}:*`);
  for (const k of keys) await r.rename(k, `hxhis:${name}:{${name}:${k.slice(`hxhis:{${name}:`.length)}`);
  await r.hset(`{hx:${name}}:meta`, 'layout', '1');
  return keys;
}

/** Runs `fn` with a plain client on `url`. */
async function withRedis<T>(url: string, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis(url);
  try {
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

/** The LoadError an open fails with, checked to name `text`. */
async function openError(open: Promise<unknown>, text: string): Promise<void> {
  const err = await open.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(LoadError);
  expect(String((err as Error).message)).toContain(text);
}

for (const hb of hisBackends()) {
  describe.skipIf(!hb.backend.available)(`[${hb.label}] key layout 1 -> 2`, () => {
    const ctx = useFolio(hb.backend);
    beforeEach(async () => {
      await freshFolio(ctx);
    });

    it('a layout 1 folio opens with its history renamed, readable and writable', async () => {
      const f = ctx.folio;
      const n = (await addPoint(f)).get('id') as HRef;
      const s = (await addPoint(f, { kind: 'Str' })).get('id') as HRef;
      await f.his.write(n, [item(T0, num(1)), item(T0 + H, num(2))]);
      await f.his.write(s, [item(T0, HStr.make('a'))]);
      const before = { n: show(await f.his.read(n)), s: show(await f.his.read(s)), layout: await f.his.layoutOf(n) };
      const r = new Redis(ctx.url);
      try {
        const v2keys = (await downgrade(r, f.name)).sort();
        expect(v2keys.length).toBeGreaterThanOrEqual(4); // meta + samples of each point
        expect(await r.keys(`hxhis:\\{${f.name}:*`)).toEqual([]);

        const logs: string[] = [];
        const g = await ctx.reopen(f, { log: (msg: string) => logs.push(msg) });
        expect(logs.some((l) => l.includes('key layout 1 -> 2') && l.includes(`${v2keys.length} history keys`))).toBe(true);
        expect(await r.hget(`{hx:${f.name}}:meta`, 'layout')).toBe('2');
        expect((await r.keys(`hxhis:\\{${f.name}:*`)).sort()).toEqual(v2keys);
        expect(await r.keys(`hxhis:${f.name}:*`)).toEqual([]);
        expect(show(await g.his.read(n))).toEqual(before.n);
        expect(show(await g.his.read(s))).toEqual(before.s);
        expect(await g.his.layoutOf(n)).toBe(before.layout);
        await g.his.write(n, [item(T0 + 2 * H, num(3))]);
        expect(show(await g.his.read(n))).toEqual([...before.n, '7200000=3']);
      } finally {
        r.disconnect();
      }
    });

    /** A point with one sample, then the folio turned back into layout 1; its layout 2 key names. */
    async function layout1Folio(r: Redis): Promise<string[]> {
      const n = (await addPoint(ctx.folio)).get('id') as HRef;
      await ctx.folio.his.write(n, [item(T0, num(1))]);
      return downgrade(r, ctx.folio.name);
    }

    it('a point with keys under both names stops the open, naming them; nothing is overwritten', async () => {
      const name = ctx.folio.name;
      await withRedis(ctx.url, async (r) => {
        const meta = (await layout1Folio(r)).find((k) => k.endsWith(':m')) as string;
        await r.hset(meta, 'layout', 'zset'); // a stray layout 2 key next to its layout 1 twin
        await openError(ctx.reopen(), meta);
        expect(await r.hget(`{hx:${name}}:meta`, 'layout')).toBe('1');
        expect(await r.hget(meta, 'layout')).toBe('zset');
        expect(await r.hget(`hxhis:${name}:{${name}:${meta.slice(`hxhis:{${name}:`.length)}`, 'layout')).toBe(hb.expect === 'timeseries' ? 'ts' : 'zset');
      });
    });

    it('a replica open does not migrate: it asks for one writable open first', async () => {
      const name = ctx.folio.name;
      await withRedis(ctx.url, async (r) => {
        const v2keys = await layout1Folio(r);
        await openError(ctx.reopen(undefined, { replica: true }), 'without replica');
        expect(await r.hget(`{hx:${name}}:meta`, 'layout')).toBe('1');
        expect(await r.keys(`hxhis:\\{${name}:*`)).toEqual([]);
        expect((await r.keys(`hxhis:${name}:*`)).length).toBe(v2keys.length);
      });
    });

    it('a folio from a newer layout is refused, untouched', async () => {
      const name = ctx.folio.name;
      await withRedis(ctx.url, async (r) => {
        await r.hset(`{hx:${name}}:meta`, 'layout', '9');
        await openError(ctx.reopen(), 'has key layout 9');
        expect(await r.hget(`{hx:${name}}:meta`, 'layout')).toBe('9');
      });
    });
  });
}
