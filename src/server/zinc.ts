// A Zinc encoder that keeps Ref display names everywhere.
//
// haystack-core's `HGrid.toZinc()` writes Refs inside grids, dicts and lists as `@id` and drops
// their display names (`@id "dis"`), so a client reading a grid loses every `siteRef`/`equipRef`
// label. This encoder writes the same Zinc as haystack-core for every other value (it delegates
// scalars to their own `toZinc()`), and `@id "dis"` for Refs with a dis, at any depth.
import { HDict, HGrid, HList, HRef, HStr, Kind, valueIsKind, type HVal } from 'haystack-core';

/** One value as Zinc; `null`/`undefined` is `N`. */
export function zincVal(val: HVal | null | undefined): string {
  if (val === null || val === undefined) return 'N';
  if (valueIsKind<HRef>(val, Kind.Ref)) return zincRef(val);
  if (valueIsKind<HDict>(val, Kind.Dict)) return `{${zincTags(val)}}`;
  if (valueIsKind<HList>(val, Kind.List)) {
    const parts: string[] = [];
    for (const v of val) parts.push(zincVal(v));
    return `[${parts.join(',')}]`;
  }
  if (valueIsKind<HGrid>(val, Kind.Grid)) return `<<\n${zincGrid(val)}>>`;
  return val.toZinc();
}

function zincRef(ref: HRef): string {
  const id = `@${ref.value}`;
  const dis = ref.dis;
  return dis && dis !== ref.value ? `${id} ${HStr.make(dis).toZinc()}` : id;
}

/** Tags of a dict or grid meta: `a b:1 c:"x"` (markers bare). */
function zincTags(dict: HDict, skip?: string): string {
  const parts: string[] = [];
  for (const name of dict.keys) {
    if (name === skip) continue;
    const v = dict.get(name);
    if (v === undefined || v === null) continue;
    parts.push(valueIsKind(v, Kind.Marker) ? name : `${name}:${zincVal(v)}`);
  }
  return parts.join(' ');
}

/** A whole grid as Zinc text (with its trailing newline). */
export function zincGrid(grid: HGrid): string {
  const meta = zincTags(grid.meta, 'ver');
  let out = `ver:"3.0"${meta ? ` ${meta}` : ''}\n`;
  const cols = grid.getColumns();
  if (cols.length === 0) return `${out}empty\n`;
  out += cols
    .map((c) => {
      const m = zincTags(c.meta);
      return m ? `${c.name} ${m}` : c.name;
    })
    .join(',');
  out += '\n';
  const names = cols.map((c) => c.name);
  for (const row of grid.getRows()) {
    out += names
      .map((n) => {
        const v = row.get(n);
        return v === undefined || v === null ? '' : zincVal(v);
      })
      .join(',');
    out += '\n';
  }
  return out;
}
