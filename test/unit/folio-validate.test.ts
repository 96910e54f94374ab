import { describe, expect, it } from 'vitest';
import { HDateTime, HDict, HMarker, HNum, HRef, HStr } from 'haystack-core';
import { Diff } from '../../src/folio/Diff.js';
import { ArgError, DiffError, InvalidRecIdError, InvalidTagNameError, InvalidTagValError } from '../../src/folio/errors.js';
import {
  checkDiffs, checkIdPrefix, checkRecId, checkTagName, checkTagVal, isRefId, isTagName,
} from '../../src/folio/validate.js';
import {
  NEVER_TAGS, TAG_RULES, TRANSIENT_ONLY_TAGS, isUncommittable, neverIndex, stripUncommittable, tagRule,
} from '../../src/folio/tagRules.js';

const now = HDateTime.make('2024-05-01T10:00:00Z UTC');
const rec = (id: string): HDict => HDict.make({ id: HRef.make(id), mod: now });

describe('checkRecId', () => {
  it('applies the spec rules in order', () => {
    expect(() => checkRecId('a'.repeat(60))).not.toThrow();
    expect(() => checkRecId('a'.repeat(61))).toThrow(new InvalidRecIdError(`Id too long: @${'a'.repeat(61)}`));
    expect(() => checkRecId('S.site')).toThrow(new InvalidRecIdError('Cannot use Niagara id: @S.site'));
    expect(() => checkRecId('u:c')).toThrow(new InvalidRecIdError('Id cannot contain colon: @u:c'));
    expect(() => checkRecId('x y')).toThrow(/"x y"/);
    expect(() => checkRecId('')).toThrow(InvalidRecIdError);
  });
  it('isRefId', () => {
    expect(isRefId('a-B_0:.~')).toBe(true);
    expect(isRefId('a/b')).toBe(false);
  });
});

describe('checkTagName / checkTagVal', () => {
  it('names', () => {
    expect(isTagName('_a')).toBe(true);
    expect(isTagName('_')).toBe(false);
    expect(() => checkTagName('x'.repeat(61))).toThrow(InvalidTagNameError);
    expect(() => checkTagName('x'.repeat(60))).not.toThrow();
  });
  it('values', () => {
    expect(() => checkTagVal('a', 'raw js string')).toThrow(InvalidTagValError);
    expect(() => checkTagVal('a', HStr.make('x'.repeat(32767)))).not.toThrow();
    expect(() => checkTagVal('a', HStr.make('x'.repeat(32768)))).toThrow(InvalidTagValError);
    expect(() => checkTagVal('name', HNum.make(1))).toThrow("Tag 'name' must be a Str");
  });
});

describe('checkDiffs (case 39)', () => {
  it('rejects an empty batch', () => {
    expect(() => checkDiffs([])).toThrow(new DiffError('No diffs to commit'));
  });
  it('rejects duplicates', () => {
    expect(() => checkDiffs([new Diff(rec('a'), { x: HMarker.make() }), new Diff(rec('a'), { y: HMarker.make() })]))
      .toThrow(new DiffError('Duplicate diffs for a'));
  });
  it('rejects mixed transient and persistent', () => {
    expect(() => checkDiffs([new Diff(rec('a'), {}), new Diff(rec('b'), {}, Diff.transient)]))
      .toThrow(new DiffError('Cannot mix transient and persistent diffs'));
  });
  it('accepts a clean batch', () => {
    expect(() => checkDiffs([new Diff(rec('a'), {}), new Diff(rec('b'), {}), Diff.makeAdd({ dis: 'x' })])).not.toThrow();
  });
});

describe('checkIdPrefix', () => {
  it('needs id chars and a trailing colon', () => {
    expect(() => checkIdPrefix('u:')).not.toThrow();
    expect(() => checkIdPrefix('p:demo:')).not.toThrow();
    for (const bad of ['u', '', 'a b:', 'u:x', '/:']) expect(() => checkIdPrefix(bad)).toThrow(ArgError);
  });
});

describe('tag rules table (spec 2.2)', () => {
  it('has every tag once with its kind', () => {
    expect(tagRule('hisEndVal')?.kind).toBe('never');
    expect(tagRule('fileSize')?.kind).toBe('restricted');
    expect(tagRule('navName')?.kind).toBe('persistentOnly');
    expect(tagRule('userFailedLogins')?.kind).toBe('transientOnly');
    expect(tagRule('point')?.flags).toBe(Diff.point);
    expect(tagRule('trash')?.flags).toBe(Diff.treeUpdate);
    expect(tagRule('curStatus')?.flags).toBe(Diff.curVal);
    expect(tagRule('foo')).toBeUndefined();
    expect(TAG_RULES.size).toBe(9 + 4 + 8 + 16);
  });
  it('isUncommittable', () => {
    expect(isUncommittable('id')).toBe(false);
    for (const t of NEVER_TAGS.filter((t) => t !== 'id')) expect(isUncommittable(t)).toBe(true);
    for (const t of TRANSIENT_ONLY_TAGS) expect(isUncommittable(t)).toBe(true);
    expect(isUncommittable('dis')).toBe(false);
    expect(isUncommittable('projMeta')).toBe(false);
  });
  it('neverIndex', () => {
    for (const t of ['id', 'mod', 'trash', 'hisSize', 'curVal', 'transient']) expect(neverIndex(t)).toBe(true);
    for (const t of ['dis', 'site', 'siteRef', 'point']) expect(neverIndex(t)).toBe(false);
  });
  it('stripUncommittable', () => {
    const d = HDict.make({
      id: HRef.make('a'), mod: now, dis: HStr.make('A'), curVal: HNum.make(1), hisSize: HNum.make(3), tmp: HMarker.make(),
    });
    expect(stripUncommittable(d).keys).toEqual(['id', 'dis', 'tmp']);
    expect(stripUncommittable(d, { mod: true }).keys).toEqual(['id', 'mod', 'dis', 'tmp']);
    expect(stripUncommittable(d, { stripId: true, transientTags: ['tmp'] }).keys).toEqual(['dis']);
    const clean = HDict.make({ dis: HStr.make('x') });
    expect(stripUncommittable(clean)).toBe(clean);
  });
});
