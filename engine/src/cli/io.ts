/**
 * What every `medalign` command shares: its I/O (`CliIo`), the shape of a command in main's table,
 * and the printers built over the I/O. Imported by the commands and by main; imports none of them.
 */
import * as path from 'node:path';
import { redactSecrets } from '../core/run/redact';

export interface CliIo {
  cwd: string;
  out: (s: string) => void;
  err: (s: string) => void;
  env: NodeJS.ProcessEnv;
  /** Asks the user a question on an interactive terminal; absent when there is none. */
  ask?: (question: string) => Promise<string | undefined>;
}

/** One entry of main's command table. */
export interface Command {
  usage: string;
  run: (args: string[], io: CliIo) => Promise<number>;
}

/** `file` relative to `cwd` when it is inside it, else as given. */
export function display(cwd: string, file: string): string {
  const r = path.relative(cwd, file);
  return r.startsWith('..') ? file : r;
}

/** `io` whose stdout and stderr are redacted of `secrets`. */
export function redactingIo(io: CliIo, secrets: readonly string[]): CliIo {
  if (secrets.length === 0) return io;
  return {
    ...io,
    out: (s) => io.out(redactSecrets(s, secrets, { shapes: false })),
    err: (s) => io.err(redactSecrets(s, secrets, { shapes: false })),
  };
}

/** Prints each engine notice once (e.g. a restored `.medalign/.gitignore`). */
export function noticePrinter(io: CliIo): (message: string) => void {
  const shown = new Set<string>();
  return (message) => {
    if (shown.has(message)) return;
    shown.add(message);
    io.err(`medalign: ${message}\n`);
  };
}

/**
 * Ctrl-C during sending (`run`, `experiment`): the first cancels (runs in flight are saved as
 * partial), a second quits at once. `dispose()` when the sending is over.
 */
export function cancelOnSigint(io: CliIo): {
  signal: AbortSignal;
  interrupted: () => boolean;
  dispose: () => void;
} {
  const controller = new AbortController();
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
    io.err('\nmedalign: cancelling; runs in flight are saved as partial (Ctrl-C again to quit now).\n');
    controller.abort();
    process.once('SIGINT', () => process.exit(130));
  };
  process.once('SIGINT', onSigint);
  return {
    signal: controller.signal,
    interrupted: () => interrupted,
    dispose: () => process.removeListener('SIGINT', onSigint),
  };
}
