// The `search` read option (Haxall Filter.search): a glob, `re:<regex>` or `f:<filter>`.
import { Kind, valueIsKind } from 'haystack-core';
import type { HDict, HRef, HStr } from 'haystack-core';
import { compileFilter } from './compile.js';
import type { Resolver } from './evaluate.js';

export type SearchMatcher = (rec: HDict, dis: string, resolve: Resolver) => boolean;

/** The id is only searched for patterns this long (shorter ones match too many ids by accident). */
export const SEARCH_ID_MIN = 8;

/**
 * Compile a search pattern (trimmed; empty matches everything):
 *  - `f:<filter>`: the rec matches the filter (a bad filter falls back to a glob, as in Haxall);
 *  - `re:<regex>`: the whole text matches the regex, case-insensitive (a bad regex falls back to a glob);
 *  - otherwise a case-insensitive glob with `*` and `?`, matched anywhere in the text.
 * Glob and regex are tried on `dis`, every Str tag value, and the id (without `@`) when the pattern
 * has at least SEARCH_ID_MIN characters.
 */
export function compileSearch(pattern: string): SearchMatcher {
  const p = pattern.trim();
  if (p === '') return () => true;
  if (p.startsWith('f:')) {
    try {
      const f = compileFilter(p.slice(2));
      return (rec, _dis, resolve) => f.matches(rec, resolve);
    } catch {
      // fall back to a glob, like Haxall
    }
  }
  let test: ((s: string) => boolean) | undefined;
  if (p.startsWith('re:')) {
    try {
      // Haxall's Regex.matches is a whole-string match.
      const re = new RegExp(`^(?:${p.slice(3)})$`, 'isu');
      test = (s) => re.test(s);
    } catch {
      test = undefined;
    }
  }
  if (test === undefined) {
    const re = globRegex(p);
    test = (s) => re.test(s);
  }
  return textMatcher(test, p.length >= SEARCH_ID_MIN);
}

function textMatcher(test: (s: string) => boolean, withId: boolean): SearchMatcher {
  return (rec, dis) => {
    if (test(dis)) return true;
    if (withId) {
      const id = rec.get('id');
      if (id && valueIsKind<HRef>(id, Kind.Ref) && test(id.value)) return true;
    }
    for (const name of rec.keys) {
      const v = rec.get(name);
      if (v && valueIsKind<HStr>(v, Kind.Str) && test(v.value)) return true;
    }
    return false;
  };
}

/** `*` any run, `?` one char, everything else literal; implicit `*` at both ends. */
function globRegex(glob: string): RegExp {
  let src = '';
  for (const ch of glob) {
    if (ch === '*') src += '.*';
    else if (ch === '?') src += '.';
    else src += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'); // only syntax chars: the `u` flag rejects other escapes
  }
  return new RegExp(`^.*${src}.*$`, 'isu');
}
