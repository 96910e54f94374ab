// RedisHis: point history on RedisTimeSeries or sorted sets (spec section 3). Placeholder until the
// history issue lands: every call says so.
import type { HDateTime, HRef } from 'haystack-core';
import type { FolioInternals } from '../folio/internals.js';
import type { FolioContext, HisItem, HisWriteResult } from '../folio/types.js';

export class RedisHis {
  constructor(
    private readonly folio: FolioInternals,
    private readonly cx: FolioContext | undefined,
  ) {}

  async read(id: HRef | string, _span?: { start: HDateTime; end: HDateTime }): Promise<HisItem[]> {
    this.folio.readRecChecked(id, this.cx, false);
    throw new Error('history is not implemented yet');
  }

  async write(id: HRef | string, _items: HisItem[]): Promise<HisWriteResult> {
    this.folio.readRecChecked(id, this.cx, true);
    throw new Error('history is not implemented yet');
  }
}
