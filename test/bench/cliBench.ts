/**
 * CLI benchmarks (issue 8), each as a ratio against a peer measured in the same run, both as fresh
 * processes (start-up included on both sides):
 *
 * - `medalign check` on 10,000 instruction files over 276 patients against a minimal yaml + ajv
 *   script doing the same validation (cliPeers.ts). The workspace is generated in a temp folder:
 *   276 small generated records (~4,000 characters each, so the bench stays short) and 10,000
 *   instruction files in 100 folders. Target: within 2x.
 * - `medalign count` on a 2 MB generated record against a bare gpt-tokenizer script. Target: 1.3x.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CONFIG, TEMPLATE, repoRoot } from '../helpers/fixtures';
import { generateRecord } from '../fixtures/recordGenerator';
import { fmt, median, row } from './stats';

const CLI = path.join(repoRoot, 'dist', 'cli.js');
const PEERS = path.join(__dirname, 'cliPeers.js');
const CATEGORIES = ['retrieve medication information', 'retrieve vitals', 'provide risk assessment', 'other'];
const PATIENTS = 276;

function instruction(id: number, patient: number): string {
  return `---
id: ${id}
patient: ${patient}
category: ${CATEGORIES[id % CATEGORIES.length]}
model: baseline
context: 32k
strategy: recent
tags: [bench]
---

## Instruction
Which antihypertensives were given in the ED (${id})?

## Gold response
Labetalol 5 mg IV.
`;
}

/** A project with `files` instruction files over 276 patients with small generated records. */
export function makeCheckWorkspace(files: number): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'medalign-clibench-'));
  mkdirSync(path.join(dir, 'records'));
  mkdirSync(path.join(dir, 'templates'));
  writeFileSync(path.join(dir, 'medalign.config.json'), CONFIG);
  writeFileSync(path.join(dir, 'templates/medalign.prompt'), TEMPLATE);
  for (let p = 0; p < PATIENTS; p++) {
    writeFileSync(
      path.join(dir, `records/${1_000_000 + p}.xml`),
      generateRecord({ seed: 1000 + p, targetChars: 4000 }),
    );
  }
  for (let i = 0; i < files; i++) {
    const sub = path.join(dir, 'instructions', `batch${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(sub, { recursive: true });
    writeFileSync(
      path.join(sub, `i${i}.medalign`),
      instruction(2_000_000_000 + i, 1_000_000 + (i % PATIENTS)),
    );
  }
  return dir;
}

/** Wall time of a node process (ms); its exit code must be one of `codes`. */
function proc(args: string[], cwd: string, codes: number[] = [0]): number {
  const t = process.hrtime.bigint();
  try {
    execFileSync(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28 });
  } catch (err) {
    const status = (err as { status?: number }).status ?? -1;
    if (!codes.includes(status)) throw err;
  }
  return Number(process.hrtime.bigint() - t) / 1e6;
}

/** Alternates ours and the peer `reps` times; medians of each. */
function sideBySide(reps: number, ours: () => number, peer: () => number): [number, number] {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < reps; i++) {
    a.push(ours());
    b.push(peer());
  }
  return [median(a), median(b)];
}

export function benchCheck(files: number, reps: number): void {
  const dir = makeCheckWorkspace(files);
  try {
    const [ours, peer] = sideBySide(
      reps,
      () => proc([CLI, 'check', '.'], dir, [0, 1]),
      () => proc([PEERS, 'check', dir], dir),
    );
    row(
      `medalign check, ${files.toLocaleString('en-US')} files / 276 patients (median of ${reps})`,
      fmt(ours),
    );
    row('  peer: minimal yaml + ajv script, same validation', fmt(peer));
    row('  ratio check / peer', `${(ours / peer).toFixed(2)}x`, files >= 10_000 ? '≤ 2x' : undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function benchCount(reps: number): void {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'medalign-countbench-'));
  try {
    const file = path.join(dir, 'big.xml');
    writeFileSync(file, generateRecord({ seed: 42, targetChars: 2_000_000 }));
    const [ours, peer] = sideBySide(
      reps,
      () => proc([CLI, 'count', file], dir),
      () => proc([PEERS, 'count', file], dir),
    );
    row(`medalign count, 2M-char record, cl100k (median of ${reps})`, fmt(ours));
    row('  floor: bare gpt-tokenizer script, same record', fmt(peer));
    row('  ratio count / floor', `${(ours / peer).toFixed(2)}x`, '≤ 1.3x');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runCliBench(): Promise<void> {
  console.log('\nCLI (issue 8) — processes, side by side in the same run');
  benchCount(7);
  benchCheck(1_000, 3);
  benchCheck(10_000, 3);
  await Promise.resolve();
}

if (require.main === module) {
  // `node out/test/bench/cliBench.js [count|check1k|check10k]`: one row, while iterating.
  const only = process.argv[2];
  if (only === 'count') benchCount(7);
  else if (only === 'check1k') benchCheck(1_000, 3);
  else if (only === 'check10k') benchCheck(10_000, 3);
  else void runCliBench();
}
