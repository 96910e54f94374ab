import { describe, expect, it } from 'vitest';
import {
  HDateTime, HDict, HGrid, HList, HMarker, HNa, HNum, HRef, HRemove, HStr, HSymbol, HUri, HXStr, HBool,
} from 'haystack-core';
import { Diff } from '../../src/folio/Diff.js';
import {
  DiffError, InvalidRecIdError, InvalidTagNameError, InvalidTagValError,
} from '../../src/folio/errors.js';

const m = HMarker.make();
const none = HRemove.make();
const now = HDateTime.make('2024-05-01T10:00:00Z UTC');
const rec = HDict.make({ id: HRef.make('r1'), mod: now, dis: HStr.make('R') });

describe('Diff construction (spec 2.1, case 37)', () => {
  it('makes an update with id and oldMod from oldRec, no oldRec stored', () => {
    const d = new Diff(rec, { foo: 'x', n: 3, b: true });
    expect(d.id.value).toBe('r1');
    expect(d.oldMod?.equals(now)).toBe(true);
    expect(d.oldRec).toBeUndefined();
    expect(d.newRec).toBeUndefined();
    expect(d.isUpdate).toBe(true);
    expect(d.changes.get('foo')?.equals(HStr.make('x'))).toBe(true);
    expect(d.changes.get('n')?.equals(HNum.make(3))).toBe(true);
    expect(d.changes.get('b')?.equals(HBool.make(true))).toBe(true);
    expect(d.flags).toBe(0);
  });

  it('accepts an HDict or null as changes', () => {
    expect(new Diff(rec, HDict.make({ foo: m })).changes.has('foo')).toBe(true);
    expect(new Diff(rec, null, Diff.remove).changes.isEmpty()).toBe(true);
  });

  it('needs the add flag without oldRec', () => {
    expect(() => new Diff(null, { dis: 'x' })).toThrow(new DiffError("Must pass 'add' flag if oldRec is null"));
  });
  it('rejects id with the add flag', () => {
    expect(() => new Diff(null, { id: HRef.make('x') }, Diff.add)).toThrow(
      new DiffError("Cannot specify 'id' tag if using 'add' flag"),
    );
  });
  it('rejects oldRec with the add flag', () => {
    expect(() => new Diff(rec, { a: m }, Diff.add)).toThrow(new DiffError("Cannot pass oldRec if using 'add' flag"));
  });
  it('rejects makeAdd with id', () => {
    expect(() => Diff.makeAdd({ id: HRef.make('x') })).toThrow(new DiffError("makeAdd cannot specify 'id' tag"));
  });
  it('rejects an oldRec without id or mod', () => {
    expect(() => new Diff(HDict.make({ mod: now }), {})).toThrow(DiffError);
    expect(() => new Diff(HDict.make({ mod: now }), {})).toThrow(/'id'/);
    expect(() => new Diff(HDict.make({ id: HRef.make('x') }), {})).toThrow(/'mod'/);
  });

  it('generates Haxall-style ids for adds', () => {
    const a = new Diff(null, { dis: 'x' }, Diff.add);
    const b = Diff.makeAdd({ dis: 'x' });
    expect(a.id.value).toMatch(/^[0-9a-f]{8}-[0-9a-f]{8}$/);
    expect(b.id.value).toMatch(/^[0-9a-f]{8}-[0-9a-f]{8}$/);
    expect(a.id.value).not.toBe(b.id.value);
    expect(a.oldMod).toBeUndefined();
    expect(b.isAdd).toBe(true);
  });
  it('makeAdd takes a string or Ref id', () => {
    expect(Diff.makeAdd({ dis: 'x' }, 'abc').id.value).toBe('abc');
    expect(Diff.makeAdd({ dis: 'x' }, HRef.make('abc')).id.value).toBe('abc');
  });
});

describe('transient flag (case 38)', () => {
  it('cannot combine with add or remove', () => {
    const msg = new DiffError('Invalid diff flags: transient + add|remove');
    expect(() => new Diff(null, { foo: 'bar' }, Diff.add | Diff.transient)).toThrow(msg);
    expect(() => new Diff(rec, null, Diff.remove | Diff.transient)).toThrow(msg);
  });
});

