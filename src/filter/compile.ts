// compileFilter: parse filter text once (haystack-core's parser), normalize it to our FilterNode AST,
// and cache the result by text.
import { HFilter, Kind, NodeType, TokenType, ZincReader, valueIsKind } from 'haystack-core';
import type {
  CmpNode,
  CondAndNode,
  CondOrNode,
  HDict,
  HStr,
  HSymbol,
  HVal,
  HasNode,
  IsANode,
  MissingNode,
  Node,
  ParensNode,
  RelationshipNode,
  TokenObj,
  TokenPaths,
} from 'haystack-core';
import { ParseError } from '../folio/errors.js';
import { evaluate } from './evaluate.js';
import type { CmpOp, FilterNode, Resolver } from './evaluate.js';

export interface CompiledFilter {
  /** the filter text as given */
  readonly text: string;
  /** the normalized AST (and/or flattened, no parentheses) */
  readonly node: FilterNode;
  /** whether `rec` matches; `resolve` derefs Refs for `->` paths */
  matches(rec: HDict, resolve: Resolver): boolean;
}

const CACHE_MAX = 500;
// Map keeps insertion order: re-inserting on a hit makes it an LRU.
const cache = new Map<string, CompiledFilter>();

/** Parse `text` into a CompiledFilter (cached); throws ParseError naming the text and the problem. */
export function compileFilter(text: string): CompiledFilter {
  const hit = cache.get(text);
  if (hit !== undefined) {
    cache.delete(text);
    cache.set(text, hit);
    return hit;
  }
  const node = parseFilter(text);
  const compiled: CompiledFilter = {
    text,
    node,
    matches: (rec, resolve) => evaluate(node, rec, resolve),
  };
  cache.set(text, compiled);
  if (cache.size > CACHE_MAX) cache.delete(cache.keys().next().value as string);
  return compiled;
}

/** Parse filter text into our AST without caching. */
export function parseFilter(text: string): FilterNode {
  if (typeof text !== 'string' || text.trim() === '') throw new ParseError(`Invalid filter "${String(text)}": empty filter`);
  const pre = preprocess(text);
  let hsNode: Node;
  try {
    hsNode = HFilter.parse(pre.text);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new ParseError(`Invalid filter "${text}": ${msg}`, { cause: e });
  }
  return new Converter(text, pre).convert(hsNode);
}

// ---------------------------------------------------------------------------------------------
// Pre-processing. haystack-core 3.0.13's lexer rejects two things Haxall filters allow:
//  - DateTime literals (`ts > 2020-01-01T00:00:00Z UTC`: "Unsupported kind dateTime"), and
//  - capitalized spec names (`Foo`, `lib::Foo`, `a.b::Foo`: "Invalid character").
// We swap them for placeholders it accepts (a Str literal, a tag name built from a nonce that does
// not occur in the text) and swap them back while converting the AST.
// ---------------------------------------------------------------------------------------------

interface Preprocessed {
  text: string;
  /** placeholder Str value -> DateTime literal */
  dateTimes: Map<string, HVal>;
  /** placeholder tag name -> spec name */
  specs: Map<string, string>;
}

const DATETIME_RE =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})(?: [A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*)?/;
const SPEC_QNAME_RE = /^[a-z][A-Za-z0-9_]*(?:\.[a-z][A-Za-z0-9_]*)*::[A-Z][A-Za-z0-9_]*/;
const SPEC_NAME_RE = /^[A-Z][A-Za-z0-9_]*/;
const IDENT_RE = /^[a-z][A-Za-z0-9_]*(?:->[a-z][A-Za-z0-9_]*)*\??/;
const NUMBER_RE = /^-?[0-9][0-9A-Za-z_.:%/$\u0080-\uffff]*(?:[eE][+-][0-9]+[A-Za-z_%/$\u0080-\uffff]*)?/;

function preprocess(text: string): Preprocessed {
  const dateTimes = new Map<string, HVal>();
  const specs = new Map<string, string>();
  let nonce = 0;
  while (text.includes(`zhx${nonce}q`)) nonce++;
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"' || c === '`') {
      const end = skipQuoted(text, i);
      out += text.slice(i, end);
      i = end;
      continue;
    }
    const rest = text.slice(i);
    const prev = i === 0 ? ' ' : text[i - 1];
    const atTokenStart = /[\s()=<>!]/.test(prev);
    if (atTokenStart && /[-0-9]/.test(c)) {
      const dt = DATETIME_RE.exec(rest);
      if (dt) {
        let val: HVal | null | undefined;
        try {
          val = ZincReader.readValue(dt[0]);
        } catch (e) {
          throw new ParseError(`Invalid filter "${text}": bad DateTime literal ${dt[0]}`, { cause: e });
        }
        if (!val || !valueIsKind(val, Kind.DateTime)) throw new ParseError(`Invalid filter "${text}": bad DateTime literal ${dt[0]}`);
        const key = `zhx${nonce}q${dateTimes.size}`;
        dateTimes.set(key, val);
        out += `"${key}"`;
        i += dt[0].length;
        continue;
      }
      const num = NUMBER_RE.exec(rest);
      if (num) {
        out += num[0];
        i += num[0].length;
        continue;
      }
    }
    if (atTokenStart && /[A-Za-z]/.test(c)) {
      const m = SPEC_QNAME_RE.exec(rest) ?? SPEC_NAME_RE.exec(rest);
      if (m) {
        const key = `zhx${nonce}q${specs.size}`;
        specs.set(key, m[0]);
        out += key;
        i += m[0].length;
        continue;
      }
      const id = IDENT_RE.exec(rest);
      if (id) {
        out += id[0];
        i += id[0].length;
        continue;
      }
    }
    if (c === '@' || c === '^') {
      // Ref and symbol chars, copied as they are (they may contain '-' and ':').
      const m = /^[@^][A-Za-z0-9_:\-.~]*/.exec(rest);
      const tok = m ? m[0] : c;
      out += tok;
      i += tok.length;
      continue;
    }
    out += c;
    i++;
  }
  return { text: out, dateTimes, specs };
}

