// Content negotiation and the wire formats: Zinc, Hayson JSON (Haystack 4 JSON) and JSON v3 out;
// Zinc and Hayson JSON in.
import { HDict, HGrid, HStr, Kind, ZincReader, makeValue, valueIsKind, type HVal } from 'haystack-core';
import { zincGrid } from './zinc.js';
import { HttpError, oneLine } from './errors.js';

export type Format = 'zinc' | 'json' | 'jsonv3';

export const MIME: Record<Format, string> = {
  zinc: 'text/zinc; charset=utf-8',
  json: 'application/json; charset=utf-8',
  jsonv3: 'application/vnd.haystack+json; version=3; charset=utf-8',
};

/** The rows of the `formats` op. */
export const FORMATS: { mime: string; receive: boolean; send: boolean }[] = [
  { mime: 'text/zinc', receive: true, send: true },
  { mime: 'application/json', receive: true, send: true },
  { mime: 'application/vnd.haystack+json', receive: true, send: true },
  { mime: 'application/vnd.haystack+json;version=3', receive: false, send: true },
];

interface MediaRange {
  type: string;
  params: Record<string, string>;
  q: number;
}

function parseMediaRanges(header: string): MediaRange[] {
  return header
    .split(',')
    .map((part) => {
      const [type = '', ...rest] = part.split(';').map((s) => s.trim());
      const params: Record<string, string> = {};
      for (const p of rest) {
        const eq = p.indexOf('=');
        if (eq > 0) params[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim().replace(/^"|"$/g, '');
      }
      const q = params.q === undefined ? 1 : Number(params.q);
      return { type: type.toLowerCase(), params, q: Number.isFinite(q) ? q : 0 };
    })
    .filter((r) => r.type && r.q > 0);
}

function formatOfRange(r: MediaRange): Format | undefined {
  switch (r.type) {
    case 'text/zinc':
    case 'text/*':
    case '*/*':
    case 'text/plain':
      return 'zinc';
    case 'application/json':
    case 'application/vnd.haystack+json':
      return r.params.version === '3' ? 'jsonv3' : 'json';
    case 'application/*':
      return 'json';
    default:
      return undefined;
  }
}

/** The response format for an Accept header (Zinc when absent); HttpError 406 if none fits. */
export function negotiate(accept: string | undefined): Format {
  if (!accept || !accept.trim()) return 'zinc';
  const ranges = parseMediaRanges(accept);
  // stable sort by q: the first listed wins among equals, as clients such as nclient expect
  const sorted = ranges.map((r, i) => ({ r, i })).sort((a, b) => b.r.q - a.r.q || a.i - b.i);
  for (const { r } of sorted) {
    const f = formatOfRange(r);
    if (f) return f;
  }
  throw new HttpError(406, `Not acceptable: ${accept} (send text/zinc, application/json or application/vnd.haystack+json)`, 'NotAcceptable');
}

export function encodeGrid(grid: HGrid, format: Format): string {
  switch (format) {
    case 'zinc':
      return zincGrid(grid);
    case 'json':
      return JSON.stringify(grid.toJSON());
    case 'jsonv3':
      return JSON.stringify(grid.toJSONv3());
  }
}

/** Decodes a request body to a grid by its Content-Type (sniffed when absent or a form type). */
export function decodeBody(body: string, contentType: string | undefined): HGrid {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const text = body.replace(/^\uFEFF/, '');
  if (!text.trim()) return HGrid.make({});
  let kind: 'zinc' | 'json';
  if (type === 'text/zinc' || type === 'text/plain') kind = 'zinc';
  else if (type === 'application/json' || type === 'application/vnd.haystack+json') {
    if (/version\s*=\s*"?3/.test(contentType ?? '')) {
      throw new HttpError(415, 'JSON v3 request bodies are not supported: send Zinc or Hayson JSON', 'UnsupportedMediaType');
    }
    kind = 'json';
  } else if (type === '' || type === 'application/x-www-form-urlencoded' || type === 'application/octet-stream') {
    kind = text.trimStart().startsWith('{') ? 'json' : 'zinc';
  } else {
    throw new HttpError(415, `Unsupported Content-Type: ${contentType} (send text/zinc or application/json)`, 'UnsupportedMediaType');
  }
  let val: HVal | null | undefined;
  if (kind === 'zinc') {
    try {
      val = ZincReader.readValue(text);
    } catch (e) {
      throw new HttpError(400, `Invalid Zinc body: ${oneLine((e as Error).message)}`, 'ParseErr');
    }
  } else {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new HttpError(400, `Invalid JSON body: ${oneLine((e as Error).message)}`, 'ParseErr');
    }
    try {
      val = makeValue(json as Parameters<typeof makeValue>[0]);
    } catch (e) {
      throw new HttpError(400, `Invalid Hayson body: ${oneLine((e as Error).message)}`, 'ParseErr');
    }
  }
  if (valueIsKind<HGrid>(val, Kind.Grid)) return val;
  if (valueIsKind<HDict>(val, Kind.Dict)) return HGrid.make({ rows: [val] });
  throw new HttpError(400, 'Request body must be a grid', 'ParseErr');
}

/**
 * GET arguments as a one-row grid. Haystack encodes query values as Zinc (`id=@x`, `limit=10`,
 * `filter="site"`); a bare word (`filter=site`, `range=today`) is taken as a Str.
 */
export function queryGrid(params: URLSearchParams): HGrid {
  const obj: Record<string, HVal> = {};
  for (const [name, raw] of params) {
    if (!/^[a-z_][A-Za-z0-9_]*$/.test(name)) continue;
    obj[name] = parseQueryValue(raw);
  }
  return Object.keys(obj).length ? HGrid.make({ rows: [HDict.make(obj)] }) : HGrid.make({});
}

function parseQueryValue(raw: string): HVal {
  // a comma outside a Zinc string means a list of values, such as a hisRead range: keep it as text
  if (/^(@|"|`|-?\d|\^)/.test(raw) && !(raw.includes(',') && !raw.startsWith('"'))) {
    try {
      const v = ZincReader.readValue(raw);
      if (v !== null && v !== undefined) return v;
    } catch {
      /* not Zinc: a plain string */
    }
  }
  return HStr.make(raw);
}
