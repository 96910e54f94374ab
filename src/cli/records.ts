// Reading record files (Zinc, Trio, Hayson JSON, JSON v3) with the position of every record, and
// turning them into validated Diffs for an all-or-nothing import.
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import {
  HCoord,
  HDate,
  HDateTime,
  HDict,
  HGrid,
  HList,
  HMarker,
  HNa,
  HNum,
  HRef,
  HRemove,
  HStr,
  HSymbol,
  HTime,
  HUri,
  HXStr,
  Kind,
  TrioReader,
  ZincReader,
  valueIsKind,
  type HVal,
} from 'haystack-core';
import { Diff } from '../folio/Diff.js';
import { tagRule } from '../folio/tagRules.js';
import { oneLine } from '../server/errors.js';

export type RecordFormat = 'zinc' | 'trio' | 'json';

/** A record and where it came from: `row` is 1-based within the file, `line` when known. */
export interface SourcedRecord {
  file: string;
  row: number;
  line?: number;
  dict: HDict;
}

/** An input problem: names the file, the row and the problem. */
export class InputError extends Error {
  constructor(
    readonly file: string,
    readonly row: number | undefined,
    problem: string,
    readonly line?: number,
  ) {
    const where = row === undefined ? file : `${file}: row ${row}${line ? ` (line ${line})` : ''}`;
    super(`${where}: ${oneLine(problem)}`);
    this.name = 'InputError';
  }
}

export function formatOf(file: string, forced?: string): RecordFormat {
  const f = (forced ?? extname(file).slice(1)).toLowerCase();
  if (f === 'zinc') return 'zinc';
  if (f === 'trio') return 'trio';
  if (f === 'json' || f === 'hayson') return 'json';
  throw new InputError(file, undefined, `unknown format "${f || '(no extension)'}": use .zinc, .trio or .json, or --format`);
}

