// Diff: an immutable description of one record change (spec 1.4, 2.1; Haxall Diff.fan).
// All validation happens in the constructor so that a bad diff never reaches a commit.
import { randomBytes } from 'node:crypto';
import { HBool, HDict, HList, HNum, HRef, HStr, Kind, isHVal, makeValue, toKind } from 'haystack-core';
import type { HDateTime, HVal, HaysonVal } from 'haystack-core';
import { DiffError, InvalidTagValError } from './errors.js';
import { tagRule } from './tagRules.js';
import { checkRecId, checkTagName, checkTagVal } from './validate.js';

/** Input form of a Diff's changes: an HDict, or a plain object of HVals and JS primitives. */
export type DiffChanges = HDict | Record<string, unknown> | null;

/** Fields of a result diff, for `Diff.makeAll`. */
export interface DiffFields {
  id: HRef;
  oldMod?: HDateTime;
  oldRec?: HDict;
  newMod?: HDateTime;
  newRec?: HDict;
  changes: HDict;
  flags: number;
}

export class Diff {
  static readonly add = 0x01;
  static readonly remove = 0x02;
  static readonly transient = 0x04;
  static readonly force = 0x08;
  static readonly bypassRestricted = 0x10;
  static readonly curVal = 0x20;
  static readonly point = 0x40;
  static readonly treeUpdate = 0x80;
  static readonly forceTransient = 0x0c;

  readonly id: HRef;
  readonly oldMod: HDateTime | undefined;
  /** undefined on a caller's diff; the folio fills it in the result diff */
  readonly oldRec: HDict | undefined;
  readonly newRec: HDict | undefined;
  readonly newMod: HDateTime | undefined;
  readonly changes: HDict;
  readonly flags: number;

  constructor(oldRec: HDict | null, changes: DiffChanges, flags = 0) {
    const entries = changeEntries(changes);
    let id: HRef;
    let oldMod: HDateTime | undefined;
    if (oldRec === null || oldRec === undefined) {
      if ((flags & Diff.add) === 0) throw new DiffError("Must pass 'add' flag if oldRec is null");
      if (entries.some(([n]) => n === 'id')) throw new DiffError("Cannot specify 'id' tag if using 'add' flag");
      id = genRef();
    } else {
      if ((flags & Diff.add) !== 0) throw new DiffError("Cannot pass oldRec if using 'add' flag");
      ({ id, oldMod } = oldRecIdMod(oldRec));
    }
    const checked = check(id, entries, flags);
    this.id = id;
    this.oldMod = oldMod;
    this.oldRec = undefined;
    this.newRec = undefined;
    this.newMod = undefined;
    this.changes = checked.changes;
    this.flags = checked.flags;
  }

  /** A diff that adds a new rec with `id` (default: a generated id). */
  static makeAdd(changes: DiffChanges, id?: HRef | string): Diff {
    const entries = changeEntries(changes);
    if (entries.some(([n]) => n === 'id')) throw new DiffError("makeAdd cannot specify 'id' tag");
    const ref = id === undefined ? genRef() : typeof id === 'string' ? HRef.make(id) : id;
    const checked = check(ref, entries, Diff.add);
    return Diff.makeAll({ id: ref, changes: checked.changes, flags: checked.flags });
  }

  /** Used by implementations to build the result diff; no validation. */
  static makeAll(fields: DiffFields): Diff {
    // bypass the validating constructor: result diffs describe what was committed
    const d = Object.create(Diff.prototype) as Diff;
    const init: { -readonly [K in keyof Diff]?: Diff[K] } = {
      id: fields.id,
      oldMod: fields.oldMod,
      oldRec: fields.oldRec,
      newMod: fields.newMod,
      newRec: fields.newRec,
      changes: fields.changes,
      flags: fields.flags,
    };
    return Object.assign(d, init);
  }

  /** Generate a new rec id like Haxall `Ref.gen`: 8 hex digits of time, `-`, 8 random hex digits. */
  static genId(): HRef {
    return genRef();
  }

  get isAdd(): boolean { return (this.flags & Diff.add) !== 0; }
  get isRemove(): boolean { return (this.flags & Diff.remove) !== 0; }
  get isUpdate(): boolean { return (this.flags & (Diff.add | Diff.remove)) === 0; }
  get isTransient(): boolean { return (this.flags & Diff.transient) !== 0; }
  get isForce(): boolean { return (this.flags & Diff.force) !== 0; }
  get isBypassRestricted(): boolean { return (this.flags & Diff.bypassRestricted) !== 0; }
  get isCurVal(): boolean { return (this.flags & Diff.curVal) !== 0; }
  get isAddPoint(): boolean { return this.isAdd && (this.flags & Diff.point) !== 0; }
  get isTreeUpdate(): boolean { return (this.flags & Diff.treeUpdate) !== 0; }

  getOld(tag: string): HVal | undefined {
    return this.oldRec?.get(tag) ?? undefined;
  }

  getNew(tag: string): HVal | undefined {
    return this.newRec?.get(tag) ?? undefined;
  }

  /** `+{id:@x,mod:…,tag,tag:val}`; `-` for remove, `^` for update. */
  toString(): string {
    const op = this.isAdd ? '+' : this.isRemove ? '-' : '^';
    let s = `${op}{id:${this.id.toZinc()}`;
    if (this.oldMod !== undefined) s += `,mod:${this.oldMod.toZinc()}`;
    for (const name of this.changes.keys) {
      const v = this.changes.get(name);
      s += `,${name}`;
      if (v !== null && v !== undefined && v.getKind() !== Kind.Marker) s += `:${v.toZinc()}`;
    }
    return `${s}}`;
  }
}

