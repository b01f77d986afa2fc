/**
 * External scorers (`scorers` in medalign.config.json): a local command, run without a shell from
 * the workspace root, that reads JSON Lines `{"src", "mt", "ref"}` on stdin and writes one number
 * per line on stdout, in order. Model-based metrics (COMET, BERTScore, BLEURT) run this way: they
 * need model weights this program does not ship. Each batch is one run of the command, with a
 * timeout; every way it can go wrong is a ScorerError that says what happened and what to check.
 */
import { spawn } from 'node:child_process';
import type { ScorerConfig } from '../core/workspace/config';

export interface ScorerItem {
  /** The instruction. */
  src: string;
  /** The model's answer. */
  mt: string;
  /** The gold response. */
  ref: string;
}

export class ScorerError extends Error {
  constructor(
    readonly scorer: string,
    message: string,
  ) {
    super(message);
    this.name = 'ScorerError';
  }
}

/** Output beyond this is not kept (a scorer writes a few bytes a pair). */
const MAX_STDOUT = 64 * 1024 * 1024;
const STDERR_TAIL = 2000;
const NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

function describe(s: ScorerConfig): string {
  return `scorer "${s.id}" (${s.command.join(' ')})`;
}

/** Parses a scorer's stdout: exactly `expected` numbers, one a line (a final newline is optional). */
export function parseScores(scorer: ScorerConfig, stdout: string, expected: number): number[] {
  const lines = stdout.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length !== expected) {
    throw new ScorerError(
      scorer.id,
      `${describe(scorer)} wrote ${lines.length} line${lines.length === 1 ? '' : 's'} for ${expected} pair${
        expected === 1 ? '' : 's'
      }: it must write one score per input line, in order, and nothing else on stdout (log to stderr).`,
    );
  }
  return lines.map((line, i) => {
    const t = line.trim();
    const v = NUMBER.test(t) ? Number(t) : NaN;
    if (!Number.isFinite(v)) {
      const shown = t.length > 80 ? `${t.slice(0, 80)}…` : t;
      throw new ScorerError(
        scorer.id,
        `${describe(scorer)} line ${i + 1} is not a number: ${JSON.stringify(shown)}.`,
      );
    }
    return v;
  });
}

export interface RunScorerOptions {
  /** The workspace root: the command's working directory. */
  cwd: string;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

/** Runs the scorer once over `items`; resolves to one score per item, in order. */
export function runScorerBatch(
  scorer: ScorerConfig,
  items: readonly ScorerItem[],
  o: RunScorerOptions,
): Promise<number[]> {
  if (items.length === 0) return Promise.resolve([]);
  return new Promise<number[]>((resolve, reject) => {
    const [program, ...args] = scorer.command as [string, ...string[]];
    let settled = false;
    const chunks: Buffer[] = [];
    let size = 0;
    let stderr = '';
    let timedOut = false;
    const child = spawn(program, args, {
      cwd: o.cwd,
      env: o.env ?? process.env,
      shell: false,
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    const finish = (err: Error | undefined, scores?: number[]) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(scores!);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, scorer.timeoutSeconds * 1000);
    const onAbort = () => {
      child.kill('SIGKILL');
      finish(new ScorerError(scorer.id, `${describe(scorer)} was cancelled.`));
    };
    if (o.signal?.aborted) {
      onAbort();
      return;
    }
    o.signal?.addEventListener('abort', onAbort);
    child.on('error', (err: NodeJS.ErrnoException) => {
      const hint = err.code === 'ENOENT' ? ' (is the program installed and on PATH, or the path right?)' : '';
      finish(new ScorerError(scorer.id, `Could not start ${describe(scorer)}: ${err.message}${hint}.`));
    });
    child.stdout.on('data', (b: Buffer) => {
      size += b.length;
      if (size > MAX_STDOUT) {
        child.kill('SIGKILL');
        finish(
          new ScorerError(
            scorer.id,
            `${describe(scorer)} wrote more than ${MAX_STDOUT} bytes; it was stopped.`,
          ),
        );
        return;
      }
      chunks.push(b);
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr = (stderr + b.toString('utf8')).slice(-STDERR_TAIL);
    });
    // A scorer that exits without reading all its input closes the pipe: its exit code tells why.
    child.stdin.on('error', () => undefined);
    child.on('close', (code, signal) => {
      if (timedOut) {
        finish(
          new ScorerError(
            scorer.id,
            `${describe(scorer)} did not finish within ${scorer.timeoutSeconds} s for ${items.length} pairs and was stopped (raise timeoutSeconds or lower batchSize in medalign.config.json).`,
          ),
        );
        return;
      }
      if (code !== 0) {
        const tail = stderr.trim() ? `:\n${stderr.trim()}` : ' (nothing on stderr)';
        finish(
          new ScorerError(
            scorer.id,
            `${describe(scorer)} failed (${code === null ? `killed by ${signal ?? 'a signal'}` : `exit code ${code}`})${tail}`,
          ),
        );
        return;
      }
      try {
        finish(undefined, parseScores(scorer, Buffer.concat(chunks).toString('utf8'), items.length));
      } catch (err) {
        finish(err as Error);
      }
    });
    const input =
      items.map((it) => JSON.stringify({ src: it.src, mt: it.mt, ref: it.ref })).join('\n') + '\n';
    child.stdin.end(input, 'utf8');
  });
}

/** Scores every item, `batchSize` items to a run of the command. */
export async function runScorer(
  scorer: ScorerConfig,
  items: readonly ScorerItem[],
  o: RunScorerOptions & { onBatch?: (done: number, total: number) => void },
): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < items.length; i += scorer.batchSize) {
    const batch = items.slice(i, i + scorer.batchSize);
    out.push(...(await runScorerBatch(scorer, batch, o)));
    o.onBatch?.(out.length, items.length);
  }
  return out;
}