export function readRecordFile(file: string, forced?: string): SourcedRecord[] {
  const format = formatOf(file, forced);
  let text: string;
  try {
    text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  } catch (e) {
    throw new InputError(file, undefined, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  switch (format) {
    case 'zinc':
      return parseZincRecords(file, text);
    case 'trio':
      return parseTrioRecords(file, text);
    case 'json':
      return parseJsonRecords(file, text);
  }
}

// ---------------------------------------------------------------- Zinc

export function parseZincRecords(file: string, text: string): SourcedRecord[] {
  let grid: HVal | null | undefined;
  try {
    grid = ZincReader.readValue(text);
  } catch (e) {
    throw locateZincError(file, text, e as Error);
  }
  if (!valueIsKind<HGrid>(grid, Kind.Grid)) throw new InputError(file, undefined, 'not a Zinc grid');
  // rows are one per line unless a value spans lines (nested grids): then lines are not known
  const lines = text.split(/\r?\n/);
  const firstRowLine = 3;
  const simple = lines.filter((l) => l.trim() !== '').length === grid.length + 2;
  return grid.getRows().map((dict, i) => ({ file, row: i + 1, line: simple ? firstRowLine + i : undefined, dict: stripNulls(dict) }));
}

/** Finds the first row line that does not parse on its own, to name it in the error. */
function locateZincError(file: string, text: string, err: Error): InputError {
  const lines = text.split(/\r?\n/);
  const header = lines.slice(0, 2).join('\n');
  try {
    ZincReader.readValue(`${header}\n`);
  } catch {
    return new InputError(file, undefined, `invalid Zinc header: ${err.message}`);
  }
  let row = 0;
  for (let i = 2; i < lines.length; i++) {
    const line = lines[i] as string;
    if (!line.trim()) continue;
    row++;
    try {
      ZincReader.readValue(`${header}\n${line}\n`);
    } catch (e) {
      return new InputError(file, row, `invalid Zinc: ${(e as Error).message}`, i + 1);
    }
  }
  return new InputError(file, undefined, `invalid Zinc: ${err.message}`);
}

function stripNulls(dict: HDict): HDict {
  const obj: Record<string, HVal> = {};
  for (const k of dict.keys) {
    const v = dict.get(k);
    if (v !== undefined && v !== null) obj[k] = v;
  }
  return HDict.make(obj);
}

// ---------------------------------------------------------------- Trio

export function parseTrioRecords(file: string, text: string): SourcedRecord[] {
  const out: SourcedRecord[] = [];
  const lines = text.split(/\r?\n/);
  let start = 0;
  const flush = (end: number) => {
    const chunk = lines.slice(start, end);
    const body = chunk.filter((l) => !l.startsWith('//')).join('\n');
    const firstLine = start + 1 + chunk.findIndex((l) => l.trim() !== '' && !l.startsWith('//'));
    if (body.trim()) {
      const row = out.length + 1;
      checkTrioValues(file, row, start + 1, chunk);
      let dicts: HDict[];
      try {
        dicts = TrioReader.readAllDicts(`${body}\n`);
      } catch (e) {
        throw new InputError(file, row, `invalid Trio: ${(e as Error).message}`, firstLine);
      }
      const dict = dicts[0];
      if (!dict || dicts.length !== 1) throw new InputError(file, row, 'invalid Trio record', firstLine);
      out.push({ file, row, line: firstLine, dict });
    }
    start = end + 1;
  };
  lines.forEach((l, i) => {
    if (/^-{3,}\s*$/.test(l)) flush(i);
  });
  flush(lines.length);
  return out;
}

/** haystack-core's Trio reader is lenient; catch the obvious: a tag line without a name. */
function checkTrioValues(file: string, row: number, start0: number, chunk: string[]): void {
  chunk.forEach((l, i) => {
    if (!l.trim() || l.startsWith('//') || /^\s/.test(l)) return;
    if (!/^[a-z_][A-Za-z0-9_]*(\s*:|\s*$)/.test(l)) {
      throw new InputError(file, row, `invalid Trio tag line: ${l.slice(0, 60)}`, start0 + i);
    }
  });
}

// ---------------------------------------------------------------- JSON (Hayson or JSON v3)

export function parseJsonRecords(file: string, text: string): SourcedRecord[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new InputError(file, undefined, `invalid JSON: ${(e as Error).message}`);
  }
  let rows: unknown[];
  if (Array.isArray(json)) rows = json;
  else if (json && typeof json === 'object' && Array.isArray((json as { rows?: unknown }).rows)) rows = (json as { rows: unknown[] }).rows;
  else throw new InputError(file, undefined, 'expected a grid ({"meta", "cols", "rows"}) or an array of records');
  const meta = (json as { meta?: { ver?: unknown } }).meta;
  const v3 = !Array.isArray(json) && meta?.ver === '3.0' && looksV3(rows);
  return rows.map((r, i) => {
    if (!r || typeof r !== 'object' || Array.isArray(r)) throw new InputError(file, i + 1, 'a record must be a JSON object');
    let dict: HDict;
    try {
      dict = v3 ? (fromV3(r) as HDict) : HDict.make(r as Record<string, never>);
    } catch (e) {
      throw new InputError(file, i + 1, `invalid ${v3 ? 'JSON v3' : 'Hayson'} value: ${(e as Error).message}`);
    }
    return { file, row: i + 1, dict: stripNulls(dict) };
  });
}

function looksV3(rows: unknown[]): boolean {
  for (const r of rows.slice(0, 20)) {
    if (!r || typeof r !== 'object') continue;
    for (const v of Object.values(r as Record<string, unknown>)) {
      if (typeof v === 'string' && /^[a-z-]:/.test(v)) return true;
      if (v && typeof v === 'object' && '_kind' in (v as object)) return false;
    }
  }
  return false;
}

/** Decodes a JSON v3 value (`"m:"`, `"n:12 kW"`, `"r:id dis"`, ...). */
export function fromV3(v: unknown): HVal | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean' || typeof v === 'number') return HDict.make({ v }).get('v') as HVal;
  if (Array.isArray(v)) return HList.make(v.map((x) => fromV3(x)) as HVal[]);
  if (typeof v === 'object') {
    const obj: Record<string, HVal> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      const hv = fromV3(x);
      if (hv !== null) obj[k] = hv;
    }
    return HDict.make(obj);
  }
  const s = String(v);
  const m = /^([a-z-]):([\s\S]*)$/.exec(s);
  if (!m) return HStr.make(s);
  const body = m[2] as string;
  switch (m[1]) {
    case 'm':
      return HMarker.make();
    case 'z':
      return HNa.make();
    case '-':
      return HRemove.make();
    case 's':
      return HStr.make(body);
    case 'n': {
      const [num = '', ...unit] = body.split(' ');
      const n = num === 'INF' ? Infinity : num === '-INF' ? -Infinity : num === 'NaN' ? NaN : Number(num);
      if (Number.isNaN(n) && num !== 'NaN') throw new Error(`bad number ${s}`);
      return unit.length ? HNum.make(n, unit.join(' ')) : HNum.make(n);
    }
    case 'r': {
      const sp = body.indexOf(' ');
      return sp < 0 ? HRef.make(body) : HRef.make(body.slice(0, sp), body.slice(sp + 1));
    }
    case 'u':
      return HUri.make(body);
    case 'd':
      return HDate.make(body);
    case 'h':
      return HTime.make(body);
    case 't':
      return HDateTime.make(body);
    case 'c': {
      const [lat, lng] = body.split(',').map(Number);
      return HCoord.make({ latitude: lat as number, longitude: lng as number });
    }
    case 'y':
      return HSymbol.make(body);
    case 'x': {
      const c = body.indexOf(':');
      return HXStr.make(body.slice(0, c), body.slice(c + 1));
    }
    default:
      return HStr.make(s);
  }
}