type Entry = [string, unknown];

function changeEntries(changes: DiffChanges | undefined): Entry[] {
  if (changes === null || changes === undefined) return [];
  if (changes instanceof HDict) return changes.keys.map((k): Entry => [k, changes.get(k)]);
  if (typeof changes !== 'object' || Array.isArray(changes)) {
    throw new DiffError(`Invalid changes: ${typeof changes}`);
  }
  return Object.entries(changes);
}

function oldRecIdMod(oldRec: HDict): { id: HRef; oldMod: HDateTime | undefined } {
  if (!(oldRec instanceof HDict)) throw new DiffError('oldRec must be an HDict');
  const id = oldRec.get('id');
  if (!(id instanceof HRef)) throw new DiffError("oldRec missing 'id' tag");
  const mod = oldRec.get('mod');
  // Haxall reads oldRec->mod, which throws when missing
  if (mod === null || mod === undefined || mod.getKind() !== Kind.DateTime) {
    throw new DiffError(`oldRec missing 'mod' tag [@${id.value}]`);
  }
  return { id, oldMod: mod as HDateTime };
}

/** The checks of spec 2.1 `check()`, in order; returns the changes as an HDict and the full flags. */
function check(id: HRef, entries: Entry[], flags: number): { changes: HDict; flags: number } {
  const transient = (flags & Diff.transient) !== 0;
  const isAdd = (flags & Diff.add) !== 0;
  if (transient && (isAdd || (flags & Diff.remove) !== 0)) {
    throw new DiffError('Invalid diff flags: transient + add|remove');
  }
  if (isAdd) checkRecId(id.value);
  const bypass = (flags & Diff.bypassRestricted) !== 0;
  const out: Record<string, HVal> = {};
  for (const [name, raw] of entries) {
    checkTagName(name);
    const val = toHVal(name, raw);
    checkTagVal(name, val);
    const isRemove = val.getKind() === Kind.Remove;
    if (transient && isBin(val)) throw new DiffError('Bin tag cannot be transient');
    const rule = tagRule(name);
    if (rule !== undefined) {
      switch (rule.kind) {
        case 'never':
          throw new DiffError(`Cannot set tag: ${JSON.stringify(name)}`);
        case 'restricted':
          if (!bypass) {
            if (isAdd) throw new DiffError(`Cannot add rec with restricted tag: ${JSON.stringify(name)}`);
            if (isRemove) throw new DiffError(`Cannot remove restricted tag: ${JSON.stringify(name)}`);
            throw new DiffError(`Cannot set restricted tag: ${JSON.stringify(name)}`);
          }
          break;
        case 'persistentOnly':
          if (transient) throw new DiffError(`Cannot set tag transiently: ${JSON.stringify(name)}`);
          break;
        case 'transientOnly':
          if (!transient) throw new DiffError(`Cannot set tag persistently: ${JSON.stringify(name)}`);
          break;
      }
      flags |= rule.flags;
    }
    // a scalar Ref change can move the rec in the site/equip/point tree
    if (!transient && val instanceof HRef) flags |= Diff.treeUpdate;
    out[name] = val;
  }
  if ((flags & (Diff.add | Diff.remove)) !== 0) flags |= Diff.treeUpdate;
  return { changes: HDict.make(out), flags };
}

// haystack-core has no Bin class; a Bin arrives as a Bin-kinded value or as an XStr of type Bin
function isBin(val: HVal): boolean {
  const kind = val.getKind();
  if (kind === Kind.Bin) return true;
  return kind === Kind.XStr && (val as unknown as { type?: string }).type === 'Bin';
}

/** JS input to HVal: HVals as is, string/number/boolean, arrays to HList, plain objects to HDict. */
function toHVal(name: string, raw: unknown): HVal {
  if (raw === null || raw === undefined) throw new InvalidTagValError(`Tag cannot be null: ${name}`);
  if (isHVal(raw)) return raw;
  switch (typeof raw) {
    case 'string':
      return HStr.make(raw);
    case 'number':
      return HNum.make(raw);
    case 'boolean':
      return HBool.make(raw);
  }
  if (Array.isArray(raw)) return HList.make(raw.map((v) => toHVal(name, v)));
  if (typeof raw === 'object') {
    const proto: unknown = Object.getPrototypeOf(raw);
    if (proto === Object.prototype || proto === null) {
      // a Hayson value such as {_kind:'marker'}: decode it rather than make a dict of its fields
      const kind = (raw as { _kind?: unknown })._kind;
      if (typeof kind === 'string' && kind !== 'dict') {
        const v = toKind(kind) === undefined ? undefined : makeValue(raw as HaysonVal);
        if (v !== null && v !== undefined && isHVal(v) && v.getKind() === toKind(kind)) return v;
        throw new InvalidTagValError(`Unsupported value type for tag '${name}': Hayson ${kind}`);
      }
      const out: Record<string, HVal> = {};
      for (const [k, v] of Object.entries(raw)) out[k] = toHVal(name, v);
      return HDict.make(out);
    }
  }
  throw new InvalidTagValError(`Unsupported value type for tag '${name}': ${describe(raw)}`);
}

function describe(raw: unknown): string {
  if (typeof raw !== 'object' || raw === null) return typeof raw;
  return (raw as object).constructor?.name ?? 'object';
}

function genRef(): HRef {
  const time = Math.floor(Date.now() / 1000).toString(16).padStart(8, '0').slice(-8);
  return HRef.make(`${time}-${randomBytes(4).toString('hex')}`);
}
