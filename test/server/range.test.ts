// hisRead range parsing and the time-zone arithmetic under it (Intl; haystack-core converts no zones).
import { describe, expect, it } from 'vitest';
import { HDateTime } from 'haystack-core';
import { parseRange } from '../../src/server/ops.js';
import { dateTimeAt, toTz } from '../../src/server/tz.js';

const z = (dt: HDateTime) => dt.toZinc();

describe('parseRange', () => {
  const now = Date.parse('2021-03-15T03:30:00Z'); // 23:30 on Mar 14 in New_York (EDT)

  it('today and yesterday are local days in the point tz', () => {
    const t = parseRange('today', 'New_York', now);
    expect(z(t.start)).toBe('2021-03-14T00:00:00-05:00 New_York');
    expect(z(t.end)).toBe('2021-03-15T00:00:00-04:00 New_York'); // DST began on Mar 14: a 23 h day
    const y = parseRange('yesterday', 'New_York', now);
    expect(z(y.start)).toBe('2021-03-13T00:00:00-05:00 New_York');
    expect(z(y.end)).toBe('2021-03-14T00:00:00-05:00 New_York');
    expect(z(parseRange('today', 'UTC', now).start)).toBe('2021-03-15T00:00:00+00:00 UTC');
    expect(z(parseRange('today', 'Tokyo', now).start)).toBe('2021-03-15T00:00:00+09:00 Tokyo');
  });

  it('a date and two dates (inclusive)', () => {
    const d = parseRange('2020-07-01', 'Chicago');
    expect(z(d.start)).toBe('2020-07-01T00:00:00-05:00 Chicago');
    expect(z(d.end)).toBe('2020-07-02T00:00:00-05:00 Chicago');
    const dd = parseRange('2020-10-31,2020-11-01', 'New_York');
    expect(z(dd.start)).toBe('2020-10-31T00:00:00-04:00 New_York');
    expect(z(dd.end)).toBe('2020-11-02T00:00:00-05:00 New_York');
  });

  it('two dateTimes (converted to the point tz) and a dateTime to now', () => {
    const r = parseRange('2020-07-01T00:00:00Z UTC,2020-07-02T00:00:00-04:00 New_York', 'New_York');
    expect(z(r.start)).toBe('2020-06-30T20:00:00-04:00 New_York');
    expect(z(r.end)).toBe('2020-07-02T00:00:00-04:00 New_York');
    const open = parseRange('2021-03-01T00:00:00-05:00 New_York', 'New_York', now);
    expect(open.end.date.getTime()).toBe(now);
  });

  it('bad ranges throw 400 errors', () => {
    for (const bad of ['', 'tomorrow', '2020-02-30', '2020-01-02,2020-01-01', '2020-01-01,2020-01-02T00:00:00Z UTC', 'x,y', '1,2,3']) {
      expect(() => parseRange(bad, 'New_York'), bad).toThrow();
    }
  });
});

describe('tz', () => {
  it('toTz keeps the instant, and milliseconds', () => {
    const dt = HDateTime.make('2020-07-01T00:00:00.250Z UTC');
    const ny = toTz(dt, 'New_York');
    expect(z(ny)).toBe('2020-06-30T20:00:00.250-04:00 New_York');
    expect(ny.date.getTime()).toBe(dt.date.getTime());
  });

  it('dateTimeAt across the fall-back hour', () => {
    expect(z(dateTimeAt(Date.parse('2020-11-01T05:30:00Z'), 'New_York'))).toBe('2020-11-01T01:30:00-04:00 New_York');
    expect(z(dateTimeAt(Date.parse('2020-11-01T06:30:00Z'), 'New_York'))).toBe('2020-11-01T01:30:00-05:00 New_York');
  });
});
