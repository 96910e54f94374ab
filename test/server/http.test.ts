// Raw HTTP tests of the Haystack API server (in process, over the embedded engine): Zinc and JSON
// bodies, content negotiation, error grids, auth, bad input, limits, graceful shutdown.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HDict, HGrid, HList, HMarker, HRef, HStr, ZincReader } from 'haystack-core';
import { RedisFolio } from '../../src/folio/RedisFolio.js';
import { Diff } from '../../src/folio/Diff.js';
import { startEngine, type EngineHandle } from '../../src/engine/index.js';
import { startServer, type HxServer } from '../../src/server/server.js';
import { zincGrid } from '../../src/server/zinc.js';

let engine: EngineHandle;
let folio: RedisFolio;
let server: HxServer;
let api: string;

beforeAll(async () => {
  engine = await startEngine({ path: ':memory:' });
  folio = await RedisFolio.open({ url: engine.url, name: 'proj' });
  await folio.commitAll([
    Diff.makeAdd({ dis: 'Site A', site: HMarker.make(), tz: 'New_York' }, 's1'),
    Diff.makeAdd({ dis: 'AHU', equip: HMarker.make(), siteRef: HRef.make('s1') }, 'e1'),
    Diff.makeAdd({ dis: 'Temp', point: HMarker.make(), equipRef: HRef.make('e1'), siteRef: HRef.make('s1'), kind: 'Number' }, 'p1'),
  ]);
  server = await startServer({ folio, version: 'test' });
  api = `${server.url}/api/proj`;
});

afterAll(async () => {
  await server.close();
  await folio.close();
  await engine.stop();
});

async function call(op: string, init: RequestInit & { query?: string } = {}) {
  const res = await fetch(`${api}/${op}${init.query ? `?${init.query}` : ''}`, init);
  const text = await res.text();
  return { res, text, type: res.headers.get('content-type') ?? '' };
}

const zinc = (text: string) => ZincReader.readValue(text) as HGrid;

describe('formats and negotiation', () => {
  it('Zinc by default, with ref display names kept inside grids', async () => {
    const { res, text, type } = await call('read', { query: 'filter=equip' });
    expect(res.status).toBe(200);
    expect(type).toMatch(/^text\/zinc/);
    expect(text).toContain('@s1 "Site A"');
    expect(text).toContain('@e1 "AHU"');
    const g = zinc(text);
    expect((g.getRows()[0]?.get('siteRef') as HRef).dis).toBe('Site A');
  });

  it("haystack-core's own grid Zinc writer drops them (why src/server/zinc.ts exists)", () => {
    const g = HGrid.make({ rows: [HDict.make({ id: HRef.make('a', 'Alpha'), l: HList.make([HRef.make('b', 'Beta')]) })] });
    expect(g.toZinc()).not.toContain('"Alpha"');
    expect(zincGrid(g)).toContain('@a "Alpha"');
    expect(zincGrid(g)).toContain('[@b "Beta"]');
    const back = zinc(zincGrid(g));
    expect((back.getRows()[0]?.get('id') as HRef).dis).toBe('Alpha');
  });

  it('Hayson JSON for application/json and application/vnd.haystack+json', async () => {
    for (const accept of ['application/json', 'application/vnd.haystack+json']) {
      const { res, text, type } = await call('read', { query: 'filter=site', headers: { Accept: accept } });
      expect(res.status).toBe(200);
      expect(type).toMatch(/^application\/json/);
      const json = JSON.parse(text);
      expect(json._kind).toBe('grid');
      expect(json.rows[0].id).toEqual({ _kind: 'ref', val: 's1', dis: 'Site A' });
    }
  });

  it('JSON v3 for version=3', async () => {
    const { text, type } = await call('read', { query: 'filter=site', headers: { Accept: 'application/vnd.haystack+json;version=3' } });
    expect(type).toMatch(/version=3/);
    const json = JSON.parse(text);
    expect(json.rows[0].id).toBe('r:s1 Site A');
    expect(json.rows[0].site).toBe('m:');
  });

  it('q values and wildcards; 406 with a Zinc error grid for nothing acceptable', async () => {
    const a = await call('about', { headers: { Accept: 'text/zinc;q=0.5, application/json' } });
    expect(a.type).toMatch(/json/);
    const b = await call('about', { headers: { Accept: '*/*' } });
    expect(b.type).toMatch(/zinc/);
    const c = await call('about', { headers: { Accept: 'image/png' } });
    expect(c.res.status).toBe(406);
    expect(zinc(c.text).meta.has('err')).toBe(true);
  });

  it('POST bodies in Zinc and in Hayson JSON', async () => {
    const z = await call('read', { method: 'POST', headers: { 'Content-Type': 'text/zinc' }, body: 'ver:"3.0"\nfilter\n"point"\n' });
    expect(zinc(z.text).getRows().map((r) => (r.get('id') as HRef).value)).toEqual(['p1']);
    const body = JSON.stringify({ _kind: 'grid', meta: { ver: '3.0' }, cols: [{ name: 'id' }], rows: [{ id: { _kind: 'ref', val: 'e1' } }] });
    const j = await call('read', { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body });
    expect(JSON.parse(j.text).rows[0].dis).toBe('AHU');
    const u = await call('read', { method: 'POST', headers: { 'Content-Type': 'application/xml' }, body: '<x/>' });
    expect(u.res.status).toBe(415);
  });

  it('GET arguments may be Zinc-encoded or bare', async () => {
    const a = await call('read', { query: `filter=${encodeURIComponent('"site"')}` });
    const b = await call('read', { query: 'id=@e1' });
    const c = await call('read', { query: 'filter=point&limit=0' });
    expect(zinc(a.text).length).toBe(1);
    expect((zinc(b.text).getRows()[0]?.get('id') as HRef).value).toBe('e1');
    expect(zinc(c.text).length).toBe(0);
  });

  it('about, ops, formats answer GET', async () => {
    const about = zinc((await call('about')).text).getRows()[0] as HDict;
    expect(about.get('productName')?.toString()).toBe('hxredis');
    expect(about.get('projName')?.toString()).toBe('proj');
    expect(zinc((await call('ops')).text).length).toBeGreaterThanOrEqual(12);
    expect(zinc((await call('formats')).text).length).toBe(4);
  });
});

