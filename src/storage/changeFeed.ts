// Keeps a process's RecCache in step with commits made by other processes.
//
// Every persistent commit XADDs one entry to `{hx:<name>}:changes` inside its MULTI/EXEC: fields are
// `<relId> <new mod>` pairs, or `<relId> ~` for a removal. A dedicated connection
// follows the stream with a blocking XREAD, so another process's commit reaches this cache within
// one network round trip of its EXEC (measured in docs/commit-protocol.md); `sync()` drains the
// stream up to its current end before returning, so after sync a reader sees every earlier commit.
import type { HDateTime } from 'haystack-core';
import type { Redis } from 'ioredis';
import { decodeRec } from './codec.js';
import type { FolioKeys } from './keys.js';
import type { RecCache } from './recCache.js';
import { toAbs } from '../folio/refs.js';

export type StreamEntry = [id: string, fields: string[]];

/** Compares two stream ids (`ms-seq`). */
export function compareStreamIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const d = Number(am) - Number(bm);
  return d !== 0 ? d : Number(as) - Number(bs);
}

export interface FeedState {
  keys: FolioKeys;
  idPrefix: string | undefined;
  cache: RecCache;
  /** newest stream id this cache reflects */
  lastId: string;
  /** ids of entries this process wrote itself and already applied */
  own: Set<string>;
}

/**
 * Applies stream entries: each names the records a commit wrote. Entries this process wrote are
 * skipped; for the others the records' current state is fetched from Redis (one MGET for all) and
 * replaces the cached one unless the cache already holds a newer mod (this process's own commit).
 * `lastId` moves only once the records are in the cache: a sync() running meanwhile reads the same
 * entries again and applies them itself (applying twice is harmless), and a failed MGET leaves
 * them to be read again rather than skipped.
 */
export async function applyEntries(client: Redis, state: FeedState, entries: StreamEntry[]): Promise<void> {
  const ids = new Set<string>();
  const mine: string[] = [];
  let last = state.lastId;
  for (const [id, fields] of entries) {
    if (compareStreamIds(id, last) <= 0) continue;
    last = id;
    if (state.own.has(id)) {
      mine.push(id);
      continue;
    }
    for (let i = 0; i + 1 < fields.length; i += 2) ids.add(fields[i] as string);
  }
  if (ids.size > 0) {
    const rels = [...ids];
    const texts = await client.mget(...rels.map((r) => state.keys.rec(r)));
    rels.forEach((rel, i) => {
      const absId = toAbs(rel, state.idPrefix);
      const text = texts[i] ?? null;
      const cached = state.cache.get(absId);
      if (text === null) {
        state.cache.delete(absId);
        return;
      }
      if (cached && cached.storedText === text) return;
      const rec = decodeRec(text, state.idPrefix, state.keys.rec(rel));
      const newMod = rec.get('mod') as HDateTime | undefined;
      const curMod = cached?.mod;
      if (!curMod || !newMod || newMod.date.getTime() >= curMod.date.getTime()) state.cache.put(absId, rec, text);
    });
  }
  for (const id of mine) state.own.delete(id);
  if (compareStreamIds(last, state.lastId) > 0) state.lastId = last;
  // an own id added after this read began was applied as anyone's: it must not linger
  if (state.own.size > 0) for (const id of state.own) if (compareStreamIds(id, state.lastId) <= 0) state.own.delete(id);
}

/** Reads every entry after `state.lastId` (non-blocking) and applies it. */
export async function drainFeed(client: Redis, state: FeedState): Promise<void> {
  for (;;) {
    const res = (await client.xread('COUNT', 1000, 'STREAMS', state.keys.changes, state.lastId)) as
      | [string, StreamEntry[]][]
      | null;
    const entries = res?.[0]?.[1] ?? [];
    if (entries.length === 0) return;
    await applyEntries(client, state, entries);
    if (entries.length < 1000) return;
  }
}

/**
 * True if entries after `lastId` may have been trimmed away (the stream's first entry is newer and
 * this cache has seen entries before): the cache must reload from the records instead.
 */
export async function feedHasGap(client: Redis, state: FeedState): Promise<boolean> {
  if (state.lastId === '0-0') return false;
  const first = (await client.xrange(state.keys.changes, '-', '+', 'COUNT', 1)) as StreamEntry[];
  const firstId = first[0]?.[0];
  return firstId !== undefined && compareStreamIds(firstId, state.lastId) > 0;
}
