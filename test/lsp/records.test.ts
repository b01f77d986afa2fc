import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  HoverRequest,
  CompletionRequest,
  DocumentSymbolRequest,
  CodeActionRequest,
  CodeLensRequest,
} from 'vscode-languageserver-protocol/node';
import { ContextFitRequest, PreviewPromptRequest } from '../../server/src/protocol';
import type {
  CompletionList,
  MarkupContent,
  DocumentSymbol,
  CodeAction,
  Position,
} from 'vscode-languageserver-protocol/node';
import { startServer } from '../helpers/lspClient';
import type { LspSession } from '../helpers/lspClient';
import { makeProjectDir, publicSampleXml, validInstruction } from '../helpers/fixtures';
import { generateRecord } from '../fixtures/recordGenerator';

let dir: string;
let session: LspSession;
const uriOf = (rel: string) => pathToFileURL(path.join(dir, rel)).toString();

before(async () => {
  dir = makeProjectDir('lsp-rec', {
    'records/big.xml': generateRecord({ seed: 5, targetChars: 2_000_000 }),
    'records/r10k.xml': generateRecord({ seed: 6, targetChars: 10_000 }),
    'records/r60k.xml': generateRecord({ seed: 7, targetChars: 60_000 }),
  });
  session = await startServer(pathToFileURL(dir).toString());
});

after(async () => {
  assert.equal(await session.close(), 0);
  rmSync(dir, { recursive: true, force: true });
});

async function hoverText(uri: string, position: Position): Promise<string> {
  const h = await session.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position });
  return h ? (h.contents as MarkupContent).value : '';
}

/** Hovers until the answer is no longer "counting…" (the worker finished). */
async function settledHover(uri: string, position: Position): Promise<{ first: string; last: string }> {
  const first = await hoverText(uri, position);
  let last = first;
  const deadline = Date.now() + 20_000;
  while (/Counting tokens/.test(last) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    last = await hoverText(uri, position);
  }
  return { first, last };
}

test('hover on patient: total tokens and what fits at 2k…128k, back to which date', async () => {
  const uri = uriOf('instructions/a.medalign');
  await session.open(uri, validInstruction(1));
  await session.diagnostics(uri);
  const { last } = await settledHover(uri, { line: 2, character: 11 });
  assert.match(last, /\*\*2,9\d\d tokens\*\* \(cl100k_base · model baseline\)/);
  assert.match(last, /\| context \| kept \(recent\) \| back to \|/);
  assert.match(last, /\| 2k \| 1,\d{3} · \d+% · 2 visits, one cut \| 2018-10-\d\d \|/);
  assert.match(last, /\| 32k ◀ \| whole record \| 2018-10-08 \|/);
  // The record summary: short lines, no table.
  assert.match(last, /\n3 visits · \d+ events · \d+ notes · [\d.]+ KB {2}\n2018-10-08 → 2022-05-15/);
});

for (const [size, file, id] of [
  ['10 KB', 'r10k.xml', 30],
  ['60 KB', 'r60k.xml', 31],
] as const) {
  test(`the first hover on a fresh ${size} record has the count (it waits instead of asking to hover again)`, async () => {
    const uri = uriOf(`instructions/fresh-${id}.medalign`);
    await session.open(uri, validInstruction(id).replace('patient: 1234555', `record: ../records/${file}`));
    const text = await hoverText(uri, { line: 2, character: 12 });
    assert.doesNotMatch(text, /Counting tokens/);
    assert.match(text, /\*\*[\d,]+ tokens\*\* \(cl100k_base · model baseline\)/);
    assert.match(text, /\| 128k \| whole record \| \d{4}-\d\d-\d\d \|/);
  });
}

test("a bm25 instruction's record hover plans what fits with bm25", async () => {
  const uri = uriOf('instructions/bm25.medalign');
  await session.open(
    uri,
    validInstruction(32)
      .replace('strategy: recent', 'strategy: bm25')
      .replace('patient: 1234555', 'record: ../records/r60k.xml'),
  );
  const text = await hoverText(uri, { line: 2, character: 12 });
  assert.match(text, /Kept by \*\*bm25\*\* after template/);
  assert.match(text, /\| context \| kept \(bm25\) \| back to \|/);
  assert.doesNotMatch(text, /recent/);
});

test('a 2 MB record: the hover has the exact count at once or after "counting"', async () => {
  const uri = uriOf('instructions/big.medalign');
  await session.open(uri, validInstruction(2).replace('patient: 1234555', 'record: ../records/big.xml'));
  await session.diagnostics(uri);
  const { last } = await settledHover(uri, { line: 2, character: 12 });
  assert.match(last, /\*\*\d{3},\d{3} tokens\*\*/);
  assert.match(last, /\| 128k \| [\d,]+ · \d+% · \d+ visits/);
});

