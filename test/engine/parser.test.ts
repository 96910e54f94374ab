// The request parser on its own: commands split across socket reads at every possible point.
import { describe, expect, it } from 'vitest';
import { RequestParser } from '../../src/engine/resp.js';
import { prng } from '../harness/prng.js';

function encode(args: string[]): Buffer {
  return Buffer.concat(args.map((a, i) => Buffer.from(`${i === 0 ? `*${args.length}\r\n` : ''}$${Buffer.byteLength(a)}\r\n${a}\r\n`)));
}

function drain(p: RequestParser): string[][] {
  const out: string[][] = [];
  for (let c = p.next(); c; c = p.next()) out.push(c.map((b) => b.toString()));
  return out;
}

describe('RequestParser', () => {
  const cmds = [
    ['TS.MADD', ...Array.from({ length: 200 }, (_, i) => [`hxhis:long-folio-name:{long-folio-name:p${i % 3}}:ts`, String(1_600_000_000_000 + i), `${i / 10}`]).flat()],
    ['SET', 'k', 'x'.repeat(300)],
    ['PING'],
  ];
  const wire = Buffer.concat(cmds.map(encode));

  it('returns the same commands whatever the split of the byte stream (every split point, two reads)', () => {
    for (let cut = 0; cut <= wire.length; cut += 7) {
      const p = new RequestParser();
      const got: string[][] = [];
      p.feed(wire.subarray(0, cut));
      got.push(...drain(p));
      p.feed(wire.subarray(cut));
      got.push(...drain(p));
      expect(got, `cut at ${cut}`).toEqual(cmds);
    }
  });

  it('returns the same commands when fed in many random pieces, with next() called between them', () => {
    const rand = prng(7);
    for (let round = 0; round < 50; round++) {
      const p = new RequestParser();
      const got: string[][] = [];
      let at = 0;
      while (at < wire.length) {
        const n = 1 + rand.int(400);
        p.feed(wire.subarray(at, at + n));
        at += n;
        got.push(...drain(p));
        // asking again without new bytes must not lose the partial command
        got.push(...drain(p));
      }
      expect(got).toEqual(cmds);
    }
  });
});
