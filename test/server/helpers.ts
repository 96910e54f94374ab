// Starting `hxredis serve` (the real CLI, as its own process) and talking to it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'src/cli/run.ts');
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

/** node args that run the CLI from source (tsx), so tests need no build */
export function cliArgs(args: string[]): string[] {
  return ['--import', TSX, CLI, ...args];
}

export interface RunningServe {
  url: string;
  api: string;
  proc: ChildProcess;
  dir: string;
  stdout: () => string;
  stderr: () => string;
  /** SIGTERM, wait for exit; returns the exit code */
  stop(): Promise<number | null>;
}

export function tempDir(prefix = 'hxredis-cli-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Starts `hxredis serve --port 0 ...` and waits for the URL line. */
export async function startServe(args: string[], opts: { dir?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunningServe> {
  const dir = opts.dir ?? tempDir();
  const proc = spawn(process.execPath, cliArgs(['serve', '--port', '0', '--quiet', ...args]), {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
  });
  let out = '';
  let err = '';
  proc.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const url = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`serve did not start in time\n${out}\n${err}`)), opts.timeoutMs ?? 25_000);
    const check = () => {
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        res(m[1] as string);
      }
    };
    proc.stdout?.on('data', check);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`serve exited with ${code}\n${out}\n${err}`));
    });
  });
  const exited = new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
  return {
    url,
    api: `${url}/api/demo`,
    proc,
    dir,
    stdout: () => out,
    stderr: () => err,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), 10_000))]);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}
