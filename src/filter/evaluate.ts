// The filter evaluator: Haxall Filter.fan semantics (spec section 4) over our own small AST.
// haystack-core's Node.eval differs from Haxall in several places (see test/unit/filter-hscore.test.ts),
// so compile.ts converts its AST into FilterNode and everything matches here.
import { Kind, valueIsKind } from 'haystack-core';
import type { HBool, HDate, HDateTime, HDict, HList, HNum, HRef, HTime, HVal } from 'haystack-core';
import { HDate as HDateCls, HStr, HTime as HTimeCls } from 'haystack-core';

export type CmpOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

/** Resolves a Ref to its record (undefined when unknown); used to path through `->`. */
export type Resolver = (ref: HRef) => HDict | undefined;

/**
 * Normalized filter AST. `and`/`or` are flattened and parentheses are gone.
 * `symbol` is `^a-b` (without a defs namespace: has every `-` term); `spec` (`Foo`, `lib::Foo`) and
 * `rel` (`siteRef?`) need a namespace and are always false here.
 */
export type FilterNode =
  | { kind: 'and'; nodes: FilterNode[] }
  | { kind: 'or'; nodes: FilterNode[] }
  | { kind: 'has'; path: string[] }
  | { kind: 'missing'; path: string[] }
  | { kind: 'cmp'; path: string[]; op: CmpOp; val: HVal }
  | { kind: 'symbol'; symbol: string; terms: string[] }
  | { kind: 'spec'; name: string }
  | { kind: 'rel'; rel: string };

/** Whether `rec` matches `node`. */
export function evaluate(node: FilterNode, rec: HDict, resolve: Resolver): boolean {
  switch (node.kind) {
    case 'and':
      for (const n of node.nodes) if (!evaluate(n, rec, resolve)) return false;
      return true;
    case 'or':
      for (const n of node.nodes) if (evaluate(n, rec, resolve)) return true;
      return false;
    case 'has':
      return matchesPath(rec, node.path, isPresent, resolve);
    case 'missing':
      return matchesPath(rec, node.path, isAbsent, resolve);
    case 'cmp':
      return matchesPath(rec, node.path, leafCmp(node.op, node.val), resolve);
    case 'symbol':
      // No defs namespace: Symbol.hasTerm, i.e. the rec has every term.
      for (const t of node.terms) if (tagOf(rec, t) === undefined) return false;
      return true;
    case 'spec':
    case 'rel':
      return false;
  }
}

type Leaf = (v: HVal | undefined) => boolean;
const isPresent: Leaf = (v) => v !== undefined;
const isAbsent: Leaf = (v) => v === undefined;

function leafCmp(op: CmpOp, lit: HVal): Leaf {
  switch (op) {
    case '==':
      return (v) => v !== undefined && valEquals(v, lit);
    case '!=':
      // Haxall FilterNe: present and not equal (any type).
      return (v) => v !== undefined && !valEquals(v, lit);
    case '<':
      return (v) => ordered(v, lit, (c) => c < 0);
    case '<=':
      return (v) => ordered(v, lit, (c) => c <= 0);
    case '>':
      return (v) => ordered(v, lit, (c) => c > 0);
    case '>=':
      return (v) => ordered(v, lit, (c) => c >= 0);
  }
}

function ordered(v: HVal | undefined, lit: HVal, test: (c: number) => boolean): boolean {
  if (v === undefined) return false;
  const c = valCompare(v, lit);
  return c !== undefined && test(c);
}

/** A tag value, with null (haystack-core allows it in dicts) treated as absent. */
export function tagOf(dict: HDict, name: string): HVal | undefined {
  const v = dict.get(name);
  return v === null || v === undefined ? undefined : v;
}

/** Port of Haxall SimpleFilter.matchesAt, walking the path from the rec. */
export function matchesPath(rec: HDict, path: readonly string[], leaf: Leaf, resolve: Resolver): boolean {
  return matchesAt(tagOf(rec, path[0]), 0, path, leaf, resolve);
}

