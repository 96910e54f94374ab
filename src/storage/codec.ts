// Record encoding in Redis: Hayson JSON of the persistent tags, Refs stored relative to the idPrefix
// and without display names (dis is derived on load). Hayson was measured against Zinc on 20,000
// point records (docs/redis-layout.md): decode 6.5 us/rec vs 11.9 us for Zinc, so cold open of
// 100k records spends ~0.65 s decoding; Zinc is 2.5x smaller on the wire but slower to parse.
import { HDict, HRef, type HaysonDict, type HVal } from 'haystack-core';
import { LoadError } from '../folio/errors.js';
import { mapRefs, toAbs, toRel } from '../folio/refs.js';

/** Persistent tags → the string stored at the rec key. */
export function encodeRec(persistent: HDict, idPrefix: string | undefined): string {
  const rel = mapRefs(persistent, (ref) => HRef.make(toRel(ref.value, idPrefix))) as HDict;
  return JSON.stringify(rel.toJSON());
}

/** The stored string → persistent tags with absolute ids (no dis yet). */
export function decodeRec(text: string, idPrefix: string | undefined, key?: string): HDict {
  let json: HaysonDict;
  try {
    json = JSON.parse(text) as HaysonDict;
  } catch (e) {
    throw new LoadError(`Corrupt record${key ? ` at ${key}` : ''}: ${(e as Error).message}`, { cause: e });
  }
  const dict = HDict.make(json);
  if (!idPrefix) return dict;
  return mapRefs(dict, (ref) => HRef.make(toAbs(ref.value, idPrefix))) as HDict;
}

export function refId(val: HVal | undefined | null): string | undefined {
  return val instanceof HRef ? val.value : undefined;
}
