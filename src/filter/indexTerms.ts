// Index terms: what the storage layer keeps a Redis SET of ids for, and what the planner asks for.
// Both sides use the functions below, so a term the planner names is exactly a term storage maintains.
import { Kind, valueIsKind } from 'haystack-core';
import type { HBool, HDate, HDict, HList, HNum, HRef, HStr, HSymbol, HUri, HVal } from 'haystack-core';

export type IndexTerm = { kind: 'has'; tag: string } | { kind: 'eq'; tag: string; value: string };

/** Longer Str values are not equality-indexed (they are rarely queried by `==` and make big keys). */
export const MAX_INDEXED_STR = 256;

/**
 * Canonical string of a value that gets an equality index, or undefined when it is not indexed.
 * Two values have the same key exactly when the evaluator's `==` says they are equal
 * (Refs by id ignoring dis; Numbers by float and unit, -0 == 0).
 */
export function eqValueKey(val: HVal | null | undefined): string | undefined {
  if (val === null || val === undefined) return undefined;
  switch (val.getKind()) {
    case Kind.Ref:
      return `r:${(val as HRef).value}`;
    case Kind.Str: {
      const s = (val as HStr).value;
      return s.length <= MAX_INDEXED_STR ? `s:${s}` : undefined;
    }
    case Kind.Number: {
      const n = val as HNum;
      if (!Number.isFinite(n.value)) return undefined;
      // String() is the shortest round-trip text, so equal doubles give equal keys; -0 prints as 0.
      return `n:${String(n.value)}|${n.unit?.symbol ?? ''}`;
    }
    case Kind.Bool:
      return (val as HBool).value ? 'b:true' : 'b:false';
    case Kind.Date:
      return `d:${(val as HDate).value}`;
    case Kind.Uri: {
      const u = (val as HUri).value;
      return u.length <= MAX_INDEXED_STR ? `u:${u}` : undefined;
    }
    case Kind.Symbol:
      return `y:${(val as HSymbol).value}`;
    default:
      return undefined;
  }
}

/**
 * The index terms of a record's persistent tags: `has` per tag, `eq` per indexable value, and `eq` per
 * indexable element of a List (so `ref == @a` finds `ref:[@a,@b]`). Tags for which `neverIndex` is true
 * get no terms at all. Terms are unique.
 */
export function recordIndexTerms(rec: HDict, neverIndex: (tag: string) => boolean): IndexTerm[] {
  const out: IndexTerm[] = [];
  for (const tag of rec.keys) {
    if (!neverIndex(tag)) tagIndexTerms(tag, rec.get(tag), out);
  }
  return out;
}

/** The terms of one tag's value, appended to `out` (what recordIndexTerms does per tag). */
export function tagIndexTerms(tag: string, val: HVal | null | undefined, out: IndexTerm[] = []): IndexTerm[] {
  if (val === null || val === undefined) return out;
  out.push({ kind: 'has', tag });
  const key = eqValueKey(val);
  if (key !== undefined) {
    out.push({ kind: 'eq', tag, value: key });
  } else if (valueIsKind<HList>(val, Kind.List)) {
    const seen = new Set<string>();
    for (const el of val) {
      const k = eqValueKey(el);
      if (k !== undefined && !seen.has(k)) {
        seen.add(k);
        out.push({ kind: 'eq', tag, value: k });
      }
    }
  }
  return out;
}

/** Stable string for a term; tag names cannot contain `=` so the form is unambiguous. */
export function termKey(term: IndexTerm): string {
  return term.kind === 'has' ? `h:${term.tag}` : `e:${term.tag}=${term.value}`;
}
