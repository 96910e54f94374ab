// idPrefix helpers and deep Ref mapping (spec 2.5; Haxall Ref.isRel, Etc.mapRefs).
import { HDict, HGrid, HList, HRef } from 'haystack-core';
import type { HVal } from 'haystack-core';

/** True if `id` is relative: not `null` (Ref.nullRef) and without a `:` scheme/prefix. */
export function isRelative(id: string): boolean {
  return id !== 'null' && !id.includes(':');
}

/** Make a relative id absolute with `prefix`; absolute ids, `null` and a missing prefix leave it as is. */
export function toAbs(id: string, prefix: string | undefined): string {
  if (prefix === undefined || prefix === '' || !isRelative(id)) return id;
  return prefix + id;
}

/** Strip `prefix` from `id` if it starts with it; otherwise (foreign prefix, relative) keep it. */
export function toRel(id: string, prefix: string | undefined): string {
  if (prefix === undefined || prefix === '' || !id.startsWith(prefix) || id.length === prefix.length) return id;
  return id.slice(prefix.length);
}

/** An HRef with the absolute id, keeping the dis; the same instance if nothing changes. */
export function refToAbs(ref: HRef, prefix: string | undefined): HRef {
  const id = toAbs(ref.value, prefix);
  return id === ref.value ? ref : HRef.make(id, refDis(ref));
}

/** An HRef with the relative id, keeping the dis; the same instance if nothing changes. */
export function refToRel(ref: HRef, prefix: string | undefined): HRef {
  const id = toRel(ref.value, prefix);
  return id === ref.value ? ref : HRef.make(id, refDis(ref));
}

/** The explicit dis of a Ref, or undefined (haystack-core's `dis` falls back to the id). */
export function refDis(ref: HRef): string | undefined {
  const dis = ref.dis;
  return dis === '' || dis === ref.value ? undefined : dis;
}

/**
 * Apply `f` to every Ref in `val`, deep through lists, dicts and grid rows. Containers come back
 * as the same instance when no Ref in them changed, so callers can cheaply detect "no change".
 */
export function mapRefs(val: HVal, f: (ref: HRef) => HRef): HVal {
  if (val instanceof HRef) return f(val);
  if (val instanceof HList) {
    let changed = false;
    const out = val.values.map((v) => {
      if (v === null || v === undefined) return v;
      const m = mapRefs(v, f);
      if (m !== v) changed = true;
      return m;
    });
    return changed ? HList.make(out) : val;
  }
  if (val instanceof HDict) return mapDictRefs(val, f);
  if (val instanceof HGrid) {
    let changed = false;
    const rows = val.getRows().map((r) => {
      const m = mapDictRefs(r, f);
      if (m !== r) changed = true;
      return m;
    });
    if (!changed) return val;
    return HGrid.make({
      meta: val.meta,
      columns: val.getColumns().map((c) => ({ name: c.name, meta: c.meta })),
      rows,
      version: val.version,
    });
  }
  return val;
}

function mapDictRefs(dict: HDict, f: (ref: HRef) => HRef): HDict {
  let out: Record<string, HVal | null> | undefined;
  const keys = dict.keys;
  for (const k of keys) {
    const v = dict.get(k);
    if (v === null || v === undefined) continue;
    const m = mapRefs(v, f);
    if (m !== v) {
      out ??= Object.fromEntries(keys.map((key) => [key, dict.get(key) ?? null]));
      out[k] = m;
    }
  }
  return out === undefined ? dict : HDict.make(out);
}
