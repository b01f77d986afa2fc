/**
 * `medalign/timeline` over JSON-RPC (the server's record worker) and `medalign timeline` as a process:
 * an instruction's settings and overrides, a record file with the config's defaults, an open record
 * as edited, a record that changes on disk, missing and broken records, cancelled requests.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { URI } from 'vscode-uri';
import { CancellationTokenSource } from 'vscode-languageserver-protocol/node';
import { makeProjectDir, publicSampleXml, TEMPLATE, validInstruction } from '../helpers/fixtures';
import { startServer } from '../helpers/lspClient';
import { runCliProcess } from '../helpers/cliProcess';
import type { LspSession } from '../helpers/lspClient';
import type { ServerStatsResult, TimelineModel } from '../../server/src/protocol';
import { packPrompt } from '../../engine/src/core/packing/pack';
import { parseRecord } from '../../engine/src/core/record/parse';
import { parseTemplate } from '../../engine/src/core/template/template';
import { TokenCounter } from '../../engine/src/core/tokens/counter';
import { generateRecord } from '../fixtures/recordGenerator';

const QUESTION = 'Which antihypertensives were given in the ED?';

function timeline(s: LspSession, uri: string, extra: Record<string, unknown> = {}): Promise<TimelineModel> {
  return s.connection.sendRequest<TimelineModel>('medalign/timeline', { uri, ...extra });
}

/** What `medalign pack` keeps of a record text at a context (in-process, the same core). */
function packed(xml: string, context: number, instruction = QUESTION) {
  return packPrompt({
    text: xml,
    record: parseRecord(xml),
    instruction,
    template: parseTemplate(TEMPLATE),
    context,
    reserve: 256,
    strategy: 'recent',
    encoding: 'cl100k_base',
    counter: new TokenCounter(),
  });
}

