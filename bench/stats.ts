// Small statistics and timing helpers for the benchmarks.

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export function sortedCopy(xs: readonly number[]): number[] {
  return [...xs].sort((a, b) => a - b);
}

/**
 * Runs `f` `warmup` times untimed, then at least `minRuns` and at most `maxRuns` timed runs, stopping
 * early once `budgetMs` of timed runs have passed. Returns every timed duration in ms.
 */
export async function timeRuns(
  f: () => Promise<unknown>,
  opts: { warmup?: number; minRuns?: number; maxRuns?: number; budgetMs?: number } = {},
): Promise<number[]> {
  const { warmup = 1, minRuns = 3, maxRuns = 15, budgetMs = 2000 } = opts;
  for (let i = 0; i < warmup; i++) await f();
  const out: number[] = [];
  const start = performance.now();
  while (out.length < maxRuns && (out.length < minRuns || performance.now() - start < budgetMs)) {
    const t = performance.now();
    await f();
    out.push(performance.now() - t);
  }
  return out;
}

/** 4 significant digits below 1000, whole numbers above: enough for a benchmark table. */
export function round(x: number): number {
  if (!Number.isFinite(x)) return x;
  return Math.abs(x) >= 1000 ? Math.round(x) : Number(x.toPrecision(4));
}
