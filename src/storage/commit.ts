// The persistent commit transaction (docs/commit-protocol.md):
//   1. on a dedicated pooled connection: WATCH every rec key of the batch + MGET them (one round trip);
//   2. verify in Redis's state: exists / not exists / mod equality (never only the local cache);
//   3. MULTI: SET/DEL recs, SADD/SREM the id sets and tag indexes, INCR ver, XADD the change
//      stream entry; EXEC (one round trip). A nil EXEC means a watched rec changed: go to 1.
// Nothing local changes before EXEC succeeds; the caller applies the result to its cache.
// The stream entry carries ids and new mods only (`~` for a removal): other processes fetch the
// records themselves, so the writer's own feed connection gets a few bytes back, not the records.
import { HDateTime, HDict, HRef, HRemove, type HVal } from 'haystack-core';
import type { Redis } from 'ioredis';
import { CommitError, ConcurrentChangeError, StorageError } from '../folio/errors.js';
import { neverIndex } from '../folio/tagRules.js';
import { tagIndexTerms, termKey, type IndexTerm } from '../filter/indexTerms.js';
import { decodeRec, encodeRec } from './codec.js';
import type { FolioKeys } from './keys.js';
import { mapRefs, toRel } from '../folio/refs.js';

/** One diff of a batch, normalized: absolute id, absolute refs, changes as a plain map. */
export interface PlannedDiff {
  id: string;
  isAdd: boolean;
  isRemove: boolean;
  isForce: boolean;
  oldMod: HDateTime | undefined;
  changes: HDict;
}

export interface VerifiedDiff extends PlannedDiff {
  /** persistent tags in Redis before the commit (undefined for adds) */
  oldPersistent: HDict | undefined;
  /** persistent tags after the commit (undefined for removes) */
  newPersistent: HDict | undefined;
  /** the stored text of newPersistent */
  newText: string | undefined;
}

export interface CommitResult {
  diffs: VerifiedDiff[];
  newMod: HDateTime;
  /** newMod in epoch milliseconds */
  newModMs: number;
  ver: number;
  streamId: string;
}

export interface CommitEnv {
  keys: FolioKeys;
  idPrefix: string | undefined;
  changeStreamMaxLen: number;
  /** mod of the newest local commit, for strictly increasing mods */
  lastModMs: number;
  /** called once, after the first successful verify, before anything is written */
  beforeWrite(diffs: VerifiedDiff[]): void;
  /** extra check of the state read from Redis (e.g. the transient-overlap rule) */
  verifyExtra?(d: VerifiedDiff): void;
  /** the cached record, if its stored text is known: an unchanged text skips a decode */
  cached?(id: string): { text: string | undefined; persistent: HDict } | undefined;
}

const MAX_ATTEMPTS = 50;

/** The index keys (termKey strings) of a record, over its stored form: Ref ids relative to the
 * idPrefix, so a prefix rename on reopen keeps every index valid. With `only`, just those tags'. */
export function termKeysOf(persistent: HDict | undefined, idPrefix: string | undefined, only?: string[]): Set<string> {
  const out = new Set<string>();
  if (!persistent) return out;
  const terms: IndexTerm[] = [];
  for (const tag of only ?? persistent.keys) {
    if (neverIndex(tag)) continue;
    let val = persistent.get(tag);
    if (idPrefix && val) val = mapRefs(val, (r) => HRef.make(toRel(r.value, idPrefix)));
    tagIndexTerms(tag, val, terms);
  }
  for (const t of terms) out.add(termKey(t));
  return out;
}

