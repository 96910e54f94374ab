// A one-line progress bar on stderr, drawn only on a terminal (and only for large inputs).
export interface Progress {
  update(done: number): void;
  done(): void;
}

export function progressBar(label: string, total: number, opts: { minTotal?: number; stream?: NodeJS.WriteStream } = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  if (!stream.isTTY || total < (opts.minTotal ?? 2000)) return { update: () => undefined, done: () => undefined };
  let last = -1;
  const draw = (n: number) => {
    const pct = Math.floor((100 * n) / total);
    if (pct === last) return;
    last = pct;
    const width = 30;
    const fill = Math.round((width * n) / total);
    stream.write(`\r${label} [${'#'.repeat(fill)}${'-'.repeat(width - fill)}] ${pct}% ${n}/${total}`);
  };
  return {
    update: draw,
    done: () => {
      draw(total);
      stream.write('\n');
    },
  };
}
