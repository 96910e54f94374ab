// Errors of the HTTP API and their Haystack error grids.
import { HDict, HGrid, HMarker, HStr } from 'haystack-core';
import {
  ArgError,
  CommitError,
  ConcurrentChangeError,
  DiffError,
  HisConfigError,
  HisWriteError,
  InvalidRecIdError,
  InvalidTagNameError,
  InvalidTagValError,
  ParseError,
  PermissionError,
  ReadonlyReplicaError,
  ShutdownError,
  StorageError,
  UnknownRecError,
} from '../folio/errors.js';

/** An error with the HTTP status it answers with. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errType = 'HttpError',
  ) {
    super(message);
    this.name = errType;
  }
}

export const badRequest = (msg: string) => new HttpError(400, msg, 'ArgErr');

/** The HTTP status for an error thrown by an op. */
export function statusOf(e: unknown): number {
  if (e instanceof HttpError) return e.status;
  if (e instanceof ConcurrentChangeError) return 409;
  if (e instanceof CommitError) return 409;
  if (e instanceof UnknownRecError) return 404;
  if (e instanceof PermissionError) return 403;
  if (e instanceof ReadonlyReplicaError) return 403;
  if (e instanceof ShutdownError) return 503;
  if (e instanceof StorageError) return 503;
  if (
    e instanceof ParseError ||
    e instanceof ArgError ||
    e instanceof DiffError ||
    e instanceof InvalidRecIdError ||
    e instanceof InvalidTagNameError ||
    e instanceof InvalidTagValError ||
    e instanceof HisConfigError ||
    e instanceof HisWriteError
  ) {
    return 400;
  }
  return 500;
}

/** One line: the message with its whitespace runs collapsed. */
export function oneLine(msg: string): string {
  return msg.replace(/\s+/g, ' ').trim();
}

/** The Haystack error grid (`err`, `dis`, `errType`, `errTrace`) for an error. */
export function errorGrid(e: unknown, status = statusOf(e)): HGrid {
  const err = e instanceof Error ? e : new Error(String(e));
  const type = err instanceof HttpError ? err.errType : err.constructor.name || 'Error';
  const dis = oneLine(err.message) || type;
  // internal errors keep their stack for the operator; client errors say only what was wrong
  const trace = status >= 500 && err.stack ? err.stack : `${type}: ${dis}`;
  return HGrid.make({
    meta: HDict.make({
      err: HMarker.make(),
      dis: HStr.make(dis),
      errType: HStr.make(type),
      errTrace: HStr.make(trace),
    }),
    columns: [{ name: 'empty' }],
    rows: [],
  });
}
