// The in-process image of a folio's records: persistent tags (mirroring Redis), the process-local
// transient layer, planner statistics, and display names. Reads are served from here (warm
// readById is a Map lookup); Redis stays the authority for commits (see commit.ts).
import { HDict, HRef, Kind, valueIsKind, type HDateTime, type HVal } from 'haystack-core';
import { mapRefs, refDis } from '../folio/refs.js';
import { recDis } from '../folio/dis.js';

/** Tags whose change can change some record's display name. */
const DIS_TAGS = new Set(['dis', 'disMacro', 'disKey', 'name', 'def', 'tag', 'navName']);

export class Rec {
  readonly id: string;
  persistent: HDict;
  transient: HDict | undefined;
  /** insertion order: gives readAll a deterministic order, so `limit` is a stable prefix */
  readonly seq: number;
  private mergedCache: HDict | undefined;
  visibleCache: HDict | undefined;
  /** visibleCache, already resolved: readById hands this out (see RecCache.visiblePromise) */
  visiblePromise: Promise<HDict> | undefined;
  visibleGen = -1;
  disCache: string | undefined;
  /** the text stored in Redis for `persistent` (when known): a commit that reads the same text skips a decode */
  storedText: string | undefined;

  constructor(id: string, persistent: HDict, seq: number) {
    this.id = id;
    this.persistent = persistent;
    this.seq = seq;
  }

  get mod(): HDateTime | undefined {
    return this.persistent.get('mod') as HDateTime | undefined;
  }
  /** persistent `trash` marker, kept as a field: every read checks it */
  trash = false;
  get isTrash(): boolean {
    return this.trash;
  }
  /** persistent + transient, Refs without display names: what filters evaluate */
  get merged(): HDict {
    if (!this.mergedCache) {
      if (!this.transient || this.transient.isEmpty()) this.mergedCache = this.persistent;
      else {
        const obj = { ...this.persistent.toObj(), ...this.transient.toObj() };
        this.mergedCache = HDict.make(obj);
      }
    }
    return this.mergedCache;
  }
  /**
   * With no transient layer the visible dict has the same tags as the persistent one (Refs only
   * gain display names, which encoding, filters and indexes ignore): keep just that one dict, so
   * 100k records cost one dict each, not three.
   */
  adoptVisible(visible: HDict): void {
    if (this.transient) return;
    this.persistent = visible;
    this.mergedCache = visible;
  }
  invalidate(): void {
    this.mergedCache = undefined;
    this.visibleCache = undefined;
    this.visiblePromise = undefined;
    this.disCache = undefined;
  }
}

export class RecCache {
  readonly map = new Map<string, Rec>();
  private readonly tagCounts = new Map<string, number>();
  private readonly transientTagCounts = new Map<string, number>();
  /** records holding a Dict or DateTime in a tag: a path step the Ref indexes cannot follow */
  private readonly opaqueCounts = new Map<string, number>();
  private seq = 0;
  /** bumped when any display name may have changed; visible dicts of older generations are rebuilt */
  private gen = 0;

  get size(): number {
    return this.map.size;
  }
  get(id: string): Rec | undefined {
    return this.map.get(id);
  }
  tagCount(tag: string): number {
    return this.tagCounts.get(tag) ?? 0;
  }
  /** true if no record holds a Dict or DateTime in `tag` (see filter/pathPlan.ts) */
  refOnly(tag: string): boolean {
    return !this.opaqueCounts.has(tag);
  }
  /** true if some record carries `tag` in its (unindexed) transient layer */
  hasTransientTag(tag: string): boolean {
    return (this.transientTagCounts.get(tag) ?? 0) > 0;
  }

  /**
   * Sets a record's persistent tags (add or replace); the transient layer is kept. With `delta`
   * (a commit's: the dict it was applied to and the tags it changed), only those tags are
   * recounted when the cache still holds that dict: a one-tag update touches one tag, not all.
   */
  put(id: string, persistent: HDict, storedText?: string, delta?: { base: HDict; tags: string[] }): Rec {
    let rec = this.map.get(id);
    if (rec && delta && rec.persistent === delta.base && deltaCovers(delta.base, persistent, delta.tags)) {
      const old = rec.persistent;
      let disChanged = false;
      for (const tag of delta.tags) {
        const a = old.get(tag);
        const b = persistent.get(tag);
        if (DIS_TAGS.has(tag) && differs(a, b)) disChanged = true;
        // presence as a full recount sees it (`keys`: a tag holding null counts)
        bump(this.tagCounts, tag, (persistent.has(tag) ? 1 : 0) - (old.has(tag) ? 1 : 0));
        bump(this.opaqueCounts, tag, (isOpaque(b) ? 1 : 0) - (isOpaque(a) ? 1 : 0));
      }
      rec.persistent = persistent;
      rec.invalidate();
      if (disChanged) this.gen++;
      rec.storedText = storedText;
      rec.trash = persistent.has('trash');
      return rec;
    }
    if (rec) {
      const disChanged = disTagsDiffer(rec.persistent, persistent);
      count(this.tagCounts, rec.persistent, -1);
      countOpaque(this.opaqueCounts, rec.persistent, -1);
      rec.persistent = persistent;
      rec.invalidate();
      if (disChanged) this.gen++;
    } else {
      this.seq += 1;
      rec = new Rec(id, persistent, this.seq);
      this.map.set(id, rec);
      this.gen++;
    }
    count(this.tagCounts, persistent, 1);
    countOpaque(this.opaqueCounts, persistent, 1);
    rec.storedText = storedText;
    rec.trash = persistent.has('trash');
    return rec;
  }