export async function runCommit(conn: Redis, env: CommitEnv, planned: PlannedDiff[]): Promise<CommitResult> {
  const { idPrefix } = env;
  const recKeys = planned.map((d) => env.keys.rec(toRel(d.id, idPrefix)));
  let hooksRan = false;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const prePromise = conn.pipeline().watch(...recKeys).mget(...recKeys).exec();
    // While Redis answers, build the transaction from the cached records, as if Redis held
    // exactly their stored texts. It is used only if the MGET reply shows those very texts, so the
    // check still runs against Redis's state; it just takes the CPU work off the critical path.
    const spec = attempt === 1 ? speculate(conn, env, planned, recKeys) : undefined;
    const pre = await prePromise;
    if (!pre) throw new StorageError('WATCH/MGET returned no reply');
    const [watchErr] = pre[0] ?? [];
    if (watchErr) throw watchErr;
    const [mgetErr, stored] = pre[1] ?? [];
    if (mgetErr) throw mgetErr;
    const current = stored as (string | null)[];

    let tx: Transaction;
    try {
      if (spec && sameTexts(spec.texts, current)) tx = spec.tx;
      else {
        const verified = planned.map((d, i) => {
          const text = current[i] ?? null;
          const cached = text === null ? undefined : env.cached?.(d.id);
          const old = cached && cached.text === text ? cached.persistent : undefined;
          return verifyOne(d, text, old, idPrefix, recKeys[i] ?? '');
        });
        tx = buildTransaction(conn, env, verified, recKeys);
      }
      if (env.verifyExtra) tx.verified.forEach((d) => env.verifyExtra?.(d));
      if (!hooksRan) {
        hooksRan = true;
        env.beforeWrite(tx.verified);
      }
    } catch (e) {
      await conn.unwatch();
      throw e;
    }

    const res = await tx.multi.exec();
    if (res === null) continue; // a watched rec changed between MGET and EXEC: verify again
    // runtime errors inside EXEC do not roll back in Redis; surface them loudly
    for (const [err] of res) if (err) throw new StorageError(`Commit transaction failed: ${err.message}`, { cause: err });
    const ver = Number(res[res.length - 2]?.[1]);
    const streamId = String(res[res.length - 1]?.[1]);
    return { diffs: tx.verified, newMod: tx.newMod, newModMs: modMs(tx.newMod), ver, streamId };
  }
  throw new ConcurrentChangeError(`Commit gave up after ${MAX_ATTEMPTS} attempts: records keep changing`);
}

/** A verified batch and its MULTI, built but not yet sent. */
interface Transaction {
  verified: VerifiedDiff[];
  newMod: HDateTime;
  multi: ReturnType<Redis['multi']>;
}

/**
 * The transaction as it would be if Redis held the cached stored texts (null for an add the cache
 * does not know), or undefined when some text is unknown or the cached state would not verify
 * (then the real reply decides, and names the error).
 */
function speculate(conn: Redis, env: CommitEnv, planned: PlannedDiff[], recKeys: string[]): { texts: (string | null)[]; tx: Transaction } | undefined {
  if (!env.cached) return undefined;
  const texts: (string | null)[] = [];
  const verified: VerifiedDiff[] = [];
  try {
    for (let i = 0; i < planned.length; i++) {
      const d = planned[i] as PlannedDiff;
      const cached = env.cached(d.id);
      if (cached && cached.text === undefined) return undefined;
      const text = cached ? (cached.text as string) : null;
      texts.push(text);
      verified.push(verifyOne(d, text, cached?.persistent, env.idPrefix, recKeys[i] ?? ''));
    }
    return { texts, tx: buildTransaction(conn, env, verified, recKeys) };
  } catch {
    return undefined;
  }
}

function sameTexts(a: (string | null)[], b: (string | null)[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== (b[i] ?? null)) return false;
  return true;
}

