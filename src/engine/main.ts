// Runs the engine as its own process:
//   npx tsx src/engine/main.ts --data DIR [--port N] [--host 127.0.0.1] [--password P] [--memory]
// Prints the URL on stdout and stops cleanly on SIGINT/SIGTERM.
import { join } from 'node:path';
import { startEngine } from './index.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const memory = process.argv.includes('--memory');
  const data = arg('data') ?? 'hxredis-data';
  const eng = await startEngine({
    path: memory ? ':memory:' : join(data, 'engine.sqlite'),
    port: Number(arg('port') ?? 6379),
    host: arg('host') ?? '127.0.0.1',
    password: arg('password') ?? process.env.HXREDIS_ENGINE_PASSWORD,
  });
  process.stdout.write(`${eng.url}\n`);
  const shutdown = () => {
    eng.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
