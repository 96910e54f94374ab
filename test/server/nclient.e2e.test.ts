// End to end: haystack-nclient 4.0.4 (a real Haystack client) against a running `hxredis serve`
// on a fresh data directory (embedded engine, Carytown demo loaded on first start).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, CommitType, HisRange } from 'haystack-nclient';
import { HDate, HDateTime, HDict, HMarker, HNum, HRef, HStr, type HGrid } from 'haystack-core';
import { startServe, type RunningServe } from './helpers.js';

const SITE = 'p_demo_r_23a44701-a89a6c66';
const RTU = 'p_demo_r_23a44701-7265b064'; // equip "Carytown RTU-1"
const KW = 'p_demo_r_23a44701-3940e690'; // ElecMeter-Main kW, his, New_York

let serve: RunningServe;
let client: Client;

beforeAll(async () => {
  serve = await startServe([]);
  client = new Client({ base: new URL(serve.url), project: 'demo' });
});

afterAll(async () => {
  expect(await serve.stop()).toBe(0);
});

const ids = (g: HGrid) => g.getRows().map((r) => (r.get('id') as HRef | undefined)?.value);

describe('haystack-nclient against hxredis serve', () => {
  it('about', async () => {
    const row = (await client.ops.about()).getRows()[0] as HDict;
    expect(row.get('productName')?.toString()).toBe('hxredis');
    expect(row.get('haystackVersion')?.toString()).toBe('4.0');
    expect(row.get('serverTime')).toBeInstanceOf(HDateTime);
  });

  it('ops and formats', async () => {
    const ops = (await client.ops.ops()).getRows().map((r) => r.get('name')?.toString());
    expect(ops).toEqual(expect.arrayContaining(['about', 'read', 'nav', 'hisRead', 'hisWrite', 'pointWrite', 'watchSub', 'watchPoll', 'watchUnsub', 'commit']));
    const mimes = (await client.ops.formats()).getRows().map((r) => r.get('mime')?.toString());
    expect(mimes).toContain('text/zinc');
  });

  it('read by filter, with limit, keeps ref display names', async () => {
    const sites = await client.ops.read('site');
    expect(ids(sites)).toEqual([SITE]);
    expect((sites.getRows()[0]?.get('id') as HRef).dis).toBe('Carytown');
    const pts = await client.ops.read('point and siteRef==@' + SITE, 3);
    expect(pts.length).toBe(3);
    for (const p of pts.getRows()) expect((p.get('siteRef') as HRef).dis).toBe('Carytown');
    const all = await client.ops.read('point');
    expect(all.length).toBeGreaterThan(10);
  });

  it('read by ids, a missing id gives an empty row', async () => {
    const g = await client.ops.read([SITE, RTU, 'missing-id']);
    expect(g.length).toBe(3);
    expect(ids(g).slice(0, 2)).toEqual([SITE, RTU]);
    expect(g.getRows()[2]?.get('id')).toBeFalsy();
  });

  it('a bad filter is a GridError from the server', async () => {
    await expect(client.ops.read('site and')).rejects.toThrow(/Invalid filter/);
  });

  it('nav: site, equip, point tree', async () => {
    const root = await client.ops.nav();
    expect(ids(root)).toEqual([SITE]);
    const navId = root.getRows()[0]?.get('navId') as HRef;
    expect(navId.value).toBe(SITE);
    const equips = await client.ops.nav(navId);
    expect(ids(equips)).toContain(RTU);
    expect(equips.getRows().every((r) => r.has('equip') || r.has('point'))).toBe(true);
    const points = await client.ops.nav(HRef.make(RTU));
    expect(points.length).toBeGreaterThan(0);
    for (const p of points.getRows()) {
      expect(p.has('point')).toBe(true);
      expect((p.get('equipRef') as HRef).value).toBe(RTU);
    }
  });

  it('hisRead: a date, two dates, two dateTimes, a dateTime to now', async () => {
    // the demo history: monthly samples at 00:00 UTC, i.e. 20:00 New_York the day before
    const oneDay = await client.ops.hisRead(KW, HDate.make('2020-08-31'));
    expect(oneDay.length).toBe(1);
    const ts = oneDay.getRows()[0]?.get('ts') as HDateTime;
    expect(ts.timezone).toBe('New_York');
    expect(ts.toZinc()).toBe('2020-08-31T20:00:00-04:00 New_York');
    expect((oneDay.getRows()[0]?.get('val') as HNum).unit?.symbol).toBe('kW');

    const dates = await client.ops.hisRead(KW, [HDate.make('2020-07-01'), HDate.make('2020-10-31')]);
    expect(dates.length).toBe(4);
    expect((dates.meta.get('id') as HRef).value).toBe(KW);

    const dts = await client.ops.hisRead(KW, [
      HDateTime.make('2020-08-01T00:00:00Z UTC'),
      HDateTime.make('2020-10-01T00:00:00Z UTC'),
    ]);
    expect(dts.length).toBe(2); // Aug 1 and Sep 1 (end exclusive)

    const toNow = await client.ops.hisRead(KW, HDateTime.make('2020-11-15T00:00:00-05:00 New_York'));
    expect(toNow.length).toBe(1); // Dec 1
  });

  it('commit add, update, remove (ext.commit)', async () => {
    const added = await client.ext.commit(CommitType.Add, [
      HDict.make({ dis: 'E2E Zone Temp', point: HMarker.make(), his: HMarker.make(), kind: 'Number', unit: '°F', tz: 'New_York', siteRef: HRef.make(SITE) }),
    ]);
    const rec = added.getRows()[0] as HDict;
    const id = rec.get('id') as HRef;
    expect(rec.get('dis')?.toString()).toBe('E2E Zone Temp');
    expect((rec.get('siteRef') as HRef).dis).toBe('Carytown');
    const upd = await client.ext.commit(CommitType.Update, [HDict.make({ id, mod: rec.get('mod') as HDateTime, dis: 'E2E Renamed' })]);
    expect(upd.getRows()[0]?.get('dis')?.toString()).toBe('E2E Renamed');
    // a stale mod is refused
    await expect(client.ext.commit(CommitType.Update, [HDict.make({ id, mod: rec.get('mod') as HDateTime, dis: 'x' })])).rejects.toThrow(/!=/);
    expect(ids(await client.ops.read('dis=="E2E Renamed"'))).toEqual([id.value]);
    await client.ext.commit(CommitType.Remove, [HDict.make({ id, mod: upd.getRows()[0]?.get('mod') as HDateTime })]);
    expect((await client.ops.read([id.value])).getRows()[0]?.get('id')).toBeFalsy();
  });

  it('hisWrite then hisRead today and yesterday', async () => {
    const added = await client.ext.commit(CommitType.Add, [
      HDict.make({ dis: 'E2E His', point: HMarker.make(), his: HMarker.make(), kind: 'Number', unit: 'kW', tz: 'New_York' }),
    ]);
    const id = (added.getRows()[0]?.get('id') as HRef).value;
    const now = Date.now();
    const t = (msAgo: number) => HDateTime.make(new Date(Math.floor((now - msAgo) / 1000) * 1000));
    // UTC timestamps: the server converts them to the point's tz
    await client.ops.hisWrite(id, [
      HDict.make({ ts: t(26 * 3600_000), val: HNum.make(1, 'kW') }),
      HDict.make({ ts: t(1000), val: HNum.make(2, 'kW') }),
    ]);
    const today = await client.ops.hisRead(id, HisRange.Today);
    const yesterday = await client.ops.hisRead(id, HisRange.Yesterday);
    const vals = (g: HGrid) => g.getRows().map((r) => (r.get('val') as HNum).value);
    expect(vals(today)).toContain(2);
    expect((today.getRows()[0]?.get('ts') as HDateTime).timezone).toBe('New_York');
    // 26 hours ago is yesterday or the day before in New_York; 1 s ago is today
    expect(vals(yesterday)).not.toContain(2);
    // a wrongly typed value is refused with an error grid
    await expect(client.ops.hisWrite(id, [HDict.make({ ts: t(0), val: HStr.make('x') })])).rejects.toThrow(/Mismatched value type|kind/i);
  });

  it('pointWrite: write levels, read the priority array, release', async () => {
    const added = await client.ext.commit(CommitType.Add, [
      HDict.make({ dis: 'E2E SP', point: HMarker.make(), writable: HMarker.make(), kind: 'Number', unit: '°F' }),
    ]);
    const id = (added.getRows()[0]?.get('id') as HRef).value;
    let arr = await client.ops.pointWrite({ id, level: 8, val: HNum.make(72, '°F'), who: 'e2e' });
    expect(arr.length).toBe(17);
    expect((arr.getRows()[7]?.get('val') as HNum).value).toBe(72);
    expect(arr.getRows()[7]?.get('who')?.toString()).toBe('e2e');
    await client.ops.pointWrite({ id, level: 16, val: HNum.make(68, '°F') });
    let rec = (await client.ops.read([id])).getRows()[0] as HDict;
    expect((rec.get('writeVal') as HNum).value).toBe(72);
    expect((rec.get('writeLevel') as HNum).value).toBe(8);
    arr = await client.ops.pointRead(id);
    expect((arr.getRows()[15]?.get('val') as HNum).value).toBe(68);
    await client.ops.pointWrite({ id, level: 8 }); // release
    rec = (await client.ops.read([id])).getRows()[0] as HDict;
    expect((rec.get('writeVal') as HNum).value).toBe(68);
    expect((rec.get('writeLevel') as HNum).value).toBe(16);
    await expect(client.ops.pointWrite({ id, level: 18, val: HNum.make(1) })).rejects.toThrow(/level/);
    await expect(client.ops.pointWrite({ id, level: 9, val: HStr.make('x') })).rejects.toThrow(/kind/);
  });

  it('watch: subscribe, poll (only changes), change, poll, unsubscribe', async () => {
    const added = await client.ext.commit(CommitType.Add, [
      HDict.make({ dis: 'E2E Watched', point: HMarker.make(), writable: HMarker.make(), kind: 'Number' }),
    ]);
    const id = (added.getRows()[0]?.get('id') as HRef).value;
    const watch = await client.ops.watch.make('e2e watch', [id, SITE]);
    expect(watch.grid.length).toBe(2);
    const changed: string[] = [];
    watch.changed({ callback: (e) => changed.push(...Object.keys((e as unknown as { ids: Record<string, unknown> }).ids ?? {})) });
    await watch.poll();
    expect(changed).toEqual([]); // nothing changed since the subscribe
    await client.ops.pointWrite({ id, level: 10, val: HNum.make(5) });
    await watch.poll();
    expect(changed).toEqual([id]); // only the changed record
    const row = watch.grid.getRows().find((r) => (r.get('id') as HRef).value === id) as HDict;
    expect((row.get('curVal') as HNum).value).toBe(5);
    changed.length = 0;
    await watch.poll();
    expect(changed).toEqual([]);
    await watch.close();
    expect(watch.isClosed()).toBe(true);
  });
});