describe('error grids and bad input', () => {
  const errOf = (text: string) => zinc(text).meta;

  it('malformed filter: 400 with err, dis, errTrace; nothing crashes', async () => {
    const { res, text } = await call('read', { query: `filter=${encodeURIComponent('site and (')}` });
    expect(res.status).toBe(400);
    const m = errOf(text);
    expect(m.has('err')).toBe(true);
    expect(m.get('dis')?.toString()).toMatch(/Invalid filter/);
    expect(m.get('errTrace')?.toString()).toBeTruthy();
    expect(m.get('dis')?.toString()).not.toContain('\n');
    // still serving
    expect((await call('about')).res.status).toBe(200);
  });

  it('malformed Zinc and JSON bodies: 400, nothing written', async () => {
    const before = await folio.curVer();
    const bad = [
      { 'Content-Type': 'text/zinc', body: 'ver:"3.0" commit:"add"\ndis\n"unterminated\n' },
      { 'Content-Type': 'application/json', body: '{"_kind":"grid", "rows": [' },
      { 'Content-Type': 'text/zinc', body: 'ver:"3.0" commit:"add"\ndis,Bad\n"x",1\n' },
      { 'Content-Type': 'text/zinc', body: 'ver:"3.0" commit:"add"\ndis,n\n"x",1,2,3\n' },
      { 'Content-Type': 'text/zinc', body: 'ver:"3.0"\ndis\n"x"\n' },
    ];
    for (const b of bad) {
      const { res, text } = await call('commit', { method: 'POST', headers: { 'Content-Type': b['Content-Type'] }, body: b.body });
      expect(res.status).toBe(400);
      expect(errOf(text).has('err')).toBe(true);
    }
    expect(await folio.curVer()).toBe(before);
  });

  it('a commit with one bad row writes nothing', async () => {
    const before = await folio.readCount('id');
    const body = 'ver:"3.0" commit:"add"\ndis,site,mod\n"Good",M,\n"Bad",M,2020-01-01T00:00:00Z UTC\n';
    const ok = await call('commit', { method: 'POST', headers: { 'Content-Type': 'text/zinc' }, body });
    // mod is ignored on add: both rows are good
    expect(ok.res.status).toBe(200);
    const bad = 'ver:"3.0" commit:"add"\ndis,hisSize\n"Good2",\n"Bad",3\n';
    const r = await call('commit', { method: 'POST', headers: { 'Content-Type': 'text/zinc' }, body: bad });
    expect(r.res.status).toBe(400);
    expect(errOf(r.text).get('dis')?.toString()).toMatch(/row 2.*hisSize/);
    expect(await folio.readCount('id')).toBe(before + 2);
    expect(await folio.readCount('dis=="Good2"')).toBe(0);
  });

  it('bad hisRead ranges: 400', async () => {
    await folio.commit(Diff.makeAdd({ dis: 'H', point: HMarker.make(), his: HMarker.make(), kind: 'Number', tz: 'New_York' }, 'h1'));
    for (const range of ['nonsense', '2020-13-01', '2020-02-03,2020-02-01', '2020-01-01,2020-01-02T00:00:00Z UTC', ',', 'a,b,c']) {
      const { res, text } = await call('hisRead', { query: `id=@h1&range=${encodeURIComponent(range)}` });
      expect(res.status, range).toBe(400);
      expect(errOf(text).get('dis')?.toString()).toMatch(/range|date/i);
    }
  });

  it('unknown op, project, rec; wrong method', async () => {
    expect((await call('nope')).res.status).toBe(404);
    expect((await fetch(`${server.url}/api/other/about`)).status).toBe(404);
    const h = await call('hisRead', { query: 'id=@missing&range=today' });
    expect(h.res.status).toBe(404);
    expect(errOf(h.text).get('dis')?.toString()).toMatch(/missing/);
    expect((await call('commit')).res.status).toBe(405);
    expect((await call('about', { method: 'DELETE' })).res.status).toBe(405);
  });

  it('stale update: 409', async () => {
    const rec = (await folio.readById('p1')) as HDict;
    const body = zincGrid(HGrid.make({ meta: HDict.make({ commit: HStr.make('update') }), rows: [HDict.make({ id: HRef.make('p1'), mod: rec.get('mod')!, dis: HStr.make('T1') })] }));
    expect((await call('commit', { method: 'POST', headers: { 'Content-Type': 'text/zinc' }, body })).res.status).toBe(200);
    expect((await call('commit', { method: 'POST', headers: { 'Content-Type': 'text/zinc' }, body })).res.status).toBe(409);
  });

  it('oversized body: 413', async () => {
    const small = await startServer({ folio, maxBodyBytes: 100 });
    try {
      const res = await fetch(`${small.url}/api/proj/read`, { method: 'POST', headers: { 'Content-Type': 'text/zinc' }, body: 'x'.repeat(1000) });
      expect(res.status).toBe(413);
    } finally {
      await small.close();
    }
  });

  it('watchPoll of an unknown watch is an error grid', async () => {
    const body = 'ver:"3.0" watchId:"w-nope"\nempty\n';
    const r = await call('watchPoll', { method: 'POST', headers: { 'Content-Type': 'text/zinc' }, body });
    expect(r.res.status).toBe(404);
    expect(errOf(r.text).get('dis')?.toString()).toMatch(/watch/);
  });
});

