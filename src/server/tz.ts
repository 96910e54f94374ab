// Time-zone arithmetic for Haystack DateTimes. haystack-core parses and prints DateTimes with a
// Haystack tz name ("New_York") but does not convert between zones; Intl does, given the IANA name.
import { HDateTime } from 'haystack-core';

const fmtCache = new Map<string, Intl.DateTimeFormat>();

/** The IANA name of a Haystack tz name ("New_York" -> "America/New_York"); throws if unknown. */
export function ianaOf(tz: string): string {
  if (tz === 'UTC' || tz === 'GMT') return 'UTC';
  const iana = HDateTime.getIANATimeZone(tz) || tz;
  formatter(iana); // throws RangeError for an unknown zone
  return iana;
}

function formatter(iana: string): Intl.DateTimeFormat {
  let f = fmtCache.get(iana);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: iana,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      });
    } catch {
      throw new RangeError(`Unknown time zone: ${iana}`);
    }
    fmtCache.set(iana, f);
  }
  return f;
}

interface Wall {
  y: number;
  m: number;
  d: number;
  hh: number;
  mm: number;
  ss: number;
}

function wallClock(ms: number, iana: string): Wall {
  const parts = formatter(iana).formatToParts(new Date(ms));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return { y: get('year'), m: get('month'), d: get('day'), hh: get('hour') % 24, mm: get('minute'), ss: get('second') };
}

/** Offset of `iana` from UTC at instant `ms`, in minutes (New_York in July: -240). */
export function offsetMinutes(ms: number, iana: string): number {
  const w = wallClock(ms, iana);
  const asUtc = Date.UTC(w.y, w.m - 1, w.d, w.hh, w.mm, w.ss);
  return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60000);
}

const pad = (n: number, w = 2) => String(Math.abs(n)).padStart(w, '0');

/** The instant `ms` as a Haystack DateTime in Haystack tz `tz`. */
export function dateTimeAt(ms: number, tz: string): HDateTime {
  const iana = ianaOf(tz);
  const off = offsetMinutes(ms, iana);
  const local = new Date(ms + off * 60000);
  const frac = ms % 1000 === 0 ? '' : `.${pad(((ms % 1000) + 1000) % 1000, 3)}`;
  const sign = off < 0 ? '-' : '+';
  const s =
    `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}` +
    `T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}${frac}` +
    `${sign}${pad(Math.trunc(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)} ${tz === 'UTC' ? 'UTC' : tz}`;
  return HDateTime.make(s);
}

/** The same instant in another zone. */
export function toTz(dt: HDateTime, tz: string): HDateTime {
  if (dt.timezone === tz) return dt;
  return dateTimeAt(dt.date.getTime(), tz);
}

/** Local midnight of y-m-d in `tz` as an instant (ms). DST gaps resolve to the first valid time. */
export function startOfDayMs(y: number, m: number, d: number, tz: string): number {
  const iana = ianaOf(tz);
  const wall = Date.UTC(y, m - 1, d);
  let guess = wall - offsetMinutes(wall, iana) * 60000;
  guess = wall - offsetMinutes(guess, iana) * 60000;
  return guess;
}

/** Today's date (y, m, d) in `tz`. */
export function todayIn(tz: string, nowMs = Date.now()): { y: number; m: number; d: number } {
  const w = wallClock(nowMs, ianaOf(tz));
  return { y: w.y, m: w.m, d: w.d };
}

/** y-m-d plus n days. */
export function addDays(date: { y: number; m: number; d: number }, n: number): { y: number; m: number; d: number } {
  const t = new Date(Date.UTC(date.y, date.m - 1, date.d + n));
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() };
}

/** The server's own Haystack tz name (from the IANA zone of this process), e.g. "New_York" or "UTC". */
export function localTzName(): string {
  const iana = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  if (iana === 'UTC' || iana === 'Etc/UTC') return 'UTC';
  const row = HDateTime.getTimezoneDb()
    .getRows()
    .find((r) => r.get('fullName')?.toString() === iana);
  return row?.get('name')?.toString() ?? 'UTC';
}