test('LSP: medalign/timeline of an instruction (its context, overrides) and of a record file (the config defaults), cuts as pack keeps them', async () => {
  const dir = makeProjectDir('timeline');
  const s = await startServer(URI.file(dir).toString());
  try {
    const file = path.join(dir, 'instructions/a.medalign');
    const text = validInstruction().replace('context: 32k', 'context: 2k');
    writeFileSync(file, text);
    const uri = URI.file(file).toString();
    const m = await timeline(s, uri);
    assert.equal(m.version, 1);
    assert.equal(m.record, 'records/1234555.xml');
    assert.equal(m.model, 'baseline');
    assert.equal(m.encoding, 'cl100k_base');
    assert.equal(m.strategy, 'recent');
    assert.equal(m.context, 2048);
    assert.equal(m.visits.length, 3);
    assert.equal(m.events, 30);
    assert.deepEqual(m.problems, []);
    const own = m.cuts.filter((c) => c.own);
    assert.deepEqual(
      own.map((c) => c.context),
      [2048],
    );
    const p = packed(publicSampleXml, 2048);
    assert.equal(own[0].keptTokens, p.kept.tokens);
    assert.equal(own[0].keptVisits, p.kept.visits);
    assert.equal(own[0].keptFrom, p.kept.firstDate?.iso ?? null);
    assert.deepEqual(
      m.visits.map((v) => v.state),
      p.visits.map((v) => v.state),
    );
    assert.deepEqual(
      m.query?.terms.map((t) => t.term),
      ['antihypertensiv', 'given', 'ed'],
      'as BM25 reads the question',
    );
    assert.ok(m.query.terms[1].hits > 0);

    // The pickers' window choice (context only) moves the own cut; the editor's unsaved text wins.
    const over = await timeline(s, uri, { overrides: { context: '8k' } });
    assert.equal(over.context, 8192);
    assert.deepEqual(
      over.cuts.filter((c) => c.own).map((c) => c.context),
      [8192],
    );
    const unsaved = await timeline(s, uri, { text: text.replace('strategy: recent', 'strategy: bm25') });
    assert.equal(unsaved.strategy, 'bm25');
    assert.ok(unsaved.visits.every((v) => typeof v.score === 'number' && Array.isArray(v.matched)));

    // A record file: the config's defaults (32k, recent), no question.
    const recordUri = URI.file(path.join(dir, 'records/1234555.xml')).toString();
    const r = await timeline(s, recordUri);
    assert.equal(r.context, 32768);
    assert.equal(r.strategy, 'recent');
    assert.equal(r.query, undefined);
    assert.equal(r.tokens, m.tokens);
    assert.equal(r.cuts.find((c) => c.own)?.context, 32768);
    const withStrategy = await timeline(s, recordUri, { overrides: { strategy: 'none', context: '2k' } });
    assert.equal(withStrategy.cuts.find((c) => c.own)?.ok, false);
    assert.match(withStrategy.problems.join('\n'), /The whole record needs/);
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('LSP: medalign/timeline follows a record changed on disk and an open record as edited; missing and broken records give problems', async () => {
  const dir = makeProjectDir('timeline-disk');
  const s = await startServer(URI.file(dir).toString());
  try {
    const recordPath = path.join(dir, 'records/1234555.xml');
    const recordUri = URI.file(recordPath).toString();
    const file = path.join(dir, 'instructions/a.medalign');
    writeFileSync(file, validInstruction());
    const uri = URI.file(file).toString();
    const before = await timeline(s, uri);
    assert.equal(before.visits.length, 3);

    // Changed on disk (the last visit removed): the next request sees it, from a new parse and count.
    const lastVisit = publicSampleXml.lastIndexOf('\n    <visit ') + 1;
    const shorter = publicSampleXml.slice(0, lastVisit) + '</record>\n';
    writeFileSync(recordPath, shorter);
    const after = await timeline(s, uri);
    assert.equal(after.visits.length, 2);
    assert.equal(after.tokens, packed(shorter, 131072).kept.tokens);
    assert.ok(after.tokens < before.tokens);

    // Open in an editor with unsaved text: the record file's timeline is the buffer's.
    const edited = shorter.replace('<record>\n', '<record>\n\n');
    await s.open(recordUri, edited, 'xml');
    const open = await timeline(s, recordUri);
    assert.equal(open.visits.length, 2);
    assert.equal(open.visits[0].range[0], after.visits[0].range[0] + 1, 'ranges of the edited text');

    // Broken on disk: a model with the error and where it is; no crash, the server still answers.
    writeFileSync(recordPath, '<record>\n  <visit>\n</record>\n');
    const broken = await timeline(s, uri);
    assert.deepEqual(broken.visits, []);
    assert.equal(broken.error?.code, 'xml-malformed');
    assert.match(broken.problems.join('\n'), /is not a valid MedAlign record/);

    // Missing: the instruction names a patient without a record.
    writeFileSync(file, validInstruction().replace('patient: 1234555', 'patient: 999'));
    const missing = await timeline(s, uri);
    assert.deepEqual(missing.visits, []);
    assert.match(missing.problems.join('\n'), /Record not found: records\/999\.xml/);
    const other = await timeline(s, URI.file(path.join(dir, 'notes.txt')).toString());
    assert.match(other.problems[0], /Open a `\.medalign` instruction or a record/);
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('LSP: cancelled medalign/timeline requests leave no work behind and later requests are answered', async () => {
  const big = generateRecord({ seed: 31, targetChars: 600_000 });
  const dir = makeProjectDir('timeline-cancel', { 'records/1234555.xml': big });
  const s = await startServer(URI.file(dir).toString());
  try {
    const file = path.join(dir, 'instructions/a.medalign');
    writeFileSync(file, validInstruction());
    const uri = URI.file(file).toString();
    const sources = [0, 1, 2, 3].map(() => new CancellationTokenSource());
    const pending = sources.map((src, k) =>
      s.connection
        .sendRequest<TimelineModel>(
          'medalign/timeline',
          { uri, overrides: { context: `${2 ** (k + 1)}k` } },
          src.token,
        )
        .catch(() => undefined),
    );
    for (const src of sources) src.cancel();
    await Promise.all(pending);
    const m = await timeline(s, uri);
    assert.equal(m.visits.length, parseRecord(big).visits.length);
    assert.deepEqual(
      m.problems.filter((p) => /cancel|internal/i.test(p)),
      [],
    );
    const stats = await s.connection.sendRequest<ServerStatsResult>('medalign/serverStats', {});
    assert.equal(stats.recordJobs ?? 0, 0);
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CLI: medalign timeline --json prints the model (record, encoding, tokens, visits with events, cuts); text table; exit codes', async () => {
  const dir = makeProjectDir('timeline-cli');
  try {
    writeFileSync(path.join(dir, 'instructions/a.medalign'), validInstruction());
    const r = await runCliProcess(dir, ['timeline', 'instructions/a.medalign', '--context', '2k', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const m = JSON.parse(r.stdout) as TimelineModel;
    assert.equal(m.record, 'records/1234555.xml');
    assert.equal(m.encoding, 'cl100k_base');
    assert.equal(typeof m.tokens, 'number');
    for (const v of m.visits) {
      assert.match(v.start ?? '', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/);
      assert.match(v.end ?? '', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/);
      assert.equal(typeof v.tokens, 'number');
      for (const e of v.events) {
        assert.ok(
          ['note', 'measurement', 'medication', 'diagnosis', 'procedure', 'demographics', 'other'].includes(
            e.kind,
          ),
        );
        assert.match(e.date ?? '', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/);
        assert.equal(typeof e.tokens, 'number');
        assert.equal(e.range.length, 4);
      }
    }
    assert.deepEqual(
      m.cuts.map((c) => c.context),
      [2048, 4096, 8192, 16384, 32768, 65536, 131072],
    );
    const own = m.cuts.find((c) => c.own)!;
    assert.equal(own.context, 2048);
    const p = packed(publicSampleXml, 2048);
    assert.equal(own.keptTokens, p.kept.tokens);
    assert.equal(own.keptVisits, p.kept.visits);
    assert.equal(own.keptFrom, p.kept.firstDate?.iso ?? null);
    // The same numbers as `medalign pack --json` for that context.
    const pk = await runCliProcess(dir, ['pack', 'instructions/a.medalign', '--context', '2k', '--json']);
    const pj = JSON.parse(pk.stdout) as { kept: { tokens: number; visits: number } };
    assert.equal(own.keptTokens, pj.kept.tokens);
    assert.equal(own.keptVisits, pj.kept.visits);

    const text = await runCliProcess(dir, ['timeline', 'records/1234555.xml', '--strategy', 'bm25']);
    assert.equal(text.status, 0, text.stderr);
    assert.match(
      text.stdout,
      /^records\/1234555\.xml: 2,949 tokens \(cl100k_base\), 3 visits, 30 events, 2018-10-08 → 2022-05-15\n/,
    );
    assert.match(text.stdout, /model baseline · strategy bm25 · context 32k/);
    assert.ok(text.stdout.includes('\n*     32k        2,949       3      30  whole record\n'), text.stdout);

    writeFileSync(path.join(dir, 'records/broken.xml'), '<record><visit></record>');
    const broken = await runCliProcess(dir, ['timeline', 'records/broken.xml', '--json']);
    assert.equal(broken.status, 1);
    assert.equal((JSON.parse(broken.stdout) as TimelineModel).error?.code, 'xml-malformed');
    assert.match(broken.stderr, /^medalign timeline: records\/broken\.xml is not a valid MedAlign record/);
    const missing = await runCliProcess(dir, ['timeline', 'records/none.xml']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /Record not found: records\/none\.xml/);
    const badContext = await runCliProcess(dir, ['timeline', 'records/1234555.xml', '--context', '3k']);
    assert.equal(badContext.status, 2);
    assert.match(badContext.stderr, /--context '3k' is not a context size/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
