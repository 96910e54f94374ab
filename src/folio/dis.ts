// Display names of recs (spec 2.6; Haxall Etc.dictToDis and Macro), resolving Refs through a lookup.
import { HRef, HStr } from 'haystack-core';
import type { HDict, HVal } from 'haystack-core';

/** Finds a rec by id (the id string of its Ref); undefined if missing. */
export type RecLookup = (id: string) => HDict | undefined;

/**
 * The display name of `rec`, with Haxall's precedence: `dis`, `disMacro` (expanded), `disKey`,
 * `name`, `def`, `tag`, then the id string. Refs in a disMacro resolve to the target rec's dis,
 * recursively; a missing target or a cycle gives the target's id string.
 */
export function recDis(rec: HDict, lookup: RecLookup): string {
  return disOf(rec, lookup, new Set());
}

function disOf(rec: HDict, lookup: RecLookup, visiting: Set<string>): string {
  const dis = rec.get('dis');
  if (isSet(dis)) return valStr(dis);
  const disMacro = rec.get('disMacro');
  if (isSet(disMacro)) {
    const id = idOf(rec);
    // mark before expanding so that a Ref back to this rec falls back to its id
    if (id !== undefined) visiting.add(id);
    try {
      return expandMacro(valStr(disMacro), (name) => resolve(rec.get(name), lookup, visiting));
    } finally {
      if (id !== undefined) visiting.delete(id);
    }
  }
  for (const tag of ['disKey', 'name', 'def', 'tag']) {
    const v = rec.get(tag);
    if (isSet(v)) return valStr(v);
  }
  return idOf(rec) ?? '';
}

function resolve(val: HVal | null | undefined, lookup: RecLookup, visiting: Set<string>): string | undefined {
  if (!isSet(val)) return undefined;
  if (val instanceof HRef) {
    const id = val.value;
    if (visiting.has(id)) return id;
    const target = lookup(id);
    return target === undefined ? id : disOf(target, lookup, visiting);
  }
  return valStr(val);
}

/**
 * Expand `$tag` and `${tag}` in `pattern` (Haxall Macro). A `$tag` name runs to the first non-tag
 * char. Unresolved variables, `$<key>` locale keys and a lone `$` are kept as written.
 */
export function expandMacro(pattern: string, resolveVar: (name: string) => string | undefined): string {
  let out = '';
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i];
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    if (pattern[i + 1] === '{') {
      const end = pattern.indexOf('}', i + 2);
      if (end < 0) {
        out += pattern.slice(i);
        break;
      }
      const name = pattern.slice(i + 2, end);
      out += resolveVar(name) ?? pattern.slice(i, end + 1);
      i = end + 1;
      continue;
    }
    let j = i + 1;
    while (j < pattern.length && /[A-Za-z0-9_]/.test(pattern[j])) j++;
    if (j === i + 1) {
      out += c;
      i++;
      continue;
    }
    const name = pattern.slice(i + 1, j);
    out += resolveVar(name) ?? pattern.slice(i, j);
    i = j;
  }
  return out;
}

function isSet(v: HVal | null | undefined): v is HVal {
  return v !== null && v !== undefined;
}

function idOf(rec: HDict): string | undefined {
  const id = rec.get('id');
  return id instanceof HRef ? id.value : undefined;
}

function valStr(v: HVal): string {
  if (v instanceof HStr) return v.value;
  return v.toString();
}
