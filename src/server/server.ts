// The Haystack HTTP API server: `/api/{project}/{op}` over one RedisFolio (node:http).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { HGrid } from 'haystack-core';
import type { RedisFolio } from '../folio/RedisFolio.js';
import { HttpError, errorGrid, oneLine, statusOf } from './errors.js';
import { MIME, decodeBody, encodeGrid, negotiate, queryGrid, type Format } from './formats.js';
import { OPS, OPS_BY_NAME, type OpContext } from './ops.js';
import { WatchRegistry } from './watches.js';
import { dateTimeAt, localTzName } from './tz.js';
import { publishAll } from './pointWrite.js';

export interface HxServerOptions {
  folio: RedisFolio;
  /** project name in `/api/{project}/{op}` (default: the folio's name) */
  project?: string;
  /** default 127.0.0.1; a non-loopback host requires `token` */
  host?: string;
  /** default 0 (a free port) */
  port?: number;
  /** when set, every request needs `Authorization: Bearer <token>` */
  token?: string;
  /** request bodies larger than this are refused with 413 (default 16 MiB) */
  maxBodyBytes?: number;
  /** rows a read returns at most (default 100,000) */
  maxReadRows?: number;
  /** items a hisRead returns at most (default 1,000,000) */
  maxHisRows?: number;
  /** watches open at once at most (default 1,000) */
  maxWatches?: number;
  /** package version for `about` */
  version?: string;
  /** request log sink (default: none) */
  log?: (line: string) => void;
}

export interface HxServer {
  url: string;
  port: number;
  host: string;
  server: Server;
  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), then closes watches. Does not close the folio. */
  close(graceMs?: number): Promise<void>;
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!m) return false;
  const a = Buffer.from((m[1] as string).trim());
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > max) {
        failed = true;
        reject(new HttpError(413, `Request body larger than ${max} bytes`, 'PayloadTooLarge'));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

export async function startServer(opts: HxServerOptions): Promise<HxServer> {
  const host = opts.host ?? '127.0.0.1';
  if (!isLoopback(host) && !opts.token) {
    throw new Error(`Refusing to listen on ${host} without a token: use --token (or bind 127.0.0.1)`);
  }
  const folio = opts.folio;
  const project = opts.project ?? folio.name;
  const watches = new WatchRegistry(opts.maxWatches ?? 1000);
  const cx: OpContext = {
    folio,
    project,
    watches,
    bootTime: dateTimeAt(Date.now(), localTzName()),
    version: opts.version ?? '0.0.0',
    maxReadRows: opts.maxReadRows ?? 100_000,
    maxHisRows: opts.maxHisRows ?? 1_000_000,
  };
  const maxBody = opts.maxBodyBytes ?? 16 * 1024 * 1024;
  const log = opts.log;
  // attest key for haystack-nclient's default fetch (finCsrfFetch asks /finStackAuth first)
  const attestKey = randomBytes(16).toString('hex');
  let inFlight = 0;
  let closing = false;
  let idle: (() => void) | undefined;

  await publishAll(folio).catch((e: unknown) => log?.(`pointWrite: cannot publish write levels: ${(e as Error).message}`));

  const send = (res: ServerResponse, status: number, grid: HGrid, format: Format, extra: Record<string, string> = {}) => {
    const body = encodeGrid(grid, format);
    res.writeHead(status, {
      'Content-Type': MIME[format],
      'Content-Length': Buffer.byteLength(body),
      'Cache-Control': 'no-store',
      ...extra,
    });
    res.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = Date.now();
    let format: Format = 'zinc';
    let status = 200;
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      try {
        format = negotiate(req.headers.accept);
      } catch (e) {
        format = 'zinc';
        throw e;
      }
      if (closing) throw new HttpError(503, 'Server is shutting down', 'ShutdownErr');
      if (url.pathname === '/' && req.method === 'GET') {
        const base = `http://${req.headers.host ?? 'localhost'}/api/${project}`;
        const text =
          `hxredis Haystack HTTP API, project "${project}"\n\n` +
          OPS.map((o) => `${o.get ? 'GET ' : 'POST'} ${base}/${o.name}   ${o.summary}`).join('\n') +
          `\n\nExample: curl '${base}/read?filter=site'\nSee docs/server.md.\n`;
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(text);
        return;
      }
      if (opts.token && !tokenMatches(req.headers.authorization, opts.token)) {
        throw new HttpError(401, 'Missing or invalid bearer token', 'AuthErr');
      }
      if (url.pathname === '/finStackAuth') {
        res.writeHead(200, { 'fin-stack-auth': attestKey, 'Content-Length': 0 });
        res.end();
        return;
      }
      const m = /^\/api\/([^/]+)\/([^/]+)\/?$/.exec(url.pathname);
      if (!m) throw new HttpError(404, `Not found: ${url.pathname} (ops are under /api/${project}/{op})`, 'NotFound');
      const proj = decodeURIComponent(m[1] as string);
      const opName = decodeURIComponent(m[2] as string);
      if (proj !== project) throw new HttpError(404, `Unknown project: ${proj} (this server serves "${project}")`, 'UnknownProjErr');
      const op = OPS_BY_NAME.get(opName);
      if (!op) throw new HttpError(404, `Unknown op: ${opName}`, 'UnknownOpErr');
      let reqGrid: HGrid;
      if (req.method === 'GET') {
        if (!op.get) throw new HttpError(405, `Op ${opName} needs POST`, 'MethodNotAllowed');
        reqGrid = queryGrid(url.searchParams);
      } else if (req.method === 'POST') {
        reqGrid = decodeBody(await readBody(req, maxBody), req.headers['content-type']);
      } else {
        throw new HttpError(405, `Method ${req.method} not allowed`, 'MethodNotAllowed');
      }
      const out = await op.fn(cx, reqGrid);
      send(res, 200, out, format);
    } catch (e) {
      status = statusOf(e);
      if (status >= 500 && !(e instanceof HttpError)) log?.(`error: ${(e as Error).stack ?? String(e)}`);
      const extra: Record<string, string> = status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {};
      if (status === 405) extra.Allow = 'GET, POST';
      if (!res.headersSent) send(res, status, errorGrid(e, status), format, extra);
      else res.destroy();
    } finally {
      log?.(`${req.method} ${url.pathname} ${status} ${Date.now() - started}ms`);
    }
  };

  const server = createServer((req, res) => {
    inFlight++;
    handle(req, res)
      .catch((e: unknown) => {
        log?.(`error: ${oneLine(String(e))}`);
        if (!res.headersSent) res.writeHead(500).end();
      })
      .finally(() => {
        inFlight--;
        if (inFlight === 0) idle?.();
      });
  });
  server.headersTimeout = 30_000;
  server.requestTimeout = 120_000;
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const urlHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;

  return {
    url: `http://${urlHost}:${addr.port}`,
    port: addr.port,
    host,
    server,
    close: async (graceMs = 10_000) => {
      if (closing) return;
      closing = true;
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      if (inFlight > 0) {
        await Promise.race([new Promise<void>((r) => (idle = r)), new Promise((r) => setTimeout(r, graceMs).unref())]);
      }
      server.closeAllConnections();
      await closed;
      watches.dispose();
    },
  };
}

