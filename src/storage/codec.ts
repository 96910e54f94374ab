// Record encoding in Redis: Hayson JSON of the persistent tags, Refs stored relative to the idPrefix
// and without display names (dis is derived on load). Refs are rewritten on the JSON form, not by
// rebuilding HDicts, which is what makes Hayson the faster codec here (bench `codec`,
// docs/redis-layout.md: Hayson vs Zinc encode/decode per record).
import { HDict, type HaysonDict } from 'haystack-core';
import { LoadError } from '../folio/errors.js';
import { toAbs, toRel } from './../folio/refs.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Rewrites every Hayson Ref (`{_kind:"ref", val, dis?}`) in place: new id, dis dropped. */
function mapJsonRefs(v: Json, f: (id: string) => string): void {
  if (v === null || typeof v !== 'object') return;
  if (Array.isArray(v)) {
    for (const e of v) mapJsonRefs(e, f);
    return;
  }
  if (v._kind === 'ref' && typeof v.val === 'string') {
    v.val = f(v.val);
    delete v.dis;
    return;
  }
  for (const k in v) mapJsonRefs(v[k] as Json, f);
}

/** Persistent tags → the string stored at the rec key. */
export function encodeRec(persistent: HDict, idPrefix: string | undefined): string {
  const json = persistent.toJSON() as unknown as Json;
  mapJsonRefs(json, idPrefix ? (id) => toRel(id, idPrefix) : (id) => id);
  return JSON.stringify(json);
}

/** The stored string → persistent tags with absolute ids (no dis yet). */
export function decodeRec(text: string, idPrefix: string | undefined, key?: string): HDict {
  let json: Json;
  try {
    json = JSON.parse(text) as Json;
  } catch (e) {
    throw new LoadError(`Corrupt record${key ? ` at ${key}` : ''}: ${(e as Error).message}`, { cause: e });
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new LoadError(`Corrupt record${key ? ` at ${key}` : ''}: not a dict`);
  }
  if (idPrefix) mapJsonRefs(json, (id) => toAbs(id, idPrefix));
  return HDict.make(json as unknown as HaysonDict);
}
