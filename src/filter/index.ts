// Public pieces of the filter package: compile, evaluate, search, index terms and the planner.
export { compileFilter, parseFilter, clearFilterCache } from './compile.js';
export type { CompiledFilter } from './compile.js';
export { evaluate, valEquals, valCompare } from './evaluate.js';
export type { CmpOp, FilterNode, Resolver } from './evaluate.js';
export { compileSearch, SEARCH_ID_MIN } from './search.js';
export type { SearchMatcher } from './search.js';
export { eqValueKey, recordIndexTerms, termKey, MAX_INDEXED_STR } from './indexTerms.js';
export type { IndexTerm } from './indexTerms.js';
export { planFilter, SCAN_FRACTION, EQ_SELECTIVITY, MAX_GROUP_TERMS } from './plan.js';
export type { Plan, PlanStats, PlanOptions } from './plan.js';
