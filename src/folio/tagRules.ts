// The reserved and restricted tags of spec 2.2 (Haxall DiffTagRule.rules), as data plus helpers.
import { HDict } from 'haystack-core';
import type { HVal } from 'haystack-core';

export type TagRuleKind = 'never' | 'restricted' | 'persistentOnly' | 'transientOnly';

export interface TagRule {
  readonly kind: TagRuleKind;
  /** computed Diff flag(s) this tag adds when it is in the changes (set or removed) */
  readonly flags: number;
}

// literal values of Diff.point / Diff.curVal / Diff.treeUpdate: importing Diff here would be circular
const POINT = 0x40;
const CUR_VAL = 0x20;
const TREE_UPDATE = 0x80;

export const NEVER_TAGS: readonly string[] = [
  'id', 'mod', 'transient', 'hisId', 'hisSize', 'hisStart', 'hisStartVal', 'hisEnd', 'hisEndVal',
];
export const RESTRICTED_TAGS: readonly string[] = ['projMeta', 'uiMeta', 'ext', 'fileSize'];
export const PERSISTENT_ONLY_TAGS: readonly string[] = [
  'conn', 'dis', 'disMacro', 'equip', 'navName', 'site', 'point', 'trash',
];
export const TRANSIENT_ONLY_TAGS: readonly string[] = [
  'connState', 'connStatus', 'connErr', 'curVal', 'curStatus', 'curErr', 'curSource',
  'writeVal', 'writeLevel', 'writeStatus', 'writeErr', 'nextTime', 'nextVal', 'hisStatus', 'hisErr',
  'userFailedLogins',
];

const EXTRA_FLAGS: Readonly<Record<string, number>> = {
  point: POINT,
  trash: TREE_UPDATE,
  curVal: CUR_VAL,
  curStatus: CUR_VAL,
};

function buildRules(): ReadonlyMap<string, TagRule> {
  const m = new Map<string, TagRule>();
  const put = (tags: readonly string[], kind: TagRuleKind): void => {
    for (const t of tags) m.set(t, { kind, flags: EXTRA_FLAGS[t] ?? 0 });
  };
  put(NEVER_TAGS, 'never');
  put(RESTRICTED_TAGS, 'restricted');
  put(PERSISTENT_ONLY_TAGS, 'persistentOnly');
  put(TRANSIENT_ONLY_TAGS, 'transientOnly');
  return m;
}

/** Tag name to rule; tags not in the map have no rule. */
export const TAG_RULES: ReadonlyMap<string, TagRule> = buildRules();

/** The rule of a tag, or undefined. */
export function tagRule(name: string): TagRule | undefined {
  return TAG_RULES.get(name);
}

/** True for transientOnly tags and for never tags except `id` (Haxall `FolioUtil.isUncommittable`). */
export function isUncommittable(name: string): boolean {
  const r = TAG_RULES.get(name);
  if (r === undefined) return false;
  if (r.kind === 'transientOnly') return true;
  return r.kind === 'never' && name !== 'id';
}

const NEVER_INDEX = new Set<string>(['id', 'mod', 'trash', ...NEVER_TAGS, ...TRANSIENT_ONLY_TAGS]);

/** Tags that are never indexed (Haxall `tagsToNeverIndex`): id, mod, trash, never and transientOnly tags. */
export function neverIndex(tag: string): boolean {
  return NEVER_INDEX.has(tag);
}

export interface StripOptions {
  /** keep `mod` (Haxall `{mod}` option) */
  mod?: boolean;
  /** strip `id` too (Haxall `{id: None}` option) */
  stripId?: boolean;
  /** names of the rec's current transient tags, which are stripped too */
  transientTags?: Iterable<string>;
}

/**
 * Remove uncommittable tags, `mod` and the given transient tags from `dict`, so that it can be
 * committed again (Haxall `FolioUtil.stripUncommittable`; the folio supplies the transient names).
 */
export function stripUncommittable(dict: HDict, opts: StripOptions = {}): HDict {
  const transient = new Set(opts.transientTags ?? []);
  const out: Record<string, HVal | null> = {};
  let changed = false;
  for (const name of dict.keys) {
    const drop =
      (name === 'mod' && !opts.mod) ||
      (name === 'id' && opts.stripId === true) ||
      (name !== 'mod' && isUncommittable(name)) ||
      transient.has(name);
    if (drop) {
      changed = true;
      continue;
    }
    out[name] = dict.get(name) ?? null;
  }
  return changed ? HDict.make(out) : dict;
}