/** The new records, their index deltas and the MULTI that writes them (not yet sent). */
function buildTransaction(conn: Redis, env: CommitEnv, verified: VerifiedDiff[], recKeys: string[]): Transaction {
  const { keys, idPrefix } = env;
  const newMod = nextMod(env.lastModMs, verified);
  for (const d of verified) d.newPersistent = d.isRemove ? undefined : applyChanges(d, newMod);

  // Collect the writes per key first: a batch of 1,000 adds then sends one MSET, one SADD per
  // index key with every id in it, instead of ~14 commands per record.
  const sets: string[] = [];
  const dels: string[] = [];
  const adds = new Map<string, string[]>();
  const rems = new Map<string, string[]>();
  const push = (m: Map<string, string[]>, key: string, rel: string) => {
    const l = m.get(key);
    if (l) l.push(rel);
    else m.set(key, [rel]);
  };
  const streamFields: string[] = [];
  for (let i = 0; i < verified.length; i++) {
    const d = verified[i] as VerifiedDiff;
    const rel = toRel(d.id, idPrefix);
    const recKey = recKeys[i] as string;
    // only the changed tags' index entries move (all of them for an add or a remove)
    const only = d.isAdd || d.isRemove ? undefined : d.changes.keys;
    const oldTerms = termKeysOf(d.oldPersistent, idPrefix, only);
    const newTerms = termKeysOf(d.newPersistent, idPrefix, only);
    if (d.newPersistent) {
      const enc = encodeRec(d.newPersistent, idPrefix);
      d.newText = enc;
      sets.push(recKey, enc);
      if (d.isAdd) push(adds, keys.all, rel);
      const wasTrash = d.oldPersistent?.has('trash') ?? false;
      const isTrash = d.newPersistent.has('trash');
      if (isTrash && !wasTrash) push(adds, keys.trash, rel);
      if (!isTrash && wasTrash) push(rems, keys.trash, rel);
      streamFields.push(rel, newMod.value);
    } else {
      dels.push(recKey);
      push(rems, keys.all, rel);
      push(rems, keys.trash, rel);
      streamFields.push(rel, '~');
    }
    for (const t of oldTerms) if (!newTerms.has(t)) push(rems, keys.index(t), rel);
    for (const t of newTerms) if (!oldTerms.has(t)) push(adds, keys.index(t), rel);
  }
  // ioredis queues a MULTI's commands locally until exec(): building it early sends nothing
  const multi = conn.multi();
  if (sets.length > 0) multi.mset(...sets);
  if (dels.length > 0) multi.del(...dels);
  for (const [key, ids] of rems) multi.srem(key, ...ids);
  for (const [key, ids] of adds) multi.sadd(key, ...ids);
  multi.incr(keys.ver);
  multi.xadd(keys.changes, 'MAXLEN', '~', String(env.changeStreamMaxLen), '*', ...streamFields);
  return { verified, newMod, multi };
}

function verifyOne(
  d: PlannedDiff,
  stored: string | null,
  decoded: HDict | undefined,
  idPrefix: string | undefined,
  key: string,
): VerifiedDiff {
  const oldPersistent = stored === null ? undefined : (decoded ?? decodeRec(stored, idPrefix, key));
  if (d.isAdd) {
    if (oldPersistent) throw new CommitError(`Rec already exists: ${d.id}`);
  } else {
    if (!oldPersistent) throw new CommitError(`Rec not found: ${d.id}`);
    if (!d.isForce) {
      const cur = oldPersistent.get('mod') as HDateTime | undefined;
      if (!modEquals(cur, d.oldMod)) {
        throw new ConcurrentChangeError(`${d.id}: ${cur?.toZinc() ?? 'null'} != ${d.oldMod?.toZinc() ?? 'null'}`);
      }
    }
  }
  return { ...d, oldPersistent, newPersistent: undefined, newText: undefined };
}

export function modEquals(a: HDateTime | undefined, b: HDateTime | undefined): boolean {
  if (!a || !b) return a === b;
  return a.equals(b);
}

/** One mod for the whole batch: now, but strictly after every old mod and the last local commit. */
/** Epoch ms of a mod (UTC ISO text; parsing it is cheaper than HDateTime's Date getter). */
export function modMs(mod: HDateTime): number {
  const ms = Date.parse(mod.value);
  return Number.isNaN(ms) ? mod.date.getTime() : ms;
}

function nextMod(lastModMs: number, diffs: VerifiedDiff[]): HDateTime {
  let ms = Math.max(Date.now(), lastModMs + 1);
  for (const d of diffs) {
    const old = d.oldPersistent?.get('mod') as HDateTime | undefined;
    if (old) ms = Math.max(ms, modMs(old) + 1);
  }
  return HDateTime.make(new Date(ms));
}

function applyChanges(d: VerifiedDiff, newMod: HDateTime): HDict {
  // id first and mod last, as Haxall shows records. The old id Ref is kept (it may carry the
  // record's display name): the visible dict then needs no rebuild unless that name changed.
  const oldId = d.oldPersistent?.get('id');
  const id = oldId instanceof HRef && oldId.value === d.id ? oldId : HRef.make(d.id);
  const obj: Record<string, HVal> = { id };
  if (d.oldPersistent) {
    for (const [name, val] of Object.entries(d.oldPersistent.toObj())) if (val) obj[name] = val;
  }
  for (const name of d.changes.keys) {
    const val = d.changes.get(name);
    if (val === undefined || val === null || val instanceof HRemove) delete obj[name];
    else obj[name] = val;
  }
  obj.id = id;
  delete obj.mod;
  obj.mod = newMod;
  return HDict.make(obj);
}
