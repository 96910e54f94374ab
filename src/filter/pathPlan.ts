// Path queries (`equipRef->siteRef == @s`) from the tag indexes: the records whose last-hop tag
// equals the literal, then, hop by hop backwards, the records whose Ref tag points at one of them.
// Pure: it only decides whether a filter can be answered that way; storage runs the hops.
//
// Why the candidates are a superset of the matches: a path step leads somewhere only through a
// Ref (or a Ref inside a List), a Dict (entered directly) or a DateTime (`->date`, `->time`, `->tz`)
// (see evaluate.ts). The Ref steps are exactly what the `eq tag=r:<id>` indexes hold, List elements
// included. So a path is planned only when no record holds a Dict or DateTime in any hop tag, and
// every tag on the path is indexed (not transient, not never-indexed); the caller checks that with
// `usable`.
import { Kind, valueIsKind } from 'haystack-core';
import type { HRef } from 'haystack-core';
import type { CompiledFilter } from './compile.js';
import type { FilterNode } from './evaluate.js';
import { eqValueKey } from './indexTerms.js';
import type { IndexTerm } from './indexTerms.js';

export interface PathPlan {
  kind: 'path';
  /** the Ref tags walked backwards from the leaf, outermost first: `a->b->c == x` gives [a, b] */
  hops: string[];
  /** the term the last record on the path must have: `eq c=x` */
  leaf: IndexTerm;
}

export interface PathPlanStats {
  /** false if `tag` is not indexed for every record (transient, never indexed) */
  indexed(tag: string): boolean;
  /** false if some record holds a Dict or DateTime in `tag` (a path step the indexes cannot follow) */
  refOnly(tag: string): boolean;
}

export function planPath(
  filter: CompiledFilter,
  stats: PathPlanStats,
  opts: { refId?: (id: string) => string } = {},
): PathPlan | undefined {
  const refId = opts.refId ?? ((id: string) => id);
  const fromCmp = (n: FilterNode): PathPlan | undefined => {
    if (n.kind !== 'cmp' || n.op !== '==' || n.path.length < 2) return undefined;
    const leafTag = n.path[n.path.length - 1] as string;
    const hops = n.path.slice(0, -1);
    if (!stats.indexed(leafTag) || hops.some((h) => !stats.indexed(h) || !stats.refOnly(h))) return undefined;
    let key = eqValueKey(n.val);
    if (key === undefined) return undefined;
    if (valueIsKind<HRef>(n.val, Kind.Ref)) key = `r:${refId(n.val.value)}`;
    return { kind: 'path', hops, leaf: { kind: 'eq', tag: leafTag, value: key } };
  };
  const node = filter.node;
  if (node.kind === 'and') {
    for (const n of node.nodes) {
      const p = fromCmp(n);
      if (p) return p;
    }
    return undefined;
  }
  return fromCmp(node);
}