test('hover on context: the budget breakdown and what is cut', async () => {
  const uri = uriOf('instructions/c.medalign');
  await session.open(uri, validInstruction(3).replace('context: 32k', 'context: 2k'));
  await session.diagnostics(uri);
  const { last } = await settledHover(uri, { line: 5, character: 10 });
  assert.match(last, /template \d+ \+ instruction \d+ \+ record 1,\d{3} \+ reserve 256 = [\d,]+ of 2,048/);
  assert.match(last, /- kept: 2 visits, 16 events, 3 notes, 1,\d{3} tokens \(2018-10-20 → 2022-05-15\)/);
  assert.match(last, /- cut: 2 visits, 14 events, 2 notes, 1,\d{3} tokens \(2018-10-08 → 2018-10-20\)/);
});

test('hover on the instruction heading: its token count', async () => {
  const uri = uriOf('instructions/a.medalign');
  const text = await hoverText(uri, { line: 11, character: 4 });
  // Counted independently with js-tiktoken.
  const { Tiktoken } = await import('js-tiktoken/lite');
  const ranks = (await import('js-tiktoken/ranks/cl100k_base')).default;
  const expected = new Tiktoken(ranks).encode('Which antihypertensives were given in the ED?').length;
  assert.match(text, new RegExp(`\\*\\*${expected} tokens\\*\\* \\(cl100k_base`));
});

test('record files: outline of visits and days, hover on a note, diagnostics for broken XML and dates', async () => {
  const uri = uriOf('records/1234555.xml');
  await session.open(uri, publicSampleXml, 'xml');
  const symbols = (await session.connection.sendRequest(DocumentSymbolRequest.type, {
    textDocument: { uri },
  })) as DocumentSymbol[];
  assert.equal(symbols.length, 3);
  assert.match(symbols[0].name, /^visit 1: 2018-10-08 20:00$/);
  assert.equal(symbols[0].detail, 'Emergency Room Visit');
  assert.ok((symbols[0].children?.length ?? 0) >= 1);
  const lines = publicSampleXml.split('\n');
  const noteLine = lines.findIndex((l) => l.includes('<note'));
  const hover = await hoverText(uri, { line: noteLine, character: 16 });
  assert.match(hover, /\*\*note\*\* — emergency department note/);
  assert.match(hover, /date: 2018-10-08 20:10/);
  assert.match(hover, /tokens: [\d,]+ \(cl100k_base\)/);

  const broken = uriOf('records/broken.xml');
  await session.open(
    broken,
    '<record>\n  <visit start="10/08/2018 25:99">\n  </visit>\n  <visit>\n</record>\n',
    'xml',
  );
  const d = await session.diagnostics(broken, (p) => p.diagnostics.length > 0);
  assert.ok(
    d.diagnostics.some((x) => x.code === 'xml-malformed' && x.severity === 1),
    JSON.stringify(d.diagnostics),
  );

  const dates = uriOf('records/dates.xml');
  await session.open(
    dates,
    '<record>\n  <visit type="x" start="sometime in May">\n  </visit>\n</record>\n',
    'xml',
  );
  const dd = await session.diagnostics(dates, (p) => p.diagnostics.length > 0);
  const w = dd.diagnostics.find((x) => x.code === 'date-unparseable');
  assert.ok(w, JSON.stringify(dd.diagnostics));
  assert.equal(w.severity, 2);
  assert.equal(w.range.start.line, 1);
});

test('XML that is not a MedAlign record (outside the records folder) is left alone', async () => {
  const uri = uriOf('pom.xml');
  await session.open(uri, '<project><modelVersion>4.0.0</modelVersion></project>', 'xml');
  const d = await session.diagnostics(uri);
  assert.deepEqual(d.diagnostics, []);
});

test('templates: unknown placeholder with a quick fix, placeholder completion', async () => {
  const uri = uriOf('templates/t.prompt');
  const text = '---\nname: t\n---\n## user\nEHR: {{ehrr}}\n\nQ: {{instruction}} {{\n';
  await session.open(uri, text, 'medalign-prompt');
  const p = await session.diagnostics(uri, (x) => x.diagnostics.length > 0);
  const unknown = p.diagnostics.find((x) => x.code === 'template-unknown-placeholder');
  assert.ok(unknown, JSON.stringify(p.diagnostics));
  assert.equal(unknown.range.start.line, 4);
  const actions = (await session.connection.sendRequest(CodeActionRequest.type, {
    textDocument: { uri },
    range: unknown.range,
    context: { diagnostics: [unknown] },
  })) as CodeAction[];
  assert.equal(actions[0]?.title, "Change to '{{ehr}}'");
  const list = (await session.connection.sendRequest(CompletionRequest.type, {
    textDocument: { uri },
    position: { line: 6, character: text.split('\n')[6].length },
  })) as CompletionList;
  assert.deepEqual(
    list.items.map((i) => i.label),
    ['ehr', 'instruction', 'age', 'sex', 'record_start', 'record_end', 'answer'],
  );
});

