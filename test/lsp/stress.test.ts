/**
 * Many records at once: 276 patients with a record each and one open instruction per patient. A
 * burst of hovers over all of them (a third cancelled at once, as an editor does when the mouse
 * moves on), with edits in the middle. The server must answer every request, keep answering
 * completion and publishing diagnostics while the record worker is still busy with the burst,
 * leave no worker jobs behind for cancelled requests, and stay under a memory bound. No timing:
 * "while busy" is judged by order (the answer came while hovers were still outstanding).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  CancellationTokenSource,
  CompletionRequest,
  HoverRequest,
} from 'vscode-languageserver-protocol/node';
import type { CompletionList, Hover, MarkupContent } from 'vscode-languageserver-protocol/node';
import { ServerStatsRequest } from '../../server/src/protocol';
import { startServer } from '../helpers/lspClient';
import type { LspSession } from '../helpers/lspClient';
import { makeProjectDir, validInstruction } from '../helpers/fixtures';
import { generateRecord } from '../fixtures/recordGenerator';

const PATIENTS = 276;
/** Resident memory the server (main thread + record worker) must stay under, in MB. */
const RSS_BOUND_MB = 600;

let dir: string;
let session: LspSession;
const patient = (i: number) => String(3_000_000 + i);
const uriOf = (i: number) => pathToFileURL(path.join(dir, `instructions/p${patient(i)}.medalign`)).toString();
const instruction = (i: number, question = 'Which antihypertensives were given?') =>
  validInstruction(4_000_000 + i)
    .replace('patient: 1234555', `patient: ${patient(i)}`)
    .replace('Which antihypertensives were given in the ED?', question);

before(async () => {
  const records: Record<string, string> = {};
  // Records of 8k–40k characters (the burst is about their number, not their size).
  for (let i = 0; i < PATIENTS; i++) {
    records[`records/${patient(i)}.xml`] = generateRecord({
      seed: 500 + i,
      targetChars: 8_000 + (i % 5) * 8_000,
    });
  }
  dir = makeProjectDir('lsp-stress', records);
  session = await startServer(pathToFileURL(dir).toString());
  for (let i = 0; i < PATIENTS; i++) await session.open(uriOf(i), instruction(i));
});

after(async () => {
  assert.equal(await session.close(), 0);
  rmSync(dir, { recursive: true, force: true });
});

const hoverAt = { line: 2, character: 12 };
const contextAt = { line: 5, character: 10 };
const text = (h: Hover | null) => (h ? (h.contents as MarkupContent).value : '');

test(
  'a burst of 552 hovers over 276 records with cancellations and edits: every request answered, completion and diagnostics answer meanwhile, no leftover jobs, bounded memory',
  { timeout: 600_000 },
  async () => {
    let outstanding = 0;
    const hovers: { i: number; cancelled: boolean; result: Promise<Hover | null> }[] = [];
    const later: CancellationTokenSource[] = [];
    // Two hovers per file: on `patient` (what fits) and on `context` (a pack).
    for (let k = 0; k < 2 * PATIENTS; k++) {
      const i = k % PATIENTS;
      const source = new CancellationTokenSource();
      outstanding++;
      const result = session.connection
        .sendRequest(
          HoverRequest.type,
          { textDocument: { uri: uriOf(i) }, position: k < PATIENTS ? hoverAt : contextAt },
          source.token,
        )
        .finally(() => outstanding--);
      // A third cancelled at once, a sixth once completion has answered (some of those are
      // waiting for the worker by then: their queued jobs are dropped).
      const cancelled = k % 3 === 1 || k % 6 === 0;
      if (k % 3 === 1) source.cancel();
      else if (k % 6 === 0) later.push(source);
      hovers.push({ i, cancelled, result });
      // Edits in the middle of the burst.
      if (k % 40 === 20 && k < PATIENTS)
        await session.change(uriOf(i), 2, instruction(i, `Edited question ${i}?`));
    }

    // Completion while the burst is in flight.
    const category = instruction(0)
      .split('\n')
      .findIndex((l) => l.startsWith('category:'));
    const list = (await session.connection.sendRequest(CompletionRequest.type, {
      textDocument: { uri: uriOf(0) },
      position: { line: category, character: 'category: '.length },
    })) as CompletionList;
    const outstandingAtCompletion = outstanding;
    for (const source of later) source.cancel();
    assert.ok(
      list.items.some((x) => x.label === 'retrieve vitals'),
      'completion answered',
    );

    // Diagnostics of an edit made now, while the burst is in flight.
    const edited = PATIENTS - 1;
    await session.change(
      uriOf(edited),
      3,
      instruction(edited).replace('category: retrieve medication information', 'category: retreive vitals'),
    );
    let outstandingAtDiagnostics = -1;
    const d = await session.diagnostics(
      uriOf(edited),
      (p) => {
        if (p.version !== 3) return false;
        outstandingAtDiagnostics = outstanding;
        return true;
      },
      120_000,
    );
    assert.ok(
      d.diagnostics.some((x) => x.code === 'schema-enum'),
      JSON.stringify(d.diagnostics),
    );

    const settled = await Promise.allSettled(hovers.map((h) => h.result));
    // Every request got an answer (a cancelled one may be answered with null or a cancel error).
    settled.forEach((s, k) => {
      if (s.status === 'rejected') assert.ok(hovers[k].cancelled, `hover ${k} failed: ${String(s.reason)}`);
      else if (!hovers[k].cancelled)
        assert.match(text(s.value), /\*\*(Record\*\* records\/|Context window)/, `hover ${k}`);
    });
    const answered = settled.filter((s, k) => !hovers[k].cancelled && s.status === 'fulfilled');
    assert.equal(answered.length, hovers.filter((h) => !h.cancelled).length);
    assert.deepEqual(
      session.logs.filter((l) => /failed/.test(l)),
      [],
      'no handler failed (cancelled work is not a failure)',
    );
    // The worker was still busy with the burst when completion and diagnostics answered.
    assert.ok(outstandingAtCompletion > 0, 'completion answered before the burst was over');
    assert.ok(outstandingAtDiagnostics > 0, 'diagnostics published before the burst was over');

    const stats = await session.connection.sendRequest(ServerStatsRequest.type, {});
    assert.equal(stats.recordJobs, 0, 'no jobs left behind');
    assert.ok(
      stats.rssMB > 0 && stats.rssMB < RSS_BOUND_MB,
      `rss ${stats.rssMB.toFixed(0)} MB < ${RSS_BOUND_MB} MB`,
    );
  },
);

test(
  'a burst cancelled at once costs nothing afterwards, and the next hover has the count',
  { timeout: 300_000 },
  async () => {
    const results: Promise<Hover | null>[] = [];
    for (let i = 0; i < PATIENTS; i++) {
      const source = new CancellationTokenSource();
      results.push(
        session.connection.sendRequest(
          HoverRequest.type,
          { textDocument: { uri: uriOf(i) }, position: { line: 5, character: 10 } },
          source.token,
        ),
      );
      source.cancel();
    }
    await Promise.allSettled(results);
    const stats = await session.connection.sendRequest(ServerStatsRequest.type, {});
    assert.equal(stats.recordJobs, 0);
    const h = await session.connection.sendRequest(HoverRequest.type, {
      textDocument: { uri: uriOf(7) },
      position: hoverAt,
    });
    assert.match(text(h), /\*\*[\d,]+ tokens\*\* \(cl100k_base · model baseline\)/);
  },
);
