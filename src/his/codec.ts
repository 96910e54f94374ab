// Stored value encodings: sorted-set members, TimeSeries numbers, and back to HisItems.
//
// Sorted-set member: `<epoch ms>|<tag>:<value>` with score = epoch ms. The ms prefix makes members of
// different timestamps distinct; one sample per timestamp is kept by the write protocol.
//   n:<numText> (a float32's shortest text; integers, Infinity, -Infinity, NaN as JS text)
//   b:1 / b:0   s:<raw string>
//   c:<lat>,<lng>   a:  (NA)
import { HBool, HCoord, HNa, HNum, HStr, type HVal } from 'haystack-core';
import type { HisItem } from '../folio/types.js';
import type { HisConfig } from './config.js';
import type { SItem, SVal } from './normalize.js';
import { toDateTime } from './tz.js';

export function encodeMember(ms: number, v: Exclude<SVal, null>): string {
  return encodeMemberAt(String(ms), v);
}

/** encodeMember with the timestamp already as text (it is also the ZADD score). */
export function encodeMemberAt(msText: string, v: Exclude<SVal, null>): string {
  return msText + memberTail(v);
}

/** A member after its timestamp: `|<tag>:<value>`. */
export function memberTail(v: Exclude<SVal, null>): string {
  if (typeof v === 'number') return `|n:${numText(v)}`;
  if (typeof v === 'boolean') return v ? '|b:1' : '|b:0';
  if (v instanceof HStr) return `|s:${v.value}`;
  if (v instanceof HCoord) return `|c:${v.latitude},${v.longitude}`;
  return '|a:';
}

const B1 = Buffer.from('|b:1', 'latin1');
const B0 = Buffer.from('|b:0', 'latin1');

/** A bounded memo of per-value work (cleared whole when full): sensor values repeat. */
class Memo<V> {
  private readonly m = new Map<number, V>();
  constructor(private readonly make: (v: number) => V) {}
  get(v: number): V {
    let t = this.m.get(v);
    if (t === undefined) {
      t = this.make(v);
      if (this.m.size >= 4096) this.m.clear();
      this.m.set(v, t);
    }
    return t;
  }
}

/** Member tails (`|n:<number>`, `|b:1`, ...) as bytes for the RESP builder, numbers memoized. */
export class MemberTails {
  private readonly nums = new Memo((v) => Buffer.from(`|n:${numText(v)}`, 'latin1'));
  num(v: number): Uint8Array {
    return this.nums.get(v);
  }
  bool(b: boolean): Uint8Array {
    return b ? B1 : B0;
  }
  of(v: Exclude<SVal, null>): Uint8Array {
    if (typeof v === 'number') return this.num(v);
    if (typeof v === 'boolean') return this.bool(v);
    return Buffer.from(memberTail(v), 'utf8');
  }
}

/**
 * The text a number is stored as (TS.MADD value, sorted-set member). Non-integers are float32
 * values (spec 3.2), whose shortest double text is long (`21.299999237060547`), and the engine
 * parses a long decimal ~10-15% slower per sample (docs/history.md, "Third session"). So the
 * stored text is the shortest decimal that rounds to the same float32 (`21.3`, 7 significant
 * digits nearly always do and 9 always do), and reads round it back (`storedNum`). Integers,
 * ±inf, NaN and any value that is not a float32 keep their exact text.
 */
export function numText(v: number): string {
  if (Number.isInteger(v) || !Number.isFinite(v) || Math.fround(v) !== v) return String(v);
  for (let p = 7; p <= 9; p++) {
    const t = String(Number(v.toPrecision(p)));
    if (Math.fround(Number(t)) === v) return t;
  }
  return String(v);
}

/**
 * A stored number as read: a non-integer is the float32 its text rounds to. Integers stay exact
 * (a non-integer float32 is below 2^23, so its text never reads as an integer).
 */
export function storedNum(d: number): number {
  return Number.isInteger(d) || !Number.isFinite(d) ? d : Math.fround(d);
}

/**
 * numText, memoized: formatting a float32 value is the slow case of number formatting.
 */
export class NumText {
  private readonly texts = new Memo(numText);
  get(v: number): string {
    return this.texts.get(v);
  }
}

export function decodeMember(member: string): SItem {
  const bar = member.indexOf('|');
  const ms = Number(member.slice(0, bar));
  const tag = member.charCodeAt(bar + 1);
  const rest = member.slice(bar + 3);
  switch (tag) {
    case 110: // n
      return { ms, v: Number(rest) };
    case 98: // b
      return { ms, v: rest === '1' };
    case 115: // s
      return { ms, v: HStr.make(rest) };
    case 99: {
      // c
      const comma = rest.indexOf(',');
      return { ms, v: HCoord.make({ latitude: Number(rest.slice(0, comma)), longitude: Number(rest.slice(comma + 1)) }) };
    }
    default:
      return { ms, v: HNa.make() };
  }
}

/** The ms of a member without decoding its value. */
export function memberMs(member: string): number {
  return Number(member.slice(0, member.indexOf('|')));
}

/** Can a TimeSeries key hold this sample? (no NA/Str/Coord, no ±inf or NaN, no time before 1970) */
export function tsCanHold(ms: number, v: SVal): boolean {
  if (ms < 0) return false;
  if (v === null) return true;
  if (typeof v === 'boolean') return true;
  return typeof v === 'number' && Number.isFinite(v);
}

/** The TS value of a stored value (Bool as 0/1). */
export function tsNumber(v: number | boolean): number {
  return typeof v === 'boolean' ? (v ? 1 : 0) : v;
}

/** A stored value as an HVal under the point's current config (unit relabelled, Bool from 0/1). */
export function toHVal(cfg: HisConfig, v: Exclude<SVal, null>): HVal {
  if (typeof v === 'number') {
    if (cfg.kind === 'Bool') return HBool.make(v !== 0);
    const n = storedNum(v);
    return cfg.unit === undefined ? HNum.make(n) : HNum.make(n, cfg.unit);
  }
  if (typeof v === 'boolean') return HBool.make(v);
  return v;
}

export function toHisItem(cfg: HisConfig, it: SItem): HisItem {
  return { ts: toDateTime(it.ms, cfg.tz, cfg.iana), val: toHVal(cfg, it.v as Exclude<SVal, null>) };
}
