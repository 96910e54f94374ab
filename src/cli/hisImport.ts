// Importing Zinc history grids (`ts,val` rows) such as the Carytown ones.
//
// The point of a file is, in order: `--point`, the grid meta `id`, the record whose `hisURI` is
// the file's name, or the record whose id is the file's name without `.zinc`. Timestamps are
// converted to the point's tz (same instant). Values are made to fit the point: a unitless Number
// takes the point's unit; for a Bool point a Number becomes `val != 0`; for a Str point, its text.
// Every file is parsed and checked before anything is written.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { HBool, HDateTime, HDict, HGrid, HNum, HRef, HStr, Kind, ZincReader, valueIsKind, type HVal } from 'haystack-core';
import type { RedisFolio } from '../folio/RedisFolio.js';
import type { HisItem } from '../folio/types.js';
import { toTz } from '../server/tz.js';
import { InputError } from './records.js';

export interface HisFilePlan {
  file: string;
  id: string;
  items: HisItem[];
  coerced: number;
}

export function readHisGrid(file: string): HGrid {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  } catch (e) {
    throw new InputError(file, undefined, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let grid: HVal | null | undefined;
  try {
    grid = ZincReader.readValue(text);
  } catch (e) {
    throw new InputError(file, undefined, `invalid Zinc: ${(e as Error).message}`);
  }
  if (!valueIsKind<HGrid>(grid, Kind.Grid)) throw new InputError(file, undefined, 'not a Zinc grid');
  return grid;
}

function coerce(val: HVal, rec: HDict): { val: HVal; coerced: boolean } {
  const kind = rec.get('kind')?.toString();
  const unit = rec.get('unit')?.toString();
  if (kind === 'Bool' && valueIsKind<HNum>(val, Kind.Number)) return { val: HBool.make(val.value !== 0), coerced: true };
  if (kind === 'Str' && !valueIsKind<HStr>(val, Kind.Str) && val.getKind() !== Kind.NA) {
    const text = valueIsKind<HNum>(val, Kind.Number) ? String(val.value) : String(val);
    return { val: HStr.make(text), coerced: true };
  }
  if ((kind === 'Number' || kind === undefined) && valueIsKind<HNum>(val, Kind.Number) && !val.unit && unit) {
    return { val: HNum.make(val.value, unit), coerced: false };
  }
  return { val, coerced: false };
}

export async function planHisFile(folio: RedisFolio, file: string, pointArg?: string): Promise<HisFilePlan> {
  const grid = readHisGrid(file);
  const metaId = grid.meta.get('id');
  let rec: HDict | undefined;
  if (pointArg) rec = await folio.readById(pointArg.replace(/^@/, ''), false);
  else if (valueIsKind<HRef>(metaId, Kind.Ref)) rec = await folio.readById(metaId.value, false);
  else {
    const name = basename(file);
    rec = await folio.read(`hisURI==${JSON.stringify(name)}`, false);
    rec ??= await folio.readById(name.replace(/\.zinc$/i, ''), false);
  }
  if (!rec) throw new InputError(file, undefined, 'no point for this file: pass --point ID, or put the id in the grid meta');
  const id = (rec.get('id') as HRef).value;
  if (!rec.has('point') || !rec.has('his')) throw new InputError(file, undefined, `@${id} is not a his point`);
  const tz = rec.get('tz')?.toString();
  if (!tz) throw new InputError(file, undefined, `@${id} has no tz`);
  const cols = grid.getColumns().map((c) => c.name);
  if (!cols.includes('ts') || !cols.includes('val')) throw new InputError(file, undefined, "a history grid needs 'ts' and 'val' columns");
  let coerced = 0;
  const items = grid.getRows().map((row, i) => {
    const ts = row.get('ts');
    const val = row.get('val');
    if (!valueIsKind<HDateTime>(ts, Kind.DateTime)) throw new InputError(file, i + 1, "'ts' must be a DateTime");
    if (val === undefined || val === null) throw new InputError(file, i + 1, "missing 'val'");
    let zoned: HDateTime;
    try {
      zoned = toTz(ts, tz);
    } catch (e) {
      throw new InputError(file, i + 1, (e as Error).message);
    }
    const c = coerce(val, rec);
    if (c.coerced) coerced++;
    return { ts: zoned, val: c.val };
  });
  return { file, id, items, coerced };
}

/** Parses and checks every file, then writes them; returns items written per file. */
export async function importHisFiles(
  folio: RedisFolio,
  files: string[],
  opts: { point?: string; skipNonPoints?: boolean } = {},
): Promise<{ files: number; items: number; coerced: number; skipped: number }> {
  if (opts.point && files.length !== 1) throw new Error('--point takes exactly one file');
  const plans: HisFilePlan[] = [];
  let skipped = 0;
  for (const f of files) {
    try {
      plans.push(await planHisFile(folio, f, opts.point));
    } catch (e) {
      // the Carytown data has history files for records that are not points (an equip)
      if (opts.skipNonPoints && e instanceof InputError && e.message.endsWith('is not a his point')) skipped++;
      else throw e;
    }
  }
  let items = 0;
  let coerced = 0;
  for (const p of plans) {
    try {
      const res = await folio.his.write(p.id, p.items);
      items += res.count;
      coerced += p.coerced;
    } catch (e) {
      throw new InputError(p.file, undefined, `writing @${p.id}: ${(e as Error).message}`);
    }
  }
  return { files: plans.length, items, coerced, skipped };
}
