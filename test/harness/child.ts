// Runs a TypeScript worker in its own Node process (through tsx's loader).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export function workerPath(name: string): string {
  return fileURLToPath(new URL(`../workers/${name}.ts`, import.meta.url));
}

export function spawnWorker(name: string, args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', workerPath(name), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs a worker to completion; resolves with its stdout, rejects with its stderr on failure. */
export function runWorker(name: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawnWorker(name, args);
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`worker ${name} exited ${code}: ${err}`))));
  });
}