describe('reserved and restricted tags (cases 33-36)', () => {
  it('never tags throw, set or removed, persistent or transient', () => {
    for (const [tag, val] of [
      ['id', none], ['mod', none], ['id', HRef.make('z')], ['mod', now], ['transient', m], ['hisSize', HNum.make(3)],
    ] as const) {
      expect(() => new Diff(rec, { [tag]: val })).toThrow(new DiffError(`Cannot set tag: "${tag}"`));
      expect(() => new Diff(rec, { [tag]: val }, Diff.transient)).toThrow(DiffError);
    }
    expect(() => Diff.makeAdd({ mod: now })).toThrow(DiffError);
  });

  it('transientOnly tags used persistently throw', () => {
    for (const [tag, val] of [['curVal', HNum.make(3)], ['writeLevel', HNum.make(8)], ['hisStatus', 'ok']] as const) {
      expect(() => new Diff(rec, { [tag]: val })).toThrow(new DiffError(`Cannot set tag persistently: "${tag}"`));
    }
  });
  it('persistentOnly tags used transiently throw', () => {
    for (const [tag, val] of [['site', m], ['dis', 'x'], ['trash', m]] as const) {
      expect(() => new Diff(rec, { [tag]: val }, Diff.transient)).toThrow(
        new DiffError(`Cannot set tag transiently: "${tag}"`),
      );
    }
  });
  it('Bin with transient throws', () => {
    expect(() => new Diff(rec, { file: HXStr.make('Bin', 'text/plain') }, Diff.transient)).toThrow(
      new DiffError('Bin tag cannot be transient'),
    );
    expect(() => new Diff(rec, { file: HXStr.make('Bin', 'text/plain') })).not.toThrow();
  });

  it('restricted tags need bypassRestricted', () => {
    expect(() => Diff.makeAdd({ projMeta: m })).toThrow(new DiffError('Cannot add rec with restricted tag: "projMeta"'));
    expect(() => new Diff(rec, { ext: 'x' })).toThrow(new DiffError('Cannot set restricted tag: "ext"'));
    expect(() => new Diff(rec, { uiMeta: none })).toThrow(new DiffError('Cannot remove restricted tag: "uiMeta"'));
    expect(() => new Diff(null, { projMeta: m }, Diff.add | Diff.bypassRestricted)).not.toThrow();
    expect(() => new Diff(rec, { ext: 'x' }, Diff.bypassRestricted)).not.toThrow();
    expect(() => new Diff(rec, { fileSize: none }, Diff.bypassRestricted)).not.toThrow();
  });
});

describe('computed flags (case 40)', () => {
  it('matches the spec exactly', () => {
    expect(new Diff(rec, { point: m }).flags).toBe(Diff.point);
    const addPoint = Diff.makeAdd({ point: m });
    expect(addPoint.flags).toBe(Diff.add | Diff.point | Diff.treeUpdate);
    expect(addPoint.isAddPoint).toBe(true);
    const cur = new Diff(rec, { curVal: HNum.make(1) }, Diff.transient);
    expect(cur.flags).toBe(Diff.transient | Diff.curVal);
    expect(cur.isCurVal).toBe(true);
    expect(new Diff(rec, { curStatus: 'ok' }, Diff.transient).flags).toBe(Diff.transient | Diff.curVal);
    expect(new Diff(rec, { siteRef: HRef.make('x') }).flags).toBe(Diff.treeUpdate);
    expect(new Diff(rec, { siteRef: none }).flags).toBe(0);
    expect(new Diff(rec, { trash: m }).flags).toBe(Diff.treeUpdate);
    expect(new Diff(rec, { trash: none }).flags).toBe(Diff.treeUpdate);
    expect(new Diff(rec, null, Diff.remove).flags).toBe(Diff.remove | Diff.treeUpdate);
  });
  it('Ref lists and transient Refs do not give treeUpdate', () => {
    expect(new Diff(rec, { refs: HList.make([HRef.make('x')]) }).flags).toBe(0);
    expect(new Diff(rec, { fooRef: HRef.make('x') }, Diff.transient).flags).toBe(Diff.transient);
    expect(new Diff(rec, { fooRef: HRef.make('x') }, Diff.force).flags).toBe(Diff.force | Diff.treeUpdate);
  });
  it('predicates', () => {
    const f = new Diff(rec, {}, Diff.forceTransient);
    expect(f.isForce && f.isTransient && f.isUpdate).toBe(true);
    expect(Diff.forceTransient).toBe(Diff.force | Diff.transient);
    expect(new Diff(rec, {}, Diff.bypassRestricted).isBypassRestricted).toBe(true);
    const r = new Diff(rec, null, Diff.remove);
    expect(r.isRemove && !r.isUpdate && !r.isAdd && r.isTreeUpdate).toBe(true);
  });
});

