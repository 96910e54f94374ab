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

let dayText = '';
let dayMs = NaN;

/** Two decimal digits of `s` at `i`, or NaN. */
function d2(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : NaN;
}

/**
 * Epoch milliseconds of an HDateTime. `HDateTime.date` parses the ISO text with `new Date` on
 * every access (~0.4 µs); this reads `YYYY-MM-DDTHH:MM:SS[.f{1,3}](Z|±HH:MM)` by char codes, with
 * the date part's epoch cached (consecutive items share a day), and falls back to `Date` for
 * anything else, so the result is always `ts.date.getTime()`.
 */
export function msOf(ts: HDateTime): number {
  const s = ts.iso;
  const n = s.length;
  if (n >= 20 && s.charCodeAt(10) === 84 && s.charCodeAt(13) === 58 && s.charCodeAt(16) === 58) {
    let day: number;
    if (dayText.length === 10 && s.startsWith(dayText)) day = dayMs;
    else if (s.charCodeAt(4) === 45 && s.charCodeAt(7) === 45) {
      const text = s.slice(0, 10);
      day = new Date(`${text}T00:00:00Z`).getTime();
      dayText = text;
      dayMs = day;
    } else day = NaN;
    const hh = d2(s, 11);
    const mi = d2(s, 14);
    const ss = d2(s, 17);
    let i = 19;
    let frac = 0;
    if (s.charCodeAt(i) === 46) {
      // 1 to 3 fraction digits (more: Date decides)
      let digits = 0;
      i++;
      for (; i < n; i++) {
        const c = s.charCodeAt(i) - 48;
        if (c < 0 || c > 9) break;
        frac = frac * 10 + c;
        digits++;
      }
      if (digits === 0 || digits > 3) frac = NaN;
      else frac *= digits === 1 ? 100 : digits === 2 ? 10 : 1;
    }
    let off = NaN;
    if (i === n - 1 && s.charCodeAt(i) === 90) off = 0;
    else if (i === n - 6 && s.charCodeAt(i + 3) === 58) {
      const sign = s.charCodeAt(i);
      const o = d2(s, i + 1) * 3_600_000 + d2(s, i + 4) * 60_000;
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
