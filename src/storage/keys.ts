// The one module that owns the Redis key layout (docs/redis-layout.md explains each key).
//
// Every key of one folio starts with `{hx:<name>}`: the braces are a Redis Cluster hash tag, so all
// record, index and meta keys of a folio live in one slot and one MULTI/EXEC can touch them all.
// History keys carry a per-point tag instead (`hxhis:{<name>:<id>}:...`), so a cluster spreads them.
import { ArgError } from '../folio/errors.js';

const NAME_RE = /^[A-Za-z0-9_.-]{1,64}$/;

export function checkFolioName(name: string): string {
  if (!NAME_RE.test(name)) {
    throw new ArgError(`Invalid folio name ${JSON.stringify(name)}: use 1-64 of A-Z a-z 0-9 _ . -`);
  }
  return name;
}

export class FolioKeys {
  readonly name: string;
  /** common prefix of every record/index/meta key, hash tag included */
  readonly base: string;

  constructor(name: string) {
    this.name = checkFolioName(name);
    this.base = `{hx:${name}}:`;
  }

  /** STRING: one record, encoded (see codec.ts); the id is stored relative to the idPrefix */
  rec(relId: string): string {
    return `${this.base}r:${relId}`;
  }
  /** the relative id of a rec key */
  relIdOfRecKey(key: string): string {
    return key.slice(this.base.length + 2);
  }
  /** SET: relative ids of every record, live and trash */
  get all(): string {
    return `${this.base}all`;
  }
  /** SET: relative ids of trashed records */
  get trash(): string {
    return `${this.base}trash`;
  }
  /** SET: relative ids of the records matching one index term (see filter/indexTerms.ts) */
  index(termKey: string): string {
    return `${this.base}i:${termKey}`;
  }
  /** STRING (integer): curVer, INCR'd in every persistent commit's transaction */
  get ver(): string {
    return `${this.base}ver`;
  }
  /** STREAM: one entry per persistent commit, written in the commit's transaction */
  get changes(): string {
    return `${this.base}changes`;
  }
  /** HASH: layout version and creation time */
  get meta(): string {
    return `${this.base}meta`;
  }
  /** ZSET (fallback history, issue 4): one per point, tagged per point for cluster spread */
  hisZset(relId: string): string {
    return `hxhis:{${this.name}:${relId}}:z`;
  }
  /** TimeSeries key of one point */
  hisTs(relId: string): string {
    return `hxhis:{${this.name}:${relId}}:ts`;
  }
  /**
   * HASH (history): per-point meta, field `layout` = `ts` | `zset`. Set on the point's first write
   * (HSETNX, so concurrent first writers agree) and changed only by a migration ts -> zset or a
   * `clearAll` write (which deletes it). Same hash tag as the point's samples, so one MULTI can
   * touch meta and samples. See docs/history.md.
   */
  hisMeta(relId: string): string {
    return `hxhis:{${this.name}:${relId}}:m`;
  }
  /**
   * SCAN pattern (history): every history key of this folio. Folio names hold no `:`, so the
   * name ends at the first `:` inside the tag and no other folio's keys match.
   */
  get hisPattern(): string {
    return `hxhis:\\{${globEscape(this.name)}:*`;
  }
  /** SCAN pattern of layout 1's history keys, `hxhis:<name>:{<name>:<id>}:<suffix>` */
  get hisPatternV1(): string {
    return `hxhis:${globEscape(this.name)}:\\{${globEscape(this.name)}:*`;
  }
  /** The layout 2 name of one of this folio's layout 1 history keys (same hash tag, same slot). */
  hisKeyFromV1(key: string): string | undefined {
    const pre = `hxhis:${this.name}:{${this.name}:`;
    return key.startsWith(pre) ? `hxhis:{${this.name}:${key.slice(pre.length)}` : undefined;
  }
  /** SCAN pattern matching every record/index/meta key of this folio */
  get pattern(): string {
    return `${globEscape(this.base)}*`;
  }
}

function globEscape(s: string): string {
  return s.replace(/[{}[\]*?\\]/g, (c) => `\\${c}`);
}

/**
 * The layout version written into meta; bumped when the layout changes incompatibly.
 * 2: history keys lost the folio name's first copy (`hxhis:<name>:{<name>:<id>}:ts` ->
 * `hxhis:{<name>:<id>}:ts`): TS.MADD repeats the key per sample, and the engine spent ~9% more per
 * sample on 75-byte keys than on 22-byte ones (docs/history.md). Layout 1 folios are migrated at
 * open (src/storage/migrate.ts).
 */
export const LAYOUT_VERSION = 2;
