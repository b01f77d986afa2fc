/**
 * Issue 9's language features in the core: a quick fix for every mistake of
 * samples/instructions/mistakes.medalign (each applied and re-validated), the nearest patient ids of
 * a missing record, the "same id here" location, outline symbol kinds, the `category` key hover and
 * completion details that fit their row.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { SymbolKind } from 'vscode-languageserver-types';
import type { CodeAction, DocumentSymbol, MarkupContent, TextEdit } from 'vscode-languageserver-types';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { caret } from '../helpers/memfs';
import { makeWorkspace, publicSampleXml, repoRoot, validInstruction } from '../helpers/fixtures';
import { COMPLETION_ROW } from '../../engine/src/core/features/completion';
import { yamlScalar } from '../../engine/src/core/features/validation';

const mistakes = readFileSync(path.join(repoRoot, 'samples/instructions/mistakes.medalign'), 'utf8');
const MISTAKES = 'instructions/mistakes.medalign';
/** The sample's other patients, so the did-you-mean has the same candidates as in samples/. */
const RECORDS = {
  'records/2000001.xml': '<record><visit/></record>',
  'records/2000002.xml': '<record><visit/></record>',
  // The other holder of mistakes.medalign's id (the duplicate-id mistake).
  'instructions/broken-record.medalign': validInstruction(90000000302),
};

function applyEdits(text: string, edits: TextEdit[]): string {
  const doc = TextDocument.create('file:///x', 'medalign', 0, text);
  return TextDocument.applyEdits(doc, edits);
}

function editsOf(action: CodeAction, uri: string): TextEdit[] {
  const edits = action.edit?.changes?.[uri];
  assert.ok(edits && edits.length > 0, `${action.title} edits ${uri}`);
  return edits;
}

async function diagnose(text: string) {
  const env = await makeWorkspace(RECORDS);
  const d = env.doc(MISTAKES, text);
  const diagnostics = await env.service.doValidation(d, env.ws);
  return { ...env, d, diagnostics };
}

async function actionsFor(text: string, code: string) {
  const env = await diagnose(text);
  const diag = env.diagnostics.find((x) => x.code === code);
  assert.ok(diag, `${code} in ${JSON.stringify(env.diagnostics.map((x) => x.code))}`);
  const actions = await env.service.getCodeActions(env.d, [diag], env.ws);
  return { ...env, diag, actions };
}

