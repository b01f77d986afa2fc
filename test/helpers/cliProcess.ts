/**
 * The `medalign` CLI as a child process, for the process-level tests: a clean environment (no
 * OpenAI/Azure/MedAlign variables or keys of the developer's shell), `--trust` for the commands that
 * send data (the tests' folders are their own; trust itself is tested in hostileWorkspace.test.ts),
 * output collected without blocking this process (the fake server answers from here).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from './fixtures';

export const CLI = path.join(repoRoot, 'dist', 'cli.js');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Variables for the child, over the cleaned environment. */
  env?: Record<string, string>;
  /** Node flags before the script (e.g. `--require` of a spy). */
  nodeArgs?: string[];
  /** More variable names (regex source) to drop from the inherited environment. */
  drop?: string;
  /** Called as stdout grows; `kill` sends SIGINT (Ctrl-C). */
  onStdout?: (stdout: string, kill: () => void) => void;
}

/** `--trust` for `run` and `batch export`, the commands that send data. */
export function trustFlag(args: readonly string[]): string[] {
  return args[0] === 'run' || (args[0] === 'batch' && args[1] === 'export') ? ['--trust'] : [];
}

export function runCliProcess(cwd: string, args: readonly string[], o: CliOptions = {}): Promise<CliResult> {
  const dropped = new RegExp(`^(OPENAI_|AZURE_OPENAI_|MEDALIGN_|FAKE_KEY${o.drop ? `|${o.drop}` : ''})`);
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!dropped.test(k)) env[k] = v;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...(o.nodeArgs ?? []), CLI, ...args, ...trustFlag(args)], {
      cwd,
      env: { ...env, ...o.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      o.onStdout?.(stdout, () => child.kill('SIGINT'));
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Temporary folders a test file makes, removed together at its end. */
export class TempDirs {
  readonly all: string[] = [];
  make(prefix: string): string {
    const d = mkdtempSync(path.join(os.tmpdir(), prefix));
    this.all.push(d);
    return d;
  }
}
