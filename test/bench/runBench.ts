/**
 * Run engine benchmarks (issue 4), against the local fake OpenAI server on 127.0.0.1, in a child
 * process of its own (as a real model server would be, so its work is not counted as ours):
 *
 * 1. Overhead of one run apart from the model, on a 500k-character record: prepare (read, hash,
 *    pack at 32k with a new instruction each time; the record's token counts are warm, as after
 *    the first hover) + guard + audit line + the HTTP request streamed from a server that answers
 *    at once + writing the run file (with the full prompt). Median; target < 50 ms.
 * 2. 500 runs at concurrency 16 against the server with 200 ms artificial latency (target
 *    < 10 s). The sequential time is estimated from 20 runs at concurrency 1 (×25), not run in full.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, promises as fsp, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TEMPLATE, repoRoot } from '../helpers/fixtures';
import { generateRecord } from '../fixtures/recordGenerator';
import { RunPreparer } from '../../engine/src/host/prepare';
import type { RunJob } from '../../engine/src/host/prepare';
import { executeRun } from '../../engine/src/run/runner';
import { runMany } from '../../engine/src/run/runMany';
import { countTokens } from '../../engine/src/host/countTokens';
import { RunStore } from '../../engine/src/run/store';
import type { RunRecord } from '../../engine/src/core/run/runRecord';
import { serializeRun } from '../../engine/src/core/run/runRecord';
import { redactDeep } from '../../engine/src/core/run/redact';
import { FakeOpenAI } from '../helpers/fakeOpenAI';
import { ModelCallError, callChat } from '../../engine/src/run/modelClient';
import type { ClientTimeouts } from '../../engine/src/run/modelClient';
import { endpointTarget } from '../../engine/src/core/run/guard';
import type { EndpointConfig } from '../../engine/src/core/workspace/config';
import { fmt, median, p95, row, timeMs } from './stats';

const KEY = 'sk-bench-not-a-real-key';

function instruction(id: number, patient: string, question: string): string {
  return `---\nid: ${id}\npatient: ${patient}\nmodel: local\ncontext: 32k\nstrategy: recent\n---\n\n## Instruction\n${question}\n`;
}

function workspace(baseUrl: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'medalign-runbench-'));
  mkdirSync(path.join(dir, 'records'));
  mkdirSync(path.join(dir, 'templates'));
  mkdirSync(path.join(dir, 'instructions'));
  writeFileSync(
    path.join(dir, 'medalign.config.json'),
    JSON.stringify({
      defaults: { model: 'local', context: '32k', template: 'templates/medalign.prompt' },
      endpoints: [
        { id: 'local', kind: 'openai-compatible', baseUrl, model: 'fake', encoding: 'cl100k_base' },
      ],
    }),
  );
  writeFileSync(path.join(dir, 'templates/medalign.prompt'), TEMPLATE);
  return dir;
}

/** The fake server in a child process, and a way to talk to it. */
async function startServer(): Promise<{
  baseUrl: string;
  ask: (m: object) => Promise<Record<string, unknown>>;
  child: ChildProcess;
}> {
  const child = fork(path.join(__dirname, '../helpers/fakeOpenAI.js'), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = () =>
    new Promise<Record<string, unknown>>((resolve) =>
      child.once('message', (m) => resolve(m as Record<string, unknown>)),
    );
  const { baseUrl } = (await next()) as { baseUrl: string };
  const ask = (m: object) => {
    const reply = next();
    child.send(m);
    return reply;
  };
  return { baseUrl, ask, child };
}

/**
 * What the hostile-workspace safety costs per saved run (issue 7), against its peer in the same run:
 * redacting every string of the run (with its 32k-token prompt) vs serializing it, and a store save
 * (lstat of .medalign/runs/<id>, the .gitignore check, O_EXCL|O_NOFOLLOW temp file, rename) vs a
 * plain temp-file-and-rename of the same text.
 */
async function writeSafetyBench(dir: string, run: RunRecord): Promise<void> {
  const store = new RunStore(dir);
  const ser: number[] = [];
  const red: number[] = [];
  const plain: number[] = [];
  const safe: number[] = [];
  const text = serializeRun(run);
  const plainFile = path.join(dir, 'plain.json');
  for (let i = 0; i < 23; i++) {
    const [a] = await timeMs(() => serializeRun(run));
    const [b] = await timeMs(() => serializeRun(redactDeep(run, [KEY])));
    const [c] = await timeMs(async () => {
      await fsp.writeFile(`${plainFile}.tmp`, text, { mode: 0o600 });
      await fsp.rename(`${plainFile}.tmp`, plainFile);
    });
    const [d] = await timeMs(() => store.save({ ...run, id: `${run.id}${i}` }));
    if (i < 3) continue;
    ser.push(a);
    red.push(b);
    plain.push(c);
    safe.push(d);
  }
  console.log(`  safety per saved run (${text.length.toLocaleString('en-US')}-character run file):`);
  row('  serialize / redact + serialize', `${fmt(median(ser))} / ${fmt(median(red))}`);
  row('  ratio (redaction cost)', `${(median(red) / median(ser)).toFixed(2)}x`);
  row(
    '  plain write+rename / store.save (no links, .gitignore)',
    `${fmt(median(plain))} / ${fmt(median(safe))}`,
  );
  row('  ratio (safe write cost)', `${(median(safe) / median(plain)).toFixed(2)}x`);
}

export async function runRunBench(): Promise<void> {
  console.log('\nRuns (issue 4) — fake OpenAI server on 127.0.0.1 (own process), medians');
  const server = await startServer();
  const dir = workspace(server.baseUrl);
  const approval = () => false;
  try {
    // 1. Overhead apart from the model, 500k-character record.
    await server.ask({ type: 'set', latencyMs: 0 });
    const record = generateRecord({ seed: 42, targetChars: 500_000 });
    writeFileSync(path.join(dir, 'records/3000001.xml'), record);
    const file = path.join(dir, 'instructions/big.medalign');
    writeFileSync(file, instruction(1, '3000001', 'What was the most recent hemoglobin A1c?'));
    const preparer = new RunPreparer();
    const total: number[] = [];
    const packs: number[] = [];
    const rest: number[] = [];
    let promptTokens = 0;
    let lastRun: RunRecord | undefined;
    for (let i = 0; i < 28; i++) {
      // A new instruction each time: the rendered prompt is never a cache hit.
      const text = instruction(
        1,
        '3000001',
        `What was the most recent hemoglobin A1c, and has metformin changed? (${i})`,
      );
      const t0 = performance.now();
      const prepared = await preparer.prepare({ file, text });
      if (!prepared.ok) throw new Error(prepared.error.message);
      const t1 = performance.now();
      const out = await executeRun(prepared.run, { countTokens, approval, apiKey: KEY });
      const t2 = performance.now();
      if (out.status !== 'complete') throw new Error(`run ${out.status}: ${out.error?.message ?? ''}`);
      promptTokens = prepared.run.pack.budget.prompt;
      lastRun = out.run;
      if (i < 3) continue; // warm-up: tokenizer tables, first parse and count, JIT, connection
      total.push(t2 - t0);
      packs.push(t1 - t0);
      rest.push(t2 - t1);
    }
    console.log(
      `  ${record.length.toLocaleString('en-US')}-character record, 32k context, prompt ${promptTokens.toLocaleString('en-US')} tokens, ${total.length} runs:`,
    );
    row('  prepare (read, sha256, pack 32k with a new instruction)', fmt(median(packs)));
    row('  guard + audit + streamed HTTP request + atomic store', fmt(median(rest)));
    row('run overhead apart from the model (median)', fmt(median(total)), '< 50 ms');
    row('run overhead, p95', fmt(p95(total)));
    if (lastRun) await writeSafetyBench(dir, lastRun);

    // 2. 500 runs at concurrency 16, 200 ms latency, over the three sample records.
    const samples = ['1234555', '2000001', '2000002'];
    for (const s of samples) {
      writeFileSync(
        path.join(dir, `records/${s}.xml`),
        readFileSync(path.join(repoRoot, `samples/records/${s}.xml`), 'utf8'),
      );
    }
    const jobs: RunJob[] = [];
    const contexts = ['2k', '8k', '32k', '4k'];
    for (let i = 0; i < 125; i++) {
      const f = path.join(dir, `instructions/q${i}.medalign`);
      writeFileSync(
        f,
        instruction(
          1000 + i,
          samples[i % 3],
          `Question ${i}: which medications were changed at the last visit?`,
        ),
      );
      for (const context of contexts) jobs.push({ file: f, context });
    }
    await server.ask({ type: 'set', latencyMs: 200 });
    const batchPreparer = new RunPreparer();
    const many = (list: RunJob[], concurrency: number) =>
      runMany(list, { countTokens, preparer: batchPreparer, concurrency, approval, apiKeyFor: () => KEY });
    // Warm the record caches (parse, counts) the way each record's first run would.
    await many([jobs[0], jobs[4], jobs[8]], 3);
    const seqJobs = jobs.slice(100, 120);
    const ts = performance.now();
    const seq = await many(seqJobs, 1);
    const seqMs = performance.now() - ts;
    if (seq.some((r) => r.status !== 'complete')) throw new Error('sequential sample failed');
    const estSequential = (seqMs / seqJobs.length) * jobs.length;
    await server.ask({ type: 'set', latencyMs: 200 });
    const t = performance.now();
    const results = await many(jobs, 16);
    const ms = performance.now() - t;
    const ok = results.filter((r) => r.status === 'complete').length;
    const { chatRequests } = (await server.ask({ type: 'stats' })) as { chatRequests: number };
    row(
      `${jobs.length} runs, concurrency 16, 200 ms latency (${ok} complete, ${chatRequests} requests)`,
      fmt(ms),
      '< 10,000 ms',
    );
    row('  floor: ceil(500 / 16) x 200 ms', fmt(Math.ceil(jobs.length / 16) * 200));
    row(
      `  sequential, estimated from ${seqJobs.length} runs at concurrency 1`,
      fmt(estSequential),
      '~100,000 ms',
    );
    row('  speed-up: sequential / concurrent', `${(estSequential / ms).toFixed(1)}x`);

    // 3. The engine test's matrix (test/engine/runRunner.test.ts, runMany): 6 requests with 150 ms
    // latency at concurrency 3, against the same 6 at concurrency 1 and the ideal floor (2 x 150 ms).
    await server.ask({ type: 'set', latencyMs: 150 });
    const six = jobs.slice(0, 6);
    const c3: number[] = [];
    const c1: number[] = [];
    for (let i = 0; i < 3; i++) {
      c3.push((await timeMs(() => many(six, 3)))[0]);
      c1.push((await timeMs(() => many(six, 1)))[0]);
    }
    const floor = 2 * 150;
    row('runMany: 6 x 150 ms requests at concurrency 3', fmt(median(c3)));
    row('  peer: the same 6 at concurrency 1 / floor 2 x 150 ms', `${fmt(median(c1))} / ${fmt(floor)}`);
    row('  ratio concurrency 3 / floor (1.0 = full overlap)', `${(median(c3) / floor).toFixed(2)}x`, '< 2x');
    row('  speed-up: concurrency 1 / concurrency 3 (at most 3)', `${(median(c1) / median(c3)).toFixed(2)}x`);
  } finally {
    server.child.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
  await timeoutBench();
}

/**
 * How soon a stalled request ends (test/engine/runClient.test.ts and runRunner.test.ts used to time
 * it): the client's idle and headers timeouts, and a whole run (executeRun, saved as a partial),
 * against a bare timer of the same length in this run (the floor). The fake server runs in this
 * process here: a stall costs it nothing.
 */
async function timeoutBench(): Promise<void> {
  console.log('\nTimeouts — stalled fake server, medians of 5, against a timer of the same length');
  const fake = await FakeOpenAI.start();
  const dir = workspace(fake.baseUrl);
  try {
    const endpoint: EndpointConfig = {
      id: 'local',
      kind: 'openai-compatible',
      model: 'fake',
      baseUrl: fake.baseUrl,
    };
    const t = endpointTarget(endpoint);
    if (!t.ok) throw new Error('endpoint refused');
    const stalled = async (timeouts: Partial<ClientTimeouts>): Promise<void> => {
      try {
        await callChat({
          endpoint,
          target: t.target,
          apiKey: KEY,
          messages: [{ role: 'user', content: 'Q' }],
          maxTokens: 16,
          timeouts,
        });
      } catch (err) {
        if (err instanceof ModelCallError && err.failure.type === 'timeout') return;
        throw err;
      }
      throw new Error('expected a timeout');
    };
    writeFileSync(path.join(dir, 'records/3000002.xml'), generateRecord({ seed: 7, targetChars: 20_000 }));
    const file = path.join(dir, 'instructions/stall.medalign');
    const text = instruction(2, '3000002', 'Which antihypertensives?');
    writeFileSync(file, text);
    const preparer = new RunPreparer();
    const timer = (ms: number) => timeMs(() => new Promise((r) => setTimeout(r, ms)));
    const idle: number[] = [];
    const head: number[] = [];
    const run: number[] = [];
    const t250: number[] = [];
    const t200: number[] = [];
    const t300: number[] = [];
    for (let i = 0; i < 5; i++) {
      fake.reset();
      fake.script({ kind: 'stall', afterChunks: 2 });
      idle.push((await timeMs(() => stalled({ idleMs: 250 })))[0]);
      fake.script({ kind: 'stall' });
      head.push((await timeMs(() => stalled({ headersMs: 200 })))[0]);
      fake.script({ kind: 'stall', afterChunks: 2 });
      const [ms, out] = await timeMs(async () => {
        const prepared = await preparer.prepare({ file, text });
        if (!prepared.ok) throw new Error(prepared.error.message);
        return executeRun(prepared.run, {
          countTokens,
          approval: () => false,
          apiKey: KEY,
          timeouts: { idleMs: 300 },
        });
      });
      if (out.status !== 'error') throw new Error(`expected a timed-out run, got ${out.status}`);
      run.push(ms);
      t250.push((await timer(250))[0]);
      t200.push((await timer(200))[0]);
      t300.push((await timer(300))[0]);
    }
    const ratio = (a: number[], b: number[]) => `${(median(a) / median(b)).toFixed(2)}x`;
    row('idle timeout 250 ms, stall after 2 chunks (callChat)', fmt(median(idle)));
    row('  ratio to a 250 ms timer', ratio(idle, t250), '< 2x');
    row('headers timeout 200 ms, no answer (callChat)', fmt(median(head)));
    row('  ratio to a 200 ms timer', ratio(head, t200), '< 2x');
    row('run with idle timeout 300 ms, saved as a partial (executeRun)', fmt(median(run)));
    row('  ratio to a 300 ms timer', ratio(run, t300), '< 2x');
  } finally {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
