// The contract between bench/run.ts and a benchmark suite (folio, his, engine, ...).
//
// A suite is an async function from a BenchContext to result rows. bench/run.ts owns the CLI, the
// Redis server, the table and the JSON file; a suite only measures. To add a suite `foo`, write
// bench/foo.ts exporting `runSuite: Suite` and (optionally) register it in SUITES in bench/run.ts;
// an unregistered name is still tried as bench/<name>.ts.

export interface BenchContext {
  /** Redis URL every measurement runs against (a local redis-server unless --redis was given) */
  url: string;
  /** record count the suite should build (100,000 by default, 10,000 with --quick) */
  records: number;
  /** --quick: a smoke run; suites should also shorten their loops */
  quick: boolean;
  /** seed for synthetic data */
  seed: number;
  /** a unique name for whatever this run creates in Redis (folio names, key prefixes) */
  runId: string;
  /** progress output (stderr), so stdout stays the table */
  log(msg: string): void;
}

export interface BenchResult {
  /** dotted name, stable across runs, e.g. `query.selective.planned` */
  name: string;
  value: number;
  /** unit of `value`: `ms`, `us`, `ns/op`, `records/s`, `commits/s`, `x`, ... */
  unit: string;
  /** the figure `target` applies to when it is not `value` (e.g. scan/planned, commit/bare) */
  ratio?: number;
  /** human-readable target, e.g. `<= 2000 ns/op` or `ratio >= 20` */
  target?: string;
  /** whether the target was met (absent when there is no target) */
  pass?: boolean;
  /** extra context: the filter, the plan, how it was measured */
  note?: string;
}

export type Suite = (ctx: BenchContext) => Promise<BenchResult[]>;
