// The query planner: picks how to find candidate records for a filter. Pure (no I/O).
//
// Rules (the candidate set is always a SUPERSET of the matches; the caller evaluates the full filter
// on every candidate):
//  - `has a` and every comparison on a path `a->...` need tag `a` on the rec: term `has a`.
//  - `a == lit` with an indexable literal (see eqValueKey): term `eq a lit`. Lists are indexed per
//    element, so list membership (`ref == @x` on `ref:[@x]`) is covered.
//  - `^a-b` (no namespace): `has a` and `has b`.
//  - `id == @x`: byId. Every rec has a Ref id, so `id == <non-Ref>` is empty, and `has id`,
//    `id != ...`, `id < ...` say nothing (scan).
//  - spec names (`Foo`) and relationships (`rel?`) are false without a namespace: empty.
//  - `not ...` (missing) is not indexable.
//  - and: empty if any part is empty; byId if any part is byId (ids intersected); else the AND of the
//    indexable parts: single-group parts are merged into one intersection (best 3 terms kept), and a
//    multi-group part (an OR inside) is used instead when its estimate is lower. Unindexable parts
//    are left to the evaluation.
//  - or: every branch must be indexable (an empty branch is dropped), else scan; byId + byId gives
//    byId, index + index concatenates the groups; byId mixed with index gives scan.
//  - tags for which `neverIndex` is true (id, mod, trash, ...) have no index: treated as unindexable.
//  - cost: the estimate of a group is its smallest term count, of a union the sum over groups;
//    `eq` terms are guessed at EQ_SELECTIVITY of their tag's count. When the estimate exceeds
//    SCAN_FRACTION of all records, scan: fetching a huge id set from Redis costs more than scanning
//    the local record cache.
import { Kind, valueIsKind } from 'haystack-core';
import type { HRef } from 'haystack-core';
import type { CompiledFilter } from './compile.js';
import type { FilterNode } from './evaluate.js';
import { eqValueKey, termKey } from './indexTerms.js';
import type { IndexTerm } from './indexTerms.js';

export interface PlanStats {
  /** live + trash records */
  total: number;
  /** live + trash records having `tag` */
  tagCount(tag: string): number;
}

export interface PlanOptions {
  /** tags storage does not index (must be the function given to recordIndexTerms) */
  neverIndex?: (tag: string) => boolean;
  /**
   * Maps a Ref literal's id to the id form storage indexes (e.g. relative to the idPrefix).
   * Applied to `eq` Ref terms only; byId ids are returned as written in the filter.
   */
  refId?: (id: string) => string;
}

export type Plan =
  | { kind: 'empty' }
  | { kind: 'byId'; ids: string[] }
  | { kind: 'scan' }
  | { kind: 'index'; union: IndexTerm[][]; estimate: number };

/** Scan when the best index estimate is above this fraction of all records. */
export const SCAN_FRACTION = 0.25;
/** Guessed share of a tag's records an `eq` term selects. */
export const EQ_SELECTIVITY = 0.1;
/** At most this many terms are intersected per group. */
export const MAX_GROUP_TERMS = 3;

type Cand =
  | { kind: 'none' }
  | { kind: 'all' }
  | { kind: 'ids'; ids: Set<string> }
  | { kind: 'terms'; union: IndexTerm[][] };

const ALL: Cand = { kind: 'all' };
const NONE: Cand = { kind: 'none' };

