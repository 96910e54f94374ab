// Keeps a process's RecCache in step with commits made by other processes.
//
// Every persistent commit XADDs one entry to `{hx:<name>}:changes` inside its MULTI/EXEC: fields are
// `<relId> <encoded rec>` pairs, or `<relId> ~<old mod>` for a removal. A dedicated connection
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
 * Applies stream entries in order. A record is replaced only by a strictly newer mod, so an entry
 * that arrives after this process has already seen a newer state of the record (its own commit, or
 * a reload) never rolls the cache back.
 */
export function applyEntries(state: FeedState, entries: StreamEntry[]): void {
  for (const [id, fields] of entries) {
    if (compareStreamIds(id, state.lastId) <= 0) continue;
    state.lastId = id;
    if (state.own.delete(id)) continue;
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const relId = fields[i] as string;
      const val = fields[i + 1] as string;
      const absId = toAbs(relId, state.idPrefix);
      const cached = state.cache.get(absId);
      if (val.startsWith('~')) {
        const removedMs = Date.parse(val.slice(1));
        const curMs = cached?.mod?.date.getTime();
        if (cached && (curMs === undefined || Number.isNaN(removedMs) || curMs <= removedMs)) state.cache.delete(absId);
        continue;
      }
      const rec = decodeRec(val, state.idPrefix, state.keys.rec(relId));
      const newMod = rec.get('mod') as HDateTime | undefined;
      const curMod = cached?.mod;
      if (!curMod || !newMod || newMod.date.getTime() > curMod.date.getTime()) state.cache.put(absId, rec);
    }
  }
}

/** Reads every entry after `state.lastId` (non-blocking) and applies it. */
export async function drainFeed(client: Redis, state: FeedState): Promise<void> {
  for (;;) {
    const res = (await client.xread('COUNT', 1000, 'STREAMS', state.keys.changes, state.lastId)) as
      | [string, StreamEntry[]][]
      | null;
    const entries = res?.[0]?.[1] ?? [];
    if (entries.length === 0) return;
    applyEntries(state, entries);
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