  delete(id: string): void {
    const rec = this.map.get(id);
    if (!rec) return;
    count(this.tagCounts, rec.persistent, -1);
    countOpaque(this.opaqueCounts, rec.persistent, -1);
    if (rec.transient) count(this.transientTagCounts, rec.transient, -1);
    this.map.delete(id);
    this.gen++;
  }

  setTransient(rec: Rec, transient: HDict | undefined): void {
    if (rec.transient) count(this.transientTagCounts, rec.transient, -1);
    rec.transient = transient && !transient.isEmpty() ? transient : undefined;
    if (rec.transient) count(this.transientTagCounts, rec.transient, 1);
    rec.invalidate();
  }

  /** Forgets every cached display name (disMacro chains are recomputed lazily). */
  refreshDis(): void {
    for (const rec of this.map.values()) rec.disCache = undefined;
    this.gen++;
  }

  clear(): void {
    this.map.clear();
    this.tagCounts.clear();
    this.transientTagCounts.clear();
    this.opaqueCounts.clear();
    this.gen++;
  }

  /** The display name of a record id, or undefined if no such record. */
  disOf(id: string): string | undefined {
    const rec = this.map.get(id);
    if (!rec) return undefined;
    if (rec.disCache === undefined) {
      rec.disCache = recDis(rec.merged, (rid) => this.map.get(rid)?.merged);
    }
    return rec.disCache;
  }

  /** The dict readers see: both layers, every Ref carrying its target's display name. */
  visible(rec: Rec): HDict {
    if (rec.visibleCache && rec.visibleGen === this.gen) return rec.visibleCache;
    // Refs that already carry the right display name are kept, so a dict whose names did not
    // change comes back as the same instance (no new dict per commit)
    const v = mapRefs(rec.merged, (ref) => {
      const dis = this.disOf(ref.value);
      const cur = refDis(ref);
      if (cur === dis) return ref;
      return dis === undefined ? HRef.make(ref.value) : HRef.make(ref.value, dis);
    }) as HDict;
    rec.adoptVisible(v);
    if (v !== rec.visibleCache) rec.visiblePromise = undefined;
    rec.visibleCache = v;
    rec.visibleGen = this.gen;
    return v;
  }

  /**
   * The visible dict as a promise that is already resolved, made once per visible dict. Resolving
   * a promise with a dict looks up `then` on it, and haystack-core's HDict is a Proxy whose trap
   * walks the dict's store: with 100k records that is several cache misses per read, about half
   * of a warm readById (docs/benchmarks.md). Awaiting this promise touches only the promise.
   */
  visiblePromise(rec: Rec): Promise<HDict> {
    if (rec.visiblePromise && rec.visibleGen === this.gen) return rec.visiblePromise;
    const v = this.visible(rec);
    rec.visiblePromise ??= Promise.resolve(v);
    return rec.visiblePromise;
  }
}

function count(counts: Map<string, number>, dict: HDict, delta: number): void {
  for (const name of dict.keys) bump(counts, name, delta);
}

/**
 * True if `tags` are the only tags whose presence differs between `base` and `next`, as far as the
 * tag count tells: a base holding a tag the commit dropped without naming it (a null value written
 * by something else) makes the counts disagree, and the caller recounts everything.
 */
function deltaCovers(base: HDict, next: HDict, tags: string[]): boolean {
  let net = 0;
  for (const tag of tags) net += (next.has(tag) ? 1 : 0) - (base.has(tag) ? 1 : 0);
  return base.keys.length + net === next.keys.length;
}

function bump(counts: Map<string, number>, name: string, delta: number): void {
  if (delta === 0) return;
  const n = (counts.get(name) ?? 0) + delta;
  if (n <= 0) counts.delete(name);
  else counts.set(name, n);
}

function isOpaque(v: HVal | null | undefined): boolean {
  return !!v && (valueIsKind(v, Kind.Dict) || valueIsKind(v, Kind.DateTime));
}

function countOpaque(counts: Map<string, number>, dict: HDict, delta: number): void {
  for (const name of dict.keys) if (isOpaque(dict.get(name))) bump(counts, name, delta);
}

function differs(x: HVal | null | undefined, y: HVal | null | undefined): boolean {
  if (x === y) return false;
  return !x || !y || !x.equals(y);
}

function disTagsDiffer(a: HDict, b: HDict): boolean {
  for (const t of DIS_TAGS) if (differs(a.get(t), b.get(t))) return true;
  return false;
}