/** Index after the closing quote of the Str/Uri starting at `start` (or the end if unterminated). */
function skipQuoted(text: string, start: number): number {
  const q = text[start];
  let i = start + 1;
  while (i < text.length) {
    if (text[i] === '\\') i += 2;
    else if (text[i] === q) return i + 1;
    else i++;
  }
  return text.length;
}

// ---------------------------------------------------------------------------------------------
// haystack-core AST -> FilterNode
// ---------------------------------------------------------------------------------------------

const OPS = new Map<TokenType, CmpOp>([
  [TokenType.equals, '=='],
  [TokenType.notEquals, '!='],
  [TokenType.lessThan, '<'],
  [TokenType.lessThanOrEqual, '<='],
  [TokenType.greaterThan, '>'],
  [TokenType.greaterThanOrEqual, '>='],
]);

class Converter {
  constructor(
    private readonly text: string,
    private readonly pre: Preprocessed,
  ) {}

  private fail(problem: string): never {
    throw new ParseError(`Invalid filter "${this.text}": ${problem}`);
  }

  convert(node: Node): FilterNode {
    switch (node.type) {
      case NodeType.condOr:
        return this.flatten('or', (node as CondOrNode).condAnds.map((n) => this.convert(n)));
      case NodeType.condAnd:
        return this.flatten('and', (node as CondAndNode).terms.map((n) => this.convert(n)));
      case NodeType.parens:
        return this.convert((node as ParensNode).condOr);
      case NodeType.has: {
        const path = this.path((node as HasNode).path, true);
        const spec = path.length === 1 ? this.pre.specs.get(path[0]) : undefined;
        return spec !== undefined ? { kind: 'spec', name: spec } : { kind: 'has', path };
      }
      case NodeType.missing: {
        // Haxall parses `not Foo` as a missing tag named Foo, not as a spec.
        const tok = (node as MissingNode).path;
        const spec = tok.paths.length === 1 ? this.pre.specs.get(tok.paths[0]) : undefined;
        if (spec !== undefined && !spec.includes('::')) return { kind: 'missing', path: [spec] };
        return { kind: 'missing', path: this.path(tok) };
      }
      case NodeType.cmp: {
        const cmp = node as CmpNode;
        const op = OPS.get(cmp.cmpOp.type);
        if (op === undefined) this.fail(`unknown operator ${cmp.cmpOp.text}`);
        return { kind: 'cmp', path: this.path(cmp.path), op, val: this.literal(cmp.val.value) };
      }
      case NodeType.isa: {
        const sym = (node as IsANode).val.value as HSymbol;
        return { kind: 'symbol', symbol: sym.value, terms: sym.value.split('-').filter((t) => t !== '') };
      }
      case NodeType.rel:
        return { kind: 'rel', rel: (node as RelationshipNode).rel.relationship };
      case NodeType.wildcardEq:
        // haystack-core's `a *== @x` is not Haystack filter syntax (Haxall rejects it).
        return this.fail('the *== operator is not supported');
      default:
        return this.fail(`unsupported node type ${String(node.type)}`);
    }
  }

  private flatten(kind: 'and' | 'or', nodes: FilterNode[]): FilterNode {
    const out: FilterNode[] = [];
    for (const n of nodes) {
      if (n.kind === kind) out.push(...n.nodes);
      else out.push(n);
    }
    return out.length === 1 ? out[0] : { kind, nodes: out };
  }

  /** The tag path of a term; a spec placeholder is only allowed alone, as a `has` term. */
  private path(tok: TokenObj | TokenPaths, allowSpec = false): string[] {
    const path = [...tok.paths];
    for (const seg of path) {
      const spec = this.pre.specs.get(seg);
      if (spec !== undefined && !(allowSpec && path.length === 1)) this.fail(`spec name ${spec} must be a whole term`);
    }
    return path;
  }

  private literal(val: HVal): HVal {
    if (valueIsKind<HStr>(val, Kind.Str)) {
      const dt = this.pre.dateTimes.get(val.value);
      if (dt !== undefined) return dt;
    }
    return val;
  }
}

/** Test hook: clear the parse cache. */
export function clearFilterCache(): void {
  cache.clear();
}

/** Test hook: the number of cached filters. */
export function filterCacheSize(): number {
  return cache.size;
}
