// RespBuilder writes the same bytes ioredis would for the same arguments (ioredis's own
// Command#toWritable is the reference), and MemberTails gives the member text encodeMember does.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Command } from 'ioredis';
import { HCoord, HNa, HStr } from 'haystack-core';
import { PreEncodedCommand, RespBuilder } from '../../src/storage/respCommand.js';
import { encodeMember, MemberTails } from '../../src/his/codec.js';

function reference(args: string[]): Buffer {
  const [name, ...rest] = args as [string, ...string[]];
  const w = new Command(name, rest).toWritable({});
  return typeof w === 'string' ? Buffer.from(w, 'utf8') : w;
}

describe('RespBuilder', () => {
  it('matches ioredis for strings, integers, integer+tail arguments and score/member pairs', () => {
    const arg = fc.oneof(
      fc.record({ kind: fc.constant('str' as const), s: fc.string({ unit: 'binary', maxLength: 80 }) }),
      fc.record({ kind: fc.constant('int' as const), n: fc.oneof(fc.integer({ min: -1e6, max: 1e6 }), fc.maxSafeInteger(), fc.maxSafeNat(), fc.constantFrom(0, 9, 10, 99, 100, 1e8, 1e8 - 1, 1e8 + 1, 1577836800000)) }),
      fc.record({ kind: fc.constant('tail' as const), n: fc.oneof(fc.integer({ min: -3e12, max: 3e12 }), fc.double({ noNaN: true })), t: fc.string({ unit: 'binary', maxLength: 30 }) }),
      fc.record({ kind: fc.constant('pair' as const), n: fc.oneof(fc.integer({ min: -3e12, max: 3e12 }), fc.constantFrom(1e12, 1e13 - 1, 1e13), fc.double({ noNaN: true })), t: fc.string({ unit: 'binary', maxLength: 30 }) }),
    );
    fc.assert(
      fc.property(fc.array(arg, { maxLength: 300 }), (args) => {
        const b = new RespBuilder(16); // tiny: growth is exercised
        const texts: string[] = ['CMD'];
        b.str('CMD');
        for (const a of args) {
          if (a.kind === 'str') {
            b.str(a.s);
            texts.push(a.s);
          } else if (a.kind === 'int') {
            b.int(a.n);
            texts.push(String(a.n));
          } else if (a.kind === 'tail') {
            b.intWith(a.n, Buffer.from(a.t, 'utf8'));
            texts.push(String(a.n) + a.t);
          } else {
            b.intPair(a.n, Buffer.from(a.t, 'utf8'));
            texts.push(String(a.n), String(a.n) + a.t);
          }
        }
        expect(b.count).toBe(texts.length);
        expect(b.done().equals(reference(texts))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('a pre-encoded command carries its key for ioredis and writes its bytes', () => {
    const bytes = new RespBuilder().str('ZADD').str('k{1}').int(5).intWith(5, Buffer.from('|n:1.5')).done();
    const cmd = new PreEncodedCommand('zadd', ['k{1}'], bytes);
    expect(cmd.getKeys()).toEqual(['k{1}']);
    expect(cmd.toWritable()).toBe(bytes);
    expect(bytes.toString()).toBe(reference(['ZADD', 'k{1}', '5', '5|n:1.5']).toString());
  });
});

describe('MemberTails', () => {
  it('gives the member text encodeMember gives, for every stored kind', () => {
    const tails = new MemberTails();
    const vals = [0, -0.5, 21.299999237060547, 1e21, -Infinity, Infinity, NaN, true, false, HStr.make('a|b Zürich ☃'), HCoord.make({ latitude: 37.5, longitude: -77.25 }), HNa.make()];
    for (const v of vals) {
      for (const ms of [0, 1577836800000, -315619200000]) {
        const got = Buffer.concat([Buffer.from(String(ms)), tails.of(v)]).toString('utf8');
        expect(got).toBe(encodeMember(ms, v));
      }
    }
    // the texts themselves (encodeMember shares memberTail, so spell a few out)
    const text = (v: Parameters<MemberTails['of']>[0]) => Buffer.from(tails.of(v)).toString('utf8');
    expect([Math.fround(21.3), 1e21, -Infinity, NaN, true, false, HStr.make('a|b ☃'), HNa.make()].map(text)).toEqual(['|n:21.3', '|n:1e+21', '|n:-Infinity', '|n:NaN', '|b:1', '|b:0', '|s:a|b ☃', '|a:']);
    expect(text(HCoord.make({ latitude: 37.5, longitude: -77.25 }))).toBe('|c:37.5,-77.25');
    // cached number tails are stable across calls
    expect(tails.num(1.5)).toBe(tails.num(1.5));
  });
});
