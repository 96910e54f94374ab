// Time zones for history: Haystack tz names (`New_York`, `Chicago`, `UTC`, `GMT+5`) and the
// conversion of epoch milliseconds to an HDateTime in a zone.
//
// haystack-core knows the Haystack -> IANA name table (`HDateTime.getIANATimeZone`) and parses an
// ISO string with an offset and a zone name, but it does not convert an instant to a zone (its
// `HDateTime.make(Date)` is always UTC). The local fields and offset come from `Intl` here, cached
// per zone and per 15-minute slot (every DST rule in the tz database changes on a 15-minute boundary).
import { HDateTime } from 'haystack-core';

const ianaCache = new Map<string, string | null>();

/** The IANA name of a Haystack tz name (or of an IANA name itself), or undefined if unknown. */
export function ianaOf(tz: string): string | undefined {
  let iana = ianaCache.get(tz);
  if (iana === undefined) {
    iana = null;
    const mapped = tz === 'UTC' ? 'UTC' : HDateTime.getIANATimeZone(tz);
    if (mapped) {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: mapped });
        iana = mapped;
      } catch {
        iana = null;
      }
    }
    ianaCache.set(tz, iana);
  }
  return iana ?? undefined;
}

const SLOT_MS = 15 * 60_000;
const offsetCache = new Map<string, Map<number, number>>();
const fmtCache = new Map<string, Intl.DateTimeFormat>();

function formatter(iana: string): Intl.DateTimeFormat {
  let f = fmtCache.get(iana);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: iana,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
    fmtCache.set(iana, f);
  }
  return f;
}

/** Offset of `iana` from UTC at instant `ms`, in milliseconds (local = utc + offset). */
export function offsetMs(ms: number, iana: string): number {
  if (iana === 'UTC' || iana === 'Etc/UTC') return 0;
  const slot = Math.floor(ms / SLOT_MS);
  let perZone = offsetCache.get(iana);
  if (!perZone) {
    perZone = new Map();
    offsetCache.set(iana, perZone);
  }
  let off = perZone.get(slot);
  if (off === undefined) {
    const at = slot * SLOT_MS;
    const parts = formatter(iana).formatToParts(new Date(at));
    const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
    let year = get('year');
    if (parts.find((p) => p.type === 'era')?.value === 'BC') year = 1 - year;
    const local = Date.UTC(year, get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
    // Date.UTC maps years 0-99 to 1900-1999
    const fixed = year >= 0 && year < 100 ? new Date(local).setUTCFullYear(year) : local;
    off = fixed - at;
    if (perZone.size > 100_000) perZone.clear();
    perZone.set(slot, off);
  }
  return off;
}

function pad(n: number, w: number): string {
  return String(n).padStart(w, '0');
}

/** The ISO text (with offset) of instant `ms` in zone `iana`, e.g. `2024-01-01T10:00:00.5-06:00`. */
export function isoInZone(ms: number, iana: string): string {
  const off = offsetMs(ms, iana);
  const d = new Date(ms + off);
  const y = d.getUTCFullYear();
  const year = y >= 0 && y <= 9999 ? pad(y, 4) : (y < 0 ? '-' : '+') + pad(Math.abs(y), 6);
  const msPart = d.getUTCMilliseconds();
  let text = `${year}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
  if (msPart !== 0) text += `.${pad(msPart, 3)}`;
  if (off === 0) return `${text}Z`;
  const abs = Math.abs(off) / 60_000;
  return `${text}${off < 0 ? '-' : '+'}${pad(Math.floor(abs / 60), 2)}:${pad(abs % 60, 2)}`;
}

/** An HDateTime for instant `ms` in the Haystack zone `tz` (IANA name `iana`). */
export function toDateTime(ms: number, tz: string, iana: string): HDateTime {
  return HDateTime.make(`${isoInZone(ms, iana)} ${tz}`);
}

let dayKey = NaN;
let dayMs = NaN;

/** Two digits at `i` of the ISO bytes, NaN if not digits. */
function d2(b: Buffer, i: number): number {
  const x = (b[i] as number) - 48;
  const y = (b[i + 1] as number) - 48;
  return x >= 0 && x <= 9 && y >= 0 && y <= 9 ? x * 10 + y : NaN;
}

// The ISO text is copied into these bytes and parsed there: one Buffer#write instead of
// ~20 String#charCodeAt calls, which V8 stops inlining once a String subclass exists (ioredis
// and node-redis both declare one; src/storage/respCommand.ts). HDateTime's text is ASCII (its
// constructor's regex admits only ASCII digits), so latin1 is exact.
const ISO = Buffer.alloc(64);
// Buffer#latin1Write is Buffer#write(…, 'latin1') without the wrapper's argument and encoding
// checks (~40% of msOf on a fresh item); it is a runtime method of every Buffer, untyped.
const isoWrite = (ISO as unknown as { latin1Write?: (s: string, offset: number) => number }).latin1Write
  ? (s: string) => (ISO as unknown as { latin1Write: (s: string, offset: number) => number }).latin1Write(s, 0)
  : (s: string) => ISO.write(s, 0, 'latin1');

/**
 * Epoch ms of an HDateTime from its ISO text (`YYYY-MM-DDThh:mm:ss[.fff](Z|±hh:mm)`), without the
 * Date parse that `HDateTime.date` runs per call: the day's epoch is cached (consecutive
 * samples share it). Falls back to `ts.date` for anything else.
 */
export function msOf(ts: HDateTime): number {
  const s = ts.iso;
  const n = s.length;
  const b = ISO;
  if (n >= 20 && n <= 40 && isoWrite(s) === n && b[10] === 84 && b[13] === 58 && b[16] === 58) {
    let day: number;
    const key = b[4] === 45 && b[7] === 45 ? (d2(b, 0) * 100 + d2(b, 2)) * 10_000 + d2(b, 5) * 100 + d2(b, 8) : NaN;
    if (key === dayKey) day = dayMs;
    else if (key === key) {
      day = new Date(`${s.slice(0, 10)}T00:00:00Z`).getTime();
      dayKey = key;
      dayMs = day;
    } else day = NaN;
    const hh = d2(b, 11);
    const mi = d2(b, 14);
    const ss = d2(b, 17);
    let i = 19;
    let frac = 0;
    if (b[i] === 46) {
      // 1 to 3 fraction digits (more: Date decides)
      let digits = 0;
      i++;
      for (; i < n; i++) {
        const c = (b[i] as number) - 48;
        if (c < 0 || c > 9) break;
        frac = frac * 10 + c;
        digits++;
      }
      if (digits === 0 || digits > 3) frac = NaN;
      else frac *= digits === 1 ? 100 : digits === 2 ? 10 : 1;
    }
    let off = NaN;
    if (i === n - 1 && b[i] === 90) off = 0;
    else if (i === n - 6 && b[i + 3] === 58) {
      const sign = b[i];
      const o = d2(b, i + 1) * 3_600_000 + d2(b, i + 4) * 60_000;
      off = sign === 45 ? -o : sign === 43 ? o : NaN;
    }
    if (hh < 24 && mi < 60 && ss < 60) {
      const ms = day + hh * 3_600_000 + mi * 60_000 + ss * 1000 + frac - off;
      if (Number.isFinite(ms)) return ms;
    }
  }
  return ts.date.getTime();
}

/** The local calendar year of an HDateTime (from its text, so in its own zone). */
export function yearOf(ts: HDateTime): number {
  const m = /^([+-]?\d+)-/.exec(ts.value);
  return m ? Number(m[1]) : new Date(msOf(ts)).getUTCFullYear();
}