test('code lenses "Preview prompt" and "Timeline", and the preview request: exact prompt within budget', async () => {
  const uri = uriOf('instructions/p.medalign');
  await session.open(uri, validInstruction(20).replace('context: 32k', 'context: 2k'));
  await session.diagnostics(uri);
  const lenses = await session.connection.sendRequest(CodeLensRequest.type, { textDocument: { uri } });
  assert.deepEqual(
    lenses?.map((l) => [l.command?.title, l.command?.command, l.range.start.line]),
    [
      ['Preview prompt', 'medalign.previewPrompt', 11],
      ['Timeline', 'medalign.timeline.show', 11],
    ],
  );
  const result = await session.connection.sendRequest(PreviewPromptRequest.type, { uri });
  assert.equal(result.ok, true, result.error);
  assert.equal(result.context, 2048);
  assert.equal(result.messages.length, 1);
  const content = result.messages[0].content;
  assert.ok(content.startsWith('EHR: <record>'), content.slice(0, 80));
  assert.ok(content.endsWith('Question: Which antihypertensives were given in the ED?\n\nAnswer:'));
  assert.ok(result.promptTokens! <= 2048 - 256, `prompt ${result.promptTokens} within context − reserve`);
  assert.match(result.text, /^MedAlign prompt preview — instructions\/p\.medalign/);
  assert.match(result.text, /════════ user ════════\nEHR: <record>/);
  // The header the preview keeps in view: the same lines as the text's, without the messages.
  const header = result.header ?? [];
  assert.match(header[0], /^MedAlign prompt preview — instructions\/p\.medalign/);
  assert.ok(
    header.some((l) => /^Budget at 2k \(recent; /.test(l)),
    header.join('\n'),
  );
  assert.ok(
    header.some((l) => /^prompt: [\d,]+ tokens, limit 1,792/.test(l)),
    header.join('\n'),
  );
  assert.ok(!header.some((l) => l.includes('EHR: <record>')));
  assert.ok(result.dependsOn.includes(uriOf('templates/medalign.prompt')));
  assert.ok(result.dependsOn.includes(uriOf('records/1234555.xml')));

  // Overrides (the run-lens's model/context pickers) and a change to the instruction.
  await session.change(uri, 2, validInstruction(20).replace('Which antihypertensives', 'Which statins'));
  const wide = await session.connection.sendRequest(PreviewPromptRequest.type, {
    uri,
    context: '128k',
    strategy: 'none',
  });
  assert.equal(wide.context, 131072);
  assert.equal(wide.strategy, 'none');
  assert.match(wide.messages[0].content, /Question: Which statins were given/);
  assert.ok(wide.messages[0].content.includes(publicSampleXml.trim().slice(0, 200)));
});

test('preview of a file with no record explains why', async () => {
  const uri = uriOf('instructions/norecord.medalign');
  await session.open(uri, validInstruction(21).replace('patient: 1234555', 'patient: 404'));
  const result = await session.connection.sendRequest(PreviewPromptRequest.type, { uri });
  assert.equal(result.ok, false);
  assert.match(result.error ?? '', /record not found: records\/404\.xml/);
});

test('context fit: what the record keeps at each standard size, as the hover says it', async () => {
  const uri = uriOf('instructions/fit.medalign');
  await session.open(uri, validInstruction(22).replace('context: 32k', 'context: 2k'));
  const fit = await session.connection.sendRequest(ContextFitRequest.type, { uri });
  assert.equal(fit.ok, true, fit.message);
  assert.equal(fit.record, 'records/1234555.xml');
  assert.match(fit.totalTokens ?? '', /^2,9\d\d$/);
  assert.equal(fit.strategy, 'recent');
  assert.deepEqual(
    fit.rows.map((r) => r.label),
    ['2k', '4k', '8k', '16k', '32k', '64k', '128k'],
  );
  const at2k = fit.rows[0];
  assert.equal(at2k.context, 2048);
  assert.equal(at2k.current, true);
  assert.equal(at2k.fitsWhole, false);
  // The hover's cells for the same record (see the hover test above).
  assert.match(at2k.kept, /^1,\d{3} · \d+% · 2 visits, one cut$/);
  assert.match(at2k.backTo ?? '', /^2018-10-\d\d$/);
  const at32k = fit.rows.find((r) => r.label === '32k')!;
  assert.deepEqual(
    [at32k.kept, at32k.backTo, at32k.fitsWhole, at32k.current],
    ['whole record', '2018-10-08', true, false],
  );
  // Overrides (a picker's window choice) move the mark; the fit follows the model's tokenizer.
  const o = await session.connection.sendRequest(ContextFitRequest.type, {
    uri,
    overrides: { context: '8k' },
  });
  assert.deepEqual(
    o.rows.filter((r) => r.current).map((r) => r.label),
    ['8k'],
  );
});

test('context fit without a record says why, with no rows', async () => {
  const uri = uriOf('instructions/fit-none.medalign');
  await session.open(uri, validInstruction(23).replace('patient: 1234555', 'patient: 404'));
  const fit = await session.connection.sendRequest(ContextFitRequest.type, { uri });
  assert.equal(fit.ok, false);
  assert.deepEqual(fit.rows, []);
  assert.match(fit.message ?? '', /record not found: records\/404\.xml/);
});
