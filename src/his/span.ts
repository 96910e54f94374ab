// Span read selection (spec 3.4, HisMgr.doRead). Pure.

export interface SpanParts<T> {
  /** the last item before start */
  prev: T | undefined;
  /** the items in [start, end) */
  inSpan: T[];
  /** up to the first two items >= end */
  next: T[];
}

/**
 * Joins the parts of a span read: the previous item only if at least one in-span item exists
 * (it comes first), then the in-span items, then up to two items at or after end.
 */
export function joinSpan<T>(parts: SpanParts<T>): T[] {
  const out: T[] = [];
  if (parts.inSpan.length > 0 && parts.prev !== undefined) out.push(parts.prev);
  out.push(...parts.inSpan);
  out.push(...parts.next.slice(0, 2));
  return out;
}

/** The span read of a sorted in-memory list, as the reference model. */
export function selectSpan<T extends { ms: number }>(items: readonly T[], startMs: number, endMs: number): T[] {
  let prev: T | undefined;
  const inSpan: T[] = [];
  const next: T[] = [];
  for (const it of items) {
    if (it.ms < startMs) prev = it;
    else if (it.ms < endMs) inSpan.push(it);
    else if (next.length < 2) next.push(it);
    else break;
  }
  return joinSpan({ prev, inSpan, next });
}
