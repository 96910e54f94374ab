// The change feed's bookkeeping without a server: a stub client answers XREAD and MGET, so the
// order of the follower's and sync()'s reads can be forced.
import { HDateTime, HNum, HRef, HDict } from 'haystack-core';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { applyEntries, drainFeed, type FeedState, type StreamEntry } from '../../src/storage/changeFeed.js';
import { encodeRec } from '../../src/storage/codec.js';
import { FolioKeys } from '../../src/storage/keys.js';
import { RecCache } from '../../src/storage/recCache.js';

const keys = new FolioKeys('feedtest');
const text = encodeRec(HDict.make({ id: HRef.make('r1'), n: HNum.make(1), mod: HDateTime.make(new Date(Date.UTC(2026, 0, 1))) }), undefined);
const entries: StreamEntry[] = [['5-0', ['r1', '2026-01-01T00:00:00Z']]];

function state(): FeedState {
  return { keys, idPrefix: undefined, cache: new RecCache(), lastId: '0-0', own: new Set() };
}

/** A client whose MGET answers come from `mgets` in call order (a function may hold one back). */
function stub(mgets: (() => Promise<(string | null)[]>)[]): Redis {
  let n = 0;
  const s = {
    xread: (...args: string[]) => {
      const after = args[args.length - 1] as string;
      return Promise.resolve(after === '0-0' ? [[keys.changes, entries]] : null);
    },
    mget: () => (mgets[n++] as () => Promise<(string | null)[]>)(),
  };
  return s as unknown as Redis;
}

describe('change feed', () => {
  it('sync (drainFeed) covers entries the follower has read but not yet applied', async () => {
    const st = state();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const client = stub([() => held.then(() => [text]), () => Promise.resolve([text])]);
    const follower = applyEntries(client, st, entries); // its MGET is held back
    await drainFeed(client, st);
    // sync returned: the record must be there although the follower has not finished
    expect(st.cache.get('r1')?.persistent.get('n')).toEqual(HNum.make(1));
    release();
    await follower;
    expect(st.lastId).toBe('5-0');
  });

  it('a failed MGET leaves the entries to be read again, not skipped', async () => {
    const st = state();
    const client = stub([() => Promise.reject(new Error('connection lost')), () => Promise.resolve([text])]);
    await expect(applyEntries(client, st, entries)).rejects.toThrow('connection lost');
    expect(st.lastId).toBe('0-0');
    expect(st.cache.get('r1')).toBeUndefined();
    await drainFeed(client, st);
    expect(st.cache.get('r1')?.persistent.get('n')).toEqual(HNum.make(1));
    expect(st.lastId).toBe('5-0');
  });

  it("this process's own entries are skipped without a fetch", async () => {
    const st = state();
    st.own.add('5-0');
    const client = stub([() => Promise.reject(new Error('no MGET expected'))]);
    await applyEntries(client, st, entries);
    expect(st.lastId).toBe('5-0');
    expect(st.own.size).toBe(0);
    expect(st.cache.get('r1')).toBeUndefined();
  });
});

describe('change feed: own ids', () => {
  it('an own id registered while its entry was being applied as foreign does not linger', async () => {
    const st = state();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const client = stub([() => held.then(() => [text])]);
    const applying = applyEntries(client, st, entries); // reads 5-0 as someone else's
    st.own.add('5-0'); // the writer's EXEC reply arrives meanwhile
    release();
    await applying;
    expect(st.lastId).toBe('5-0');
    expect(st.own.size).toBe(0);
  });
});
