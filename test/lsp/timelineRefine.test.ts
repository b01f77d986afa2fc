/**
 * `medalign/timeline` over JSON-RPC under `strategy: refine`: the model's chunks are the steps
 * `medalign pack --strategy refine --json` prints (same record, settings and order), and
 * `medalign timeline --json` gives the same chunks; a `--strategy refine` override plans them too.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { URI } from 'vscode-uri';
import { makeProjectDir, validInstruction } from '../helpers/fixtures';
import { startServer } from '../helpers/lspClient';
import type { LspSession } from '../helpers/lspClient';
import { runCliProcess } from '../helpers/cliProcess';
import type { TimelineModel } from '../../server/src/protocol';
import { generateRecord } from '../fixtures/recordGenerator';

const REL = 'instructions/r.medalign';
let dir: string;
let s: LspSession;

interface PackStepJson {
  step: number;
  tokens: number;
  recordTokens: number;
  visits: number[];
  events: number;
  from: string | null;
  to: string | null;
}

before(async () => {
  dir = makeProjectDir('timeline-refine', {
    'records/1234555.xml': generateRecord({ seed: 21, targetChars: 120_000 }),
    [REL]: validInstruction(6161)
      .replace(/context: 32k\n|strategy: recent\n/g, '')
      .replace('tags:', 'strategy: refine\ncontext: 8k\nrefine: { maxSteps: 6, order: newest-first }\ntags:'),
  });
  s = await startServer(URI.file(dir).toString());
});

after(async () => {
  await s?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function packSteps(args: string[] = []): Promise<PackStepJson[]> {
  const r = await runCliProcess(dir, ['pack', REL, '--json', ...args]);
  assert.equal(r.status, 0, r.stderr);
  // The fields both print (pack adds each step's messages and the room for the previous answer).
  return (JSON.parse(r.stdout) as { steps: PackStepJson[] }).steps.map((st) => ({
    step: st.step,
    tokens: st.tokens,
    recordTokens: st.recordTokens,
    visits: st.visits,
    events: st.events,
    from: st.from,
    to: st.to,
  }));
}

function asPackSteps(m: TimelineModel): PackStepJson[] {
  assert.ok(m.refine !== undefined, 'the model has chunks');
  return m.refine.map((c) => ({
    step: c.step,
    tokens: c.tokens,
    recordTokens: c.recordTokens,
    visits: c.firstVisit < 0 ? [] : [c.firstVisit, c.lastVisit],
    events: c.events,
    from: c.from?.slice(0, 10) ?? null,
    to: c.to?.slice(0, 10) ?? null,
  }));
}

test('LSP: medalign/timeline under strategy refine carries the chunks medalign pack plans, in send order', async () => {
  const uri = URI.file(path.join(dir, REL)).toString();
  const m = await s.connection.sendRequest<TimelineModel>('medalign/timeline', { uri });
  assert.equal(m.strategy, 'refine');
  assert.equal(m.context, 8192);
  const steps = await packSteps();
  assert.equal(steps.length, 6, 'the step limit');
  assert.deepEqual(asPackSteps(m), steps);
  // newest-first: step 1 is the newest chunk.
  assert.ok(m.refine![0].from! >= m.refine![1].to!, 'newest first');
  // Each chunk's range is in the record file, from a visit's or day's or event's start tag.
  const xml = readFileSync(path.join(dir, 'records/1234555.xml'), 'utf8').split('\n');
  for (const c of m.refine!) {
    const [line, ch] = c.range;
    assert.match(xml[line].slice(ch), /^<(visit|day|\w+)/);
  }

  // The CLI's timeline (same core) prints the same chunks.
  const cli = await runCliProcess(dir, ['timeline', REL, '--json']);
  assert.equal(cli.status, 0, cli.stderr);
  assert.deepEqual((JSON.parse(cli.stdout) as TimelineModel).refine, m.refine);
  const text = await runCliProcess(dir, ['timeline', REL]);
  assert.match(text.stdout, /refine · 6 steps, in the order sent/);
});

test('LSP: a strategy override to refine plans the chunks; another context changes them as pack does', async () => {
  const uri = URI.file(path.join(dir, REL)).toString();
  const m = await s.connection.sendRequest<TimelineModel>('medalign/timeline', {
    uri,
    overrides: { context: '4k' },
  });
  assert.equal(m.context, 4096);
  assert.deepEqual(asPackSteps(m), await packSteps(['--context', '4k']));
  const recent = await s.connection.sendRequest<TimelineModel>('medalign/timeline', {
    uri,
    overrides: { strategy: 'recent' },
  });
  assert.equal(recent.strategy, 'recent');
  assert.equal(recent.refine, undefined, 'no chunks for another strategy');
});
