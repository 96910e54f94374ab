// hxredis: a Project Haystack Folio (records and history) backed by Redis.
export { RedisFolio, type RedisFolioOptions, type FolioPlan } from './folio/RedisFolio.js';
export { Diff, type DiffChanges } from './folio/Diff.js';
export * from './folio/errors.js';
export type {
  ReadOptions,
  FolioContext,
  FolioWrite,
  FolioHooks,
  FolioCommitEvent,
  FolioHisEvent,
  HisItem,
  HisWriteResult,
} from './folio/types.js';
export type { Plan } from './filter/plan.js';