describe('watches', () => {
  it('poll returns only changed records; refresh returns all; lease in the meta', async () => {
    const sub = await call('watchSub', { method: 'POST', headers: { 'Content-Type': 'text/zinc' }, body: 'ver:"3.0" watchDis:"t" lease:30s\nid\n@s1\n@e1\n' });
    const g = zinc(sub.text);
    const watchId = g.meta.get('watchId')?.toString() as string;
    expect(g.length).toBe(2);
    expect(g.meta.get('lease')?.toZinc()).toBe('30s');
    const poll = async (extra = '') => zinc((await call('watchPoll', { method: 'POST', headers: { 'Content-Type': 'text/zinc' }, body: `ver:"3.0" watchId:"${watchId}"${extra}\nempty\n` })).text);
    expect((await poll()).length).toBe(0);
    const e1 = (await folio.readById('e1')) as HDict;
    await folio.commit(new Diff(e1, { dis: 'AHU-1' }));
    const p = await poll();
    expect(p.getRows().map((r) => (r.get('id') as HRef).value)).toEqual(['e1']);
    expect((await poll()).length).toBe(0);
    expect((await poll(' refresh')).length).toBe(2);
    const rem = (await folio.readById('e1')) as HDict;
    await folio.commit(new Diff(rem, { trash: HMarker.make() }));
    const gone = await poll();
    expect(gone.getRows()[0]?.has('removed')).toBe(true);
    await call('watchUnsub', { method: 'POST', headers: { 'Content-Type': 'text/zinc' }, body: `ver:"3.0" watchId:"${watchId}" close\nempty\n` });
    const after = await call('watchPoll', { method: 'POST', headers: { 'Content-Type': 'text/zinc' }, body: `ver:"3.0" watchId:"${watchId}"\nempty\n` });
    expect(after.res.status).toBe(404);
  });
});

describe('security', () => {
  it('refuses a non-loopback bind without a token', async () => {
    await expect(startServer({ folio, host: '0.0.0.0' })).rejects.toThrow(/token/);
  });

  it('bearer token: 401 without or with a wrong token, 200 with it', async () => {
    const s = await startServer({ folio, token: 's3cret-token' });
    try {
      const url = `${s.url}/api/proj/about`;
      const none = await fetch(url);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Bearer');
      expect((ZincReader.readValue(await none.text()) as HGrid).meta.has('err')).toBe(true);
      expect((await fetch(url, { headers: { Authorization: 'Bearer wrong' } })).status).toBe(401);
      expect((await fetch(url, { headers: { Authorization: 'Bearer s3cret-token' } })).status).toBe(200);
    } finally {
      await s.close();
    }
  });
});

describe('graceful shutdown', () => {
  it('an in-flight request finishes; new connections are refused', async () => {
    const s = await startServer({ folio });
    const big = `ver:"3.0"\nfilter\n"site"\n`;
    // a request whose body arrives slowly is in flight while close() starts
    const { request } = await import('node:http');
    const inflight = new Promise<number>((resolve, reject) => {
      const req = request(`${s.url}/api/proj/read`, { method: 'POST', headers: { 'Content-Type': 'text/zinc' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.write(big.slice(0, 10));
      setTimeout(() => req.end(big.slice(10)), 300);
    });
    await new Promise((r) => setTimeout(r, 100));
    const closing = s.close();
    expect(await inflight).toBe(200);
    await closing;
    await expect(fetch(`${s.url}/api/proj/about`)).rejects.toThrow();
  });
});