export function planFilter(filter: CompiledFilter, stats: PlanStats, opts: PlanOptions = {}): Plan {
  const never = opts.neverIndex ?? (() => false);
  const refId = opts.refId ?? ((id: string) => id);
  const termEst = (t: IndexTerm): number => {
    const n = stats.tagCount(t.tag);
    return t.kind === 'has' ? n : Math.ceil(n * EQ_SELECTIVITY);
  };
  const groupEst = (g: IndexTerm[]): number => Math.min(...g.map(termEst));
  const unionEst = (u: IndexTerm[][]): number => u.reduce((s, g) => s + groupEst(g), 0);

  const has = (tag: string): Cand => (never(tag) ? ALL : { kind: 'terms', union: [[{ kind: 'has', tag }]] });

  const plan = (n: FilterNode): Cand => {
    switch (n.kind) {
      case 'has':
        return has(n.path[0]);
      case 'missing':
        return ALL;
      case 'cmp': {
        const tag = n.path[0];
        if (tag === 'id' && n.path.length === 1 && n.op === '==') {
          return valueIsKind<HRef>(n.val, Kind.Ref) ? { kind: 'ids', ids: new Set([n.val.value]) } : NONE;
        }
        if (n.op === '==' && n.path.length === 1 && !never(tag)) {
          let key = eqValueKey(n.val);
          if (key !== undefined && valueIsKind<HRef>(n.val, Kind.Ref)) key = `r:${refId(n.val.value)}`;
          if (key !== undefined) return { kind: 'terms', union: [[{ kind: 'eq', tag, value: key }]] };
        }
        return has(tag);
      }
      case 'symbol': {
        const terms: IndexTerm[] = n.terms.filter((t) => !never(t)).map((tag) => ({ kind: 'has', tag }));
        return terms.length ? { kind: 'terms', union: [terms] } : ALL;
      }
      case 'spec':
      case 'rel':
        return NONE;
      case 'and':
        return planAnd(n.nodes.map(plan));
      case 'or':
        return planOr(n.nodes.map(plan));
    }
  };

  const planAnd = (parts: Cand[]): Cand => {
    if (parts.some((p) => p.kind === 'none')) return NONE;
    let ids: Set<string> | undefined;
    for (const p of parts) {
      if (p.kind !== 'ids') continue;
      ids = ids === undefined ? new Set(p.ids) : new Set([...ids].filter((x) => p.ids.has(x)));
    }
    if (ids !== undefined) return ids.size ? { kind: 'ids', ids } : NONE;
    const single: IndexTerm[] = [];
    let bestMulti: IndexTerm[][] | undefined;
    for (const p of parts) {
      if (p.kind !== 'terms') continue;
      if (p.union.length === 1) single.push(...p.union[0]);
      else if (bestMulti === undefined || unionEst(p.union) < unionEst(bestMulti)) bestMulti = p.union;
    }
    const group = bestTerms(single);
    if (group.length && (bestMulti === undefined || groupEst(group) <= unionEst(bestMulti))) {
      return { kind: 'terms', union: [group] };
    }
    return bestMulti ? { kind: 'terms', union: bestMulti } : ALL;
  };

  const bestTerms = (terms: IndexTerm[]): IndexTerm[] => {
    const uniq = new Map<string, IndexTerm>();
    for (const t of terms) uniq.set(termKey(t), t);
    // A `has a` next to an `eq a ...` adds nothing: the eq set is inside the has set.
    const eqTags = new Set([...uniq.values()].filter((t) => t.kind === 'eq').map((t) => t.tag));
    const useful = [...uniq.values()].filter((t) => t.kind === 'eq' || !eqTags.has(t.tag));
    return useful.sort((a, b) => termEst(a) - termEst(b)).slice(0, MAX_GROUP_TERMS);
  };

  const planOr = (parts: Cand[]): Cand => {
    const live = parts.filter((p) => p.kind !== 'none');
    if (live.length === 0) return NONE;
    if (live.some((p) => p.kind === 'all')) return ALL;
    if (live.every((p) => p.kind === 'ids')) {
      const ids = new Set<string>();
      for (const p of live) if (p.kind === 'ids') for (const x of p.ids) ids.add(x);
      return { kind: 'ids', ids };
    }
    if (live.every((p) => p.kind === 'terms')) {
      return { kind: 'terms', union: live.flatMap((p) => (p.kind === 'terms' ? p.union : [])) };
    }
    return ALL;
  };

  const c = plan(filter.node);
  switch (c.kind) {
    case 'none':
      return { kind: 'empty' };
    case 'all':
      return { kind: 'scan' };
    case 'ids':
      return { kind: 'byId', ids: [...c.ids].sort() };
    case 'terms': {
      const estimate = unionEst(c.union);
      if (estimate > stats.total * SCAN_FRACTION) return { kind: 'scan' };
      return { kind: 'index', union: c.union, estimate };
    }
  }
}