describe('rec ids (case 41)', () => {
  it('limits length to 60', () => {
    expect(Diff.makeAdd({ dis: 'x' }, 'a'.repeat(60)).id.value).toHaveLength(60);
    expect(() => Diff.makeAdd({ dis: 'x' }, 'a'.repeat(61))).toThrow(InvalidRecIdError);
  });
  it('rejects Niagara ids, colons and bad chars', () => {
    expect(() => Diff.makeAdd({ dis: 'x' }, 'S.site')).toThrow(InvalidRecIdError);
    expect(() => Diff.makeAdd({ dis: 'x' }, 'u:c')).toThrow(InvalidRecIdError);
    expect(() => Diff.makeAdd({ dis: 'x' }, 'foo:c')).toThrow(InvalidRecIdError);
    for (const id of ['', 'x y', 'caf\u00e9', 'a@b']) {
      expect(() => Diff.makeAdd({ dis: 'x' }, id)).toThrow(InvalidRecIdError);
    }
    expect(() => Diff.makeAdd({ dis: 'x' }, 's.site')).not.toThrow();
    expect(() => Diff.makeAdd({ dis: 'x' }, 'a-b.c~d_e')).not.toThrow();
  });
  it('does not check ids of updates', () => {
    expect(() => new Diff(HDict.make({ id: HRef.make('u:c'), mod: now }), { a: m })).not.toThrow();
  });
});

describe('tag names (case 42)', () => {
  it('rejects bad names', () => {
    for (const n of ['', 'a b', 'caf\u00e9', '!bad', 'Foo', '_', '1a', 'a'.repeat(61)]) {
      expect(() => new Diff(rec, { [n]: m })).toThrow(InvalidTagNameError);
    }
  });
  it('accepts good names', () => {
    for (const n of ['a'.repeat(60), '_x', 'fooBar_9', '__']) {
      expect(() => new Diff(rec, { [n]: m })).not.toThrow();
    }
  });
});

