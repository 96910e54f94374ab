// FolioUtil.hisWriteMerge (spec 3.3): the model every storage layout must agree with. Pure.
import type { SItem } from './normalize.js';

/**
 * Merges sorted `changes` into sorted `cur`: interleave by ts, a change overwrites the current
 * item at the same ts, a removal (v === null) deletes it (or is dropped). Returns a new list.
 */
export function hisWriteMerge(cur: readonly SItem[], changes: readonly SItem[]): SItem[] {
  const out: SItem[] = [];
  let i = 0;
  let j = 0;
  while (i < cur.length || j < changes.length) {
    const a = cur[i];
    const b = changes[j];
    if (b === undefined || (a !== undefined && a.ms < b.ms)) {
      out.push(a as SItem);
      i++;
      continue;
    }
    if (a !== undefined && a.ms === b.ms) i++;
    if (b.v !== null) out.push(b);
    j++;
  }
  return out;
}