function matchesAt(val: HVal | undefined, level: number, path: readonly string[], leaf: Leaf, resolve: Resolver): boolean {
  // A list of refs: any element whose downstream path matches; otherwise fall through with the
  // list itself (Haxall does the same, which is why `not ref->x` is true for any list of refs).
  if (val !== undefined && valueIsKind<HList>(val, Kind.List)) {
    for (const el of val) {
      if (el && valueIsKind<HRef>(el, Kind.Ref) && matchesAt(el, level, path, leaf, resolve)) return true;
    }
  }
  if (level + 1 < path.length) {
    let cur: HVal | undefined = val;
    if (cur !== undefined && valueIsKind<HRef>(cur, Kind.Ref)) cur = resolve(cur);
    const next = path[level + 1];
    if (cur !== undefined && valueIsKind<HDict>(cur, Kind.Dict)) {
      return matchesAt(tagOf(cur, next), level + 1, path, leaf, resolve);
    }
    if (cur !== undefined && valueIsKind<HDateTime>(cur, Kind.DateTime)) {
      const part = dateTimePart(cur, next);
      if (part !== undefined) return matchesAt(part, level + 1, path, leaf, resolve);
    }
    return leaf(undefined);
  }
  return leaf(val);
}

/** `->date`, `->time`, `->tz` of a DateTime, in its own time zone. */
function dateTimePart(dt: HDateTime, name: string): HVal | undefined {
  const iso = dt.iso; // e.g. 2020-01-01T10:30:15.5-05:00
  switch (name) {
    case 'date':
      return HDateCls.make(iso.slice(0, 10));
    case 'time': {
      const m = /^\d{4}-\d{2}-\d{2}T(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)/.exec(iso);
      return m ? HTimeCls.make(m[1].length === 5 ? `${m[1]}:00` : m[1]) : undefined;
    }
    case 'tz':
      return HStr.make(dt.timezone);
    default:
      return undefined;
  }
}

/** Haystack value equality as Haxall's `==`: Numbers by float and unit, Refs by id, DateTimes by instant. */
export function valEquals(a: HVal, b: HVal): boolean {
  const ka = a.getKind();
  if (ka !== b.getKind()) return false;
  switch (ka) {
    case Kind.Number: {
      const x = a as HNum;
      const y = b as HNum;
      return x.value === y.value && unitOf(x) === unitOf(y);
    }
    case Kind.Ref:
      return (a as HRef).value === (b as HRef).value;
    case Kind.DateTime:
      return (a as HDateTime).date.getTime() === (b as HDateTime).date.getTime();
    case Kind.Time:
      return timeMillis(a as HTime) === timeMillis(b as HTime);
    case Kind.Str:
    case Kind.Uri:
    case Kind.Symbol:
    case Kind.Date:
    case Kind.Bool:
      return (a as HRef | HDate | HBool).value === (b as HRef | HDate | HBool).value;
    default:
      return a.equals(b);
  }
}

/**
 * Ordering for `<`, `<=`, `>`, `>=`: undefined when the values are not comparable (different kinds,
 * different units, or a kind without a natural order), which makes the comparison false.
 */
export function valCompare(a: HVal, b: HVal): number | undefined {
  const ka = a.getKind();
  if (ka !== b.getKind()) return undefined;
  switch (ka) {
    case Kind.Number: {
      const x = a as HNum;
      const y = b as HNum;
      if (unitOf(x) !== unitOf(y)) return undefined;
      return cmpPrim(x.value, y.value);
    }
    case Kind.Str:
    case Kind.Uri:
    case Kind.Symbol:
    case Kind.Ref:
      return cmpPrim((a as HRef).value, (b as HRef).value);
    case Kind.Date: {
      const x = a as HDate;
      const y = b as HDate;
      return cmpPrim(x.year * 10000 + x.month * 100 + x.day, y.year * 10000 + y.month * 100 + y.day);
    }
    case Kind.Time:
      return cmpPrim(timeMillis(a as HTime), timeMillis(b as HTime));
    case Kind.DateTime:
      return cmpPrim((a as HDateTime).date.getTime(), (b as HDateTime).date.getTime());
    case Kind.Bool:
      return cmpPrim(Number(a.valueOf()), Number(b.valueOf()));
    default:
      return undefined;
  }
}

function cmpPrim<T extends number | string>(x: T, y: T): number | undefined {
  if (typeof x === 'number' && (Number.isNaN(x) || Number.isNaN(y as number))) return undefined;
  return x < y ? -1 : x > y ? 1 : 0;
}

function timeMillis(t: HTime): number {
  return ((t.hours * 60 + t.minutes) * 60 + t.seconds) * 1000 + t.milliseconds;
}

/** The unit symbol of a Number, or '' when it has none. */
export function unitOf(n: HNum): string {
  return n.unit?.symbol ?? '';
}