/** Each mistake: its code, the line it is on, and what the fixed line reads. */
const CASES: { code: string; fixed: RegExp; title: RegExp }[] = [
  { code: 'duplicate-id', fixed: /^id: \d{10,11}$/m, title: /unique id/ },
  { code: 'record-not-found', fixed: /^patient: 1234555$/m, title: /patient 1234555 \(nearest id\)/ },
  { code: 'schema-unknown-key', fixed: /^category: retrieve medication information$/m, title: /'category'/ },
  { code: 'schema-type', fixed: /^context: 32k$/m, title: /'32k'/ },
  { code: 'schema-enum', fixed: /^strategy: recent$/m, title: /'recent'/ },
  { code: 'schema-type', fixed: /^tags: \[stroke\]$/m, title: /'\[stroke\]'/ },
  { code: 'section-unknown', fixed: /^## Gold response$/m, title: /'Gold response'/ },
];

test('mistakes.medalign: every mistake has a quick fix, and applying it removes that mistake', async () => {
  const { diagnostics, d, ws, service } = await diagnose(mistakes);
  const errors = diagnostics.filter((x) => x.severity === 1 || x.severity === 2);
  assert.equal(errors.length, 7, JSON.stringify(errors.map((x) => x.code)));
  const uri = d.uri;
  for (const diag of errors) {
    const actions = await service.getCodeActions(d, [diag], ws);
    assert.ok(actions.length > 0, `a quick fix for ${String(diag.code)}: ${diag.message as string}`);
    const fixedText = applyEdits(mistakes, editsOf(actions[0], uri));
    const c = CASES.find(
      (k) => k.code === diag.code && k.title.test(actions[0].title) && k.fixed.test(fixedText),
    );
    assert.ok(c, `${actions[0].title} → ${fixedText.split('\n')[diag.range.start.line]}`);
    // Re-validated: nothing left at that line for that code.
    const env = await makeWorkspace(RECORDS);
    const after = await env.service.doValidation(env.doc(MISTAKES, fixedText), env.ws);
    const left = after.filter((x) => x.code === diag.code && x.range.start.line === diag.range.start.line);
    assert.deepEqual(left, [], `${String(diag.code)} fixed by "${actions[0].title}"`);
    assert.equal(after.length, diagnostics.length - 1 - (diag.code === 'section-unknown' ? 1 : 0));
  }
});

test('context: [32k] → context: 32k (a one-item list where a size is expected)', async () => {
  const text = validInstruction(1).replace('context: 32k', 'context: [32k]');
  const { diag, actions, d } = await actionsFor(text, 'schema-type');
  assert.match(diag.message as string, /got a list\. Did you mean `context: 32k`\?/);
  assert.equal(actions[0].isPreferred, true);
  assert.match(applyEdits(text, editsOf(actions[0], d.uri)), /^context: 32k$/m);
  // A list whose item is not a size either gets no reshaping fix.
  const bad = validInstruction(1).replace('context: 32k', 'context: [33q]');
  const r = await actionsFor(bad, 'schema-type');
  assert.deepEqual(r.actions, []);
  // Nor does a list of two.
  const two = validInstruction(1).replace('context: 32k', 'context: [8k, 32k]');
  assert.deepEqual((await actionsFor(two, 'schema-type')).actions, []);
});

test('tags: stroke → [stroke]; a comma-separated string becomes a list of its items', async () => {
  for (const [value, expected] of [
    ['stroke', 'tags: [stroke]'],
    ['stroke, risk', 'tags: [stroke, risk]'],
    ['"yes"', 'tags: ["yes"]'],
  ]) {
    const text = validInstruction(1).replace('tags: [stroke]', `tags: ${value}`);
    const { actions, d } = await actionsFor(text, 'schema-type');
    const fixed = applyEdits(text, editsOf(actions[0], d.uri));
    assert.ok(fixed.includes(`\n${expected}\n`), fixed);
    const env = await makeWorkspace();
    const after = await env.service.doValidation(env.doc('instructions/a.medalign', fixed), env.ws);
    assert.deepEqual(after, [], `${expected} is valid`);
  }
});

test('a patient without a record: the nearest patient ids, nearest first, none preferred', async () => {
  const text = validInstruction(1).replace('patient: 1234555', 'patient: 2000003');
  const { diag, actions } = await actionsFor(text, 'record-not-found');
  assert.match(diag.message as string, /Nearest patient ids: 2000001, 2000002, 1234555\.$/);
  assert.deepEqual(
    actions.map((a) => a.title),
    [
      'Change to patient 2000001 (nearest id)',
      'Change to patient 2000002 (nearest id)',
      'Change to patient 1234555 (nearest id)',
    ],
  );
  assert.ok(actions.every((a) => !a.isPreferred));
});

test('a `record:` path that does not exist: the nearest record files', async () => {
  const text = validInstruction(1).replace('patient: 1234555', 'record: ../records/123455.xml');
  const { diag, actions, d } = await actionsFor(text, 'record-not-found');
  assert.match(diag.message as string, /Nearest records: \.\.\/records\/1234555\.xml/);
  const fixed = applyEdits(text, editsOf(actions[0], d.uri));
  assert.match(fixed, /^record: \.\.\/records\/1234555\.xml$/m);
});

test('## Answer (and other usual names) → the known section', async () => {
  for (const [heading, expected] of [
    ['Answer', 'Gold response'],
    ['Reference answer', 'Gold response'],
    ['Question', 'Instruction'],
    ['Comments', 'Notes'],
    ['Gold respnse', 'Gold response'],
  ]) {
    const text = `---\nid: 1\npatient: 1234555\n---\n## Instruction\nQ?\n\n## ${heading}\nA.\n`;
    const { actions, d } = await actionsFor(text, 'section-unknown');
    if (expected === 'Instruction') {
      // The file has an Instruction already: renaming gives a duplicate, but the fix is still the name.
      assert.equal(actions[0].title, `Change to '${expected}'`);
      continue;
    }
    assert.match(applyEdits(text, editsOf(actions[0], d.uri)), new RegExp(`^## ${expected}$`, 'm'));
  }
  const { actions } = await actionsFor(
    '---\nid: 1\npatient: 1234555\n---\n## Instruction\nQ?\n\n## Appendix\nA.\n',
    'section-unknown',
  );
  assert.deepEqual(actions, [], 'no guess for an unrelated heading');
});

test('yamlScalar: reads back as the same value', () => {
  assert.equal(yamlScalar('1234555'), '1234555');
  assert.equal(yamlScalar('0012'), '"0012"');
  assert.equal(yamlScalar('yes'), '"yes"');
  assert.equal(yamlScalar('32k'), '32k');
  assert.equal(yamlScalar('a: b'), '"a: b"');
  assert.equal(yamlScalar('../records/x.xml'), '"../records/x.xml"');
});

test('duplicate id: "same id here" points at the other file\'s id value, not line 1', async () => {
  const env = await makeWorkspace({
    'instructions/other.medalign': `---\n# a comment first\npatient: 1234555\nid:   42\n---\n## Instruction\nQ\n`,
  });
  const d = env.doc('instructions/a.medalign', validInstruction(42));
  const dup = (await env.service.doValidation(d, env.ws)).find((x) => x.code === 'duplicate-id');
  assert.ok(dup?.relatedInformation);
  const loc = dup.relatedInformation[0].location;
  assert.equal(loc.uri, 'file:///ws/instructions/other.medalign');
  assert.deepEqual(loc.range, { start: { line: 3, character: 6 }, end: { line: 3, character: 8 } });
});

test('outline: the front matter is an Object of Properties, sections are Strings; record visits are Events', async () => {
  const env = await makeWorkspace();
  const d = env.doc('instructions/a.medalign', validInstruction(5));
  const symbols = await env.service.findDocumentSymbols(d, env.ws);
  assert.equal(symbols[0].kind, SymbolKind.Object);
  assert.ok(symbols[0].children!.every((c) => c.kind === SymbolKind.Property));
  assert.deepEqual(
    symbols.slice(1).map((s) => [s.name, s.kind]),
    [
      ['Instruction', SymbolKind.String],
      ['Gold response', SymbolKind.String],
    ],
  );
  const rec = TextDocument.create('file:///ws/records/1234555.xml', 'xml', 1, publicSampleXml);
  const recSymbols: DocumentSymbol[] = await env.service.findDocumentSymbols(rec, env.ws);
  assert.ok(recSymbols.length > 0);
  const kinds = new Set(recSymbols.flatMap((v) => [v.kind, ...(v.children ?? []).map((c) => c.kind)]));
  assert.deepEqual([...kinds], [SymbolKind.Event]);
});

test('hover on the `category` key: a short summary of the taxonomy, not the 20 values', async () => {
  const env = await makeWorkspace();
  const { text, offset } = caret(validInstruction(1).replace('category:', 'cat|egory:'));
  const d = env.doc('instructions/a.medalign', text);
  const h = await env.service.doHover(d, d.positionAt(offset), env.ws);
  const value = (h!.contents as MarkupContent).value;
  assert.match(value, /^\*\*category\*\* `string`\n/);
  assert.match(value, /One of 20 subcategories, in 6 groups:/);
  assert.match(value, /- \*information retrieval\* \(\d+\)/);
  assert.ok(!value.includes('|'), value);
  assert.ok(!value.includes('retrieve medication information |'));
  assert.ok(value.split('\n').length < 20, 'short');
  // Short enums are still spelled out.
  const s = caret(validInstruction(1).replace('strategy:', 'strat|egy:'));
  const d2 = env.doc('instructions/b.medalign', s.text);
  const h2 = await env.service.doHover(d2, d2.positionAt(s.offset), env.ws);
  assert.match(
    (h2!.contents as MarkupContent).value,
    /^\*\*strategy\*\* `recent \| bm25 \| none \| helm \| refine`/,
  );
});

test('completion: label and detail fit one row of the suggest widget', async () => {
  const env = await makeWorkspace({ 'records/2000001.xml': '<record/>' });
  const lines = [
    'category: |',
    'model: |',
    'patient: |',
    'context: |',
    'strategy: |',
    'template: |',
    'record: |',
    '|',
  ];
  let checked = 0;
  for (const line of lines) {
    const { text, offset } = caret(`---\nid: 1\n${line}\n---\n`);
    const d = env.doc('instructions/a.medalign', text);
    for (const item of (await env.service.doComplete(d, d.positionAt(offset), env.ws)).items) {
      const row = item.label.length + (item.detail ? item.detail.length + 2 : 0);
      assert.ok(row <= COMPLETION_ROW, `${item.label} · ${item.detail ?? ''} (${row} characters)`);
      checked++;
    }
  }
  assert.ok(checked > 30);
  // The category's group moved into the documentation.
  const { text, offset } = caret('---\nid: 1\ncategory: |\n---\n');
  const d = env.doc('instructions/a.medalign', text);
  const item = (await env.service.doComplete(d, d.positionAt(offset), env.ws)).items.find(
    (i) => i.label === 'retrieve medication information',
  )!;
  assert.match((item.documentation as MarkupContent).value, /^\*information retrieval\*\n\n/);
});