describe('tag values (case 43)', () => {
  it('rejects null, undefined, NA and non-Haystack values', () => {
    expect(() => new Diff(rec, { a: null })).toThrow(new InvalidTagValError('Tag cannot be null: a'));
    expect(() => new Diff(rec, { a: undefined })).toThrow(InvalidTagValError);
    expect(() => new Diff(rec, { a: HNa.make() })).toThrow(InvalidTagValError);
    for (const bad of [new Date(), () => 1, 10n, Symbol('s'), new Map(), new Uint8Array(2)]) {
      expect(() => new Diff(rec, { bad })).toThrow(InvalidTagValError);
      expect(() => new Diff(rec, { bad })).toThrow(/bad/);
    }
  });
  it('checks lists and dicts deep, not grids', () => {
    expect(() => new Diff(rec, { a: HList.make([HNum.make(1), HNa.make()]) })).toThrow(InvalidTagValError);
    expect(() => new Diff(rec, { a: HDict.make({ x: HNa.make() }) })).toThrow(InvalidTagValError);
    expect(() => new Diff(rec, { a: [1, new Date()] })).toThrow(InvalidTagValError);
    expect(() => new Diff(rec, { a: { x: new Date() } })).toThrow(InvalidTagValError);
    expect(() => new Diff(rec, { a: { x: null } })).toThrow(InvalidTagValError);
    const g = HGrid.make({ rows: [HDict.make({ x: HNa.make() })] });
    expect(() => new Diff(rec, { a: g })).not.toThrow();
  });
  it('turns plain arrays and objects into lists and dicts', () => {
    const d = new Diff(rec, { l: [1, 'foo'], o: { x: 1, y: { z: true } } });
    expect(d.changes.get('l')?.equals(HList.make([HNum.make(1), HStr.make('foo')]))).toBe(true);
    expect(d.changes.get('o')?.toZinc()).toBe('{x:1 y:{z:T}}');
  });
  it('decodes Hayson values in plain objects', () => {
    const d = new Diff(rec, { m: { _kind: 'marker' }, r: { _kind: 'ref', val: 'x' }, n: { _kind: 'number', val: 2, unit: 'ft' } });
    expect(d.changes.get('m')?.equals(m)).toBe(true);
    expect(d.changes.get('r')?.equals(HRef.make('x'))).toBe(true);
    expect(d.changes.get('n')?.equals(HNum.make(2, 'ft'))).toBe(true);
    expect(d.flags).toBe(Diff.treeUpdate);
    expect(() => new Diff(rec, { na: { _kind: 'na' } })).toThrow(InvalidTagValError);
    expect(() => new Diff(rec, { bad: { _kind: 'nope' } })).toThrow(InvalidTagValError);
  });
  it('limits Str to 32767 and Uri to 1000 chars, nested too', () => {
    expect(() => new Diff(rec, { s: 'x'.repeat(32767) })).not.toThrow();
    expect(() => new Diff(rec, { s: 'x'.repeat(32768) })).toThrow(InvalidTagValError);
    expect(() => new Diff(rec, { s: HList.make([HStr.make('x'.repeat(32768))]) })).toThrow(InvalidTagValError);
    expect(() => new Diff(rec, { u: HUri.make('x'.repeat(1000)) })).not.toThrow();
    expect(() => new Diff(rec, { u: HUri.make('x'.repeat(1001)) })).toThrow(InvalidTagValError);
  });
  it('checks the name tag', () => {
    expect(() => new Diff(rec, { name: 'bad tag' })).toThrow(InvalidTagValError);
    expect(() => new Diff(rec, { name: HUri.make('foo') })).toThrow(new InvalidTagValError("Tag 'name' must be a Str"));
    expect(() => new Diff(rec, { name: 'good_name' })).not.toThrow();
    expect(() => new Diff(rec, { name: none })).not.toThrow();
  });
  it('accepts every storable kind (case 44)', () => {
    const vals = {
      mk: m, b: true, n: HNum.make(123, 'ft'), s: 'str', r: HRef.make('x'), u: HUri.make('http://x/'),
      dt: now, l: HList.make([HNum.make(1), HStr.make('foo')]), d: HDict.make({ a: m, b: HDict.make({ c: 1 }) }),
      g: HGrid.make({ rows: [HDict.make({ a: 1 })] }), sym: HSymbol.make('elec-meter'),
      span: HXStr.make('Span', 'today'), x: HXStr.make('Foo', 'bar'),
    };
    const d = Diff.makeAdd(vals);
    expect(d.changes.keys.sort()).toEqual(Object.keys(vals).sort());
  });
  it('keeps HRemove in changes', () => {
    const d = new Diff(rec, { foo: none, bar: 'b' });
    expect(d.changes.get('foo')?.equals(none)).toBe(true);
  });
});

describe('check order', () => {
  it('flags before rec id before tag names before values before rules', () => {
    expect(() => new Diff(null, { 'bad name': null }, Diff.add | Diff.transient)).toThrow(/transient/);
    expect(() => Diff.makeAdd({ 'bad name': null }, 'u:x')).toThrow(InvalidRecIdError);
    expect(() => new Diff(rec, { 'bad name': null })).toThrow(InvalidTagNameError);
    expect(() => new Diff(rec, { curVal: null })).toThrow(InvalidTagValError);
  });
});

describe('makeAll, getOld/getNew and toString', () => {
  it('builds result diffs', () => {
    const newRec = HDict.make({ id: HRef.make('r1'), mod: now, foo: 'x' });
    const d = Diff.makeAll({ id: HRef.make('r1'), oldRec: rec, oldMod: now, newRec, newMod: now,
      changes: HDict.make({ foo: 'x' }), flags: 0 });
    expect(d).toBeInstanceOf(Diff);
    expect(d.getOld('dis')?.equals(HStr.make('R'))).toBe(true);
    expect(d.getNew('foo')?.equals(HStr.make('x'))).toBe(true);
    expect(d.getNew('dis')).toBeUndefined();
    expect(new Diff(rec, {}).getOld('dis')).toBeUndefined();
  });
  it('formats like Haxall', () => {
    expect(Diff.makeAdd({ a: m, s: 'x' }, 'q').toString()).toBe('+{id:@q,a,s:"x"}');
    expect(new Diff(rec, null, Diff.remove).toString()).toBe('-{id:@r1,mod:2024-05-01T10:00:00Z}');
    expect(new Diff(rec, { n: 2 }).toString()).toBe('^{id:@r1,mod:2024-05-01T10:00:00Z,n:2}');
  });
});
