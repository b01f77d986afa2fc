/** A `medalign` process's I/O and exit (main.ts, and the count's own bundle, countMain.ts). */
import * as readline from 'node:readline/promises';
import type { CliIo } from './io';

/** This process's terminal as a command's I/O (`ask` only on an interactive terminal). */
export function processIo(): CliIo {
  return {
    cwd: process.cwd(),
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
    env: process.env,
    ...(process.stdin.isTTY && process.stderr.isTTY ? { ask } : {}),
  };
}

async function ask(question: string): Promise<string | undefined> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } catch {
    return undefined;
  } finally {
    rl.close();
  }
}

/** Sets the exit code from a command's result; an error is printed (exit code 2). */
export function finish(run: Promise<number>): void {
  run.then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`medalign: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 2;
    },
  );
}
