// Watches: in memory, per server process, each with a lease.
//
// A watch remembers, for each record it watches, a fingerprint of the record as last sent (its
// Zinc). A poll sends the records whose fingerprint changed since the last poll: persistent
// commits (a new `mod`) and transient ones (curVal, writeVal, ...) alike. A record removed or
// trashed since is sent as `{id, removed}`. `refresh` sends every record.
import { randomBytes } from 'node:crypto';
import type { HDict } from 'haystack-core';
import { zincVal } from './zinc.js';

export interface WatchEntry {
  /** Zinc of the record as last sent; '' for "not sent yet / missing" */
  fp: string;
}

export class Watch {
  readonly ids = new Map<string, WatchEntry>();
  expires = 0;
  constructor(
    readonly id: string,
    readonly dis: string,
    public leaseMs: number,
  ) {
    this.touch();
  }
  touch(now = Date.now()): void {
    this.expires = now + this.leaseMs;
  }
}

export const DEFAULT_LEASE_MS = 60_000;
export const MIN_LEASE_MS = 1_000;
export const MAX_LEASE_MS = 24 * 3600_000;

export function fingerprint(rec: HDict | undefined): string {
  return rec ? zincVal(rec) : '';
}

export class WatchRegistry {
  private readonly watches = new Map<string, Watch>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly maxWatches = 1000,
    sweepMs = 5_000,
  ) {
    this.timer = setInterval(() => this.sweep(), sweepMs);
    this.timer.unref();
  }

  open(dis: string, leaseMs: number): Watch {
    this.sweep();
    if (this.watches.size >= this.maxWatches) throw new Error(`Too many watches (limit ${this.maxWatches})`);
    const w = new Watch(`w-${randomBytes(8).toString('hex')}`, dis, leaseMs);
    this.watches.set(w.id, w);
    return w;
  }

  /** The live watch with this id, or undefined when unknown or expired. */
  get(id: string): Watch | undefined {
    const w = this.watches.get(id);
    if (!w) return undefined;
    if (w.expires < Date.now()) {
      this.watches.delete(id);
      return undefined;
    }
    return w;
  }

  close(id: string): boolean {
    return this.watches.delete(id);
  }

  get size(): number {
    return this.watches.size;
  }

  sweep(now = Date.now()): void {
    for (const [id, w] of this.watches) if (w.expires < now) this.watches.delete(id);
  }

  dispose(): void {
    clearInterval(this.timer);
    this.watches.clear();
  }
}