// ---------------------------------------------------------------- records -> diffs

export interface ImportPlan {
  /** persistent adds (or updates with --upsert), in input order */
  diffs: Diff[];
  /** transientOnly tags (curVal, ...) per id, committed after the adds */
  transient: Map<string, Record<string, HVal>>;
  /** tags dropped: `mod` and the computed never-tags (hisSize, hisStart, ...) */
  dropped: number;
  records: number;
}

export interface PlanOptions {
  idPrefix?: string;
  /** existing records (by absolute id), for --upsert; without it an existing id is an error */
  existing: Map<string, HDict>;
  upsert: boolean;
  onProgress?: (done: number) => void;
}

/** The relative id a record is added under (the file's id minus the folio's idPrefix). */
export function relId(src: SourcedRecord, id: HRef, idPrefix?: string): string {
  let v = id.value;
  if (idPrefix && v.startsWith(idPrefix)) v = v.slice(idPrefix.length);
  else if (v.includes(':')) {
    throw new InputError(
      src.file,
      src.row,
      `id @${id.value} contains ':': pass --id-prefix with its prefix (such as ${id.value.slice(0, id.value.lastIndexOf(':') + 1)})`,
      src.line,
    );
  }
  return v;
}

/** Validates every record into a Diff; the first problem throws an InputError naming it. */
export function planImport(recs: SourcedRecord[], opts: PlanOptions): ImportPlan {
  const diffs: Diff[] = [];
  const transient = new Map<string, Record<string, HVal>>();
  const seen = new Map<string, SourcedRecord>();
  let dropped = 0;
  recs.forEach((src, n) => {
    const persistent: Record<string, HVal> = {};
    const trans: Record<string, HVal> = {};
    let idRef: HRef | undefined;
    for (const name of src.dict.keys) {
      const val = src.dict.get(name) as HVal;
      if (name === 'id') {
        if (!valueIsKind<HRef>(val, Kind.Ref)) throw new InputError(src.file, src.row, `'id' must be a Ref, not ${val.toZinc()}`, src.line);
        idRef = val;
        continue;
      }
      const rule = tagRule(name)?.kind;
      if (name === 'mod' || rule === 'never') {
        dropped++;
        continue;
      }
      if (rule === 'transientOnly') trans[name] = val;
      else persistent[name] = val;
    }
    try {
      let diff: Diff;
      let absId: string;
      if (idRef) {
        const rel = relId(src, idRef, opts.idPrefix);
        absId = opts.idPrefix ? opts.idPrefix + rel : rel;
        const prev = seen.get(absId);
        if (prev) throw new Error(`duplicate id @${absId} (also ${prev.file} row ${prev.row})`);
        seen.set(absId, src);
        const old = opts.existing.get(absId);
        if (old && !opts.upsert) throw new Error(`rec @${absId} already exists (use --upsert to update existing records)`);
        diff = old ? new Diff(old, persistent, Diff.force) : Diff.makeAdd(persistent, rel);
      } else {
        diff = Diff.makeAdd(persistent);
        absId = diff.id.value;
      }
      // transient tags are checked the same way now, so a bad one fails before anything is written
      if (Object.keys(trans).length) {
        new Diff(HDict.make({ id: HRef.make(absId), mod: HDateTime.now() }), trans, Diff.forceTransient);
        transient.set(absId, trans);
      }
      diffs.push(diff);
    } catch (e) {
      if (e instanceof InputError) throw e;
      throw new InputError(src.file, src.row, (e as Error).message, src.line);
    }
    if (opts.onProgress && (n + 1) % 500 === 0) opts.onProgress(n + 1);
  });
  opts.onProgress?.(recs.length);
  return { diffs, transient, dropped, records: recs.length };
}

export const fileLabel = (f: string) => basename(f);
