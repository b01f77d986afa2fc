import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Hover, MarkupContent } from 'vscode-languageserver-types';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { caret } from '../helpers/memfs';
import { makeWorkspace, validInstruction } from '../helpers/fixtures';

const hoverText = (h: Hover | null) => (h ? (h.contents as MarkupContent).value : '');

async function at(path: string, textWithCaret: string, extra: Record<string, string> = {}) {
  const env = await makeWorkspace(extra);
  const { text, offset } = caret(textWithCaret);
  const d = env.doc(path, text);
  return { ...env, d, pos: d.positionAt(offset) };
}

test('completion: keys not yet present, with descriptions', async () => {
  const { ws, service, d, pos } = await at(
    'instructions/a.medalign',
    '---\nid: 1\n|\n---\n## Instruction\nQ\n',
  );
  const list = await service.doComplete(d, pos, ws);
  const labels = list.items.map((i) => i.label);
  assert.ok(labels.includes('category') && labels.includes('strategy') && labels.includes('patient'));
  assert.ok(!labels.includes('id'), 'id is already there');
  const cat = list.items.find((i) => i.label === 'category')!;
  assert.match((cat.documentation as MarkupContent).value, /MedAlign instruction taxonomy/);
});

test('completion: partial key replaces the typed prefix', async () => {
  const { ws, service, d, pos } = await at('a.medalign', '---\nid: 1\nstra|\n---\n');
  const list = await service.doComplete(d, pos, ws);
  const s = list.items.find((i) => i.label === 'strategy')!;
  assert.ok(s.textEdit && 'range' in s.textEdit);
  assert.equal(s.textEdit.range.start.character, 0);
  assert.equal(s.textEdit.newText, 'strategy: ');
});

test('completion: enum values, models, patients, records, templates', async () => {
  const cases: [string, string[]][] = [
    ['strategy: |', ['bm25', 'helm', 'none', 'recent', 'refine']],
    ['context: |', ['128k', '16k', '2k', '32k', '4k', '64k', '8k']],
    ['model: |', ['baseline', 'gpt-4o', 'local-vllm']],
    ['patient: |', ['1234555', '2000001']],
    ['record: |', ['../records/1234555.xml', '../records/2000001.xml']],
    ['template: |', ['../templates/medalign.prompt']],
  ];
  for (const [line, expected] of cases) {
    const { ws, service, d, pos } = await at('instructions/a.medalign', `---\nid: 1\n${line}\n---\n`, {
      'records/2000001.xml': '<record/>',
    });
    const labels = (await service.doComplete(d, pos, ws)).items.map((i) => i.label).sort();
    assert.deepEqual(labels, expected, line);
  }
  const { ws, service, d, pos } = await at('a.medalign', '---\nid: 1\ncategory: retr|\n---\n');
  const items = (await service.doComplete(d, pos, ws)).items;
  assert.ok(items.some((i) => i.label === 'retrieve medication information'));
  assert.equal(items.length, 20, 'every subcategory of the taxonomy');
});

test('completion: section headings in the body', async () => {
  const { ws, service, d, pos } = await at('a.medalign', '---\nid: 1\n---\n## Instruction\nQ\n\n#|');
  const labels = (await service.doComplete(d, pos, ws)).items.map((i) => i.label);
  assert.deepEqual(labels, ['## Gold response', '## Notes', '## Evidence', '## Other responses']);
});

test('hover: key description, category taxonomy, strategy, model, record summary, section', async () => {
  const text = validInstruction();
  const { ws, service, doc } = await makeWorkspace();
  const d = doc('instructions/a.medalign', text);
  const hov = async (needle: string, delta = 1) =>
    hoverText(await service.doHover(d, d.positionAt(text.indexOf(needle) + delta), ws));
  assert.match(await hov('category:'), /MedAlign instruction taxonomy/);
  assert.match(await hov('retrieve medication'), /information retrieval/);
  assert.match(await hov('retrieve medication'), /interactions between medications/);
  assert.match(await hov('recent'), /most recent/);
  assert.match(await hov('baseline'), /No key, no network/);
  const rec = await hov('1234555');
  assert.match(rec, /\b3 visits · 30 events · 5 notes · /);
  assert.match(rec, /2018-10-08/);
  assert.match(rec, /FEMALE/i);
  assert.match(await hov('## Gold', 4), /reference answer/);
  assert.equal(await service.doHover(d, d.positionAt(text.indexOf('Which')), ws), null);
});

test('definition: patient, record and template open their files', async () => {
  const text = validInstruction();
  const { ws, service, doc } = await makeWorkspace();
  const d = doc('instructions/a.medalign', text);
  const rec = await service.findDefinition(d, d.positionAt(text.indexOf('1234555') + 2), ws);
  assert.equal(rec[0]?.uri, 'file:///ws/records/1234555.xml');
  const tpl = await service.findDefinition(d, d.positionAt(text.indexOf('medalign.prompt')), ws);
  assert.equal(tpl[0]?.uri, 'file:///ws/templates/medalign.prompt');
  const none = await service.findDefinition(d, d.positionAt(text.indexOf('baseline')), ws);
  assert.deepEqual(none, []);
});

test('document symbols and folding', async () => {
  const text = validInstruction();
  const { service, doc, ws } = await makeWorkspace();
  const d = doc('a.medalign', text);
  const symbols = await service.findDocumentSymbols(d, ws);
  assert.deepEqual(
    symbols.map((s) => s.name),
    ['id: 7222697931', 'Instruction', 'Gold response'],
  );
  assert.equal(symbols[0].children?.length, 8);
  const folds = service.getFoldingRanges(d);
  assert.deepEqual(
    folds.map((f) => [f.startLine, f.endLine]),
    [
      [0, 9],
      [11, 12],
      [14, 15],
    ],
  );
});

test('quick fixes: did-you-mean, unique id, missing key, missing section', async () => {
  const { ws, service, doc } = await makeWorkspace();
  doc('instructions/b.medalign', validInstruction(5));
  const apply = (
    d: TextDocument,
    edits: {
      range: { start: { line: number; character: number }; end: { line: number; character: number } };
      newText: string;
    }[],
  ) => TextDocument.applyEdits(d, edits);

  const typo = doc('instructions/a.medalign', validInstruction(5).replace('category:', 'cateogry:'));
  const diags = await service.doValidation(typo, ws);
  const actions = await service.getCodeActions(typo, diags, ws);
  const change = actions.find((a) => a.title === "Change to 'category'")!;
  assert.ok(change.isPreferred);
  const fixed = apply(typo, change.edit!.changes![typo.uri]);
  assert.match(fixed, /^category: retrieve/m);

  const unique = actions.find((a) => a.title === 'Generate a unique id')!;
  const withId = apply(typo, unique.edit!.changes![typo.uri]);
  const newId = /^id: (\d+)$/m.exec(withId)![1];
  assert.equal(newId.length, 10);
  assert.ok(!ws.ids.has(newId));

  const noId = doc('instructions/c.medalign', '---\npatient: 1234555\n---\n## Instruction\nQ\n');
  const a2 = await service.getCodeActions(noId, await service.doValidation(noId, ws), ws);
  const addId = a2.find((a) => a.title.startsWith("Add 'id:"))!;
  assert.match(apply(noId, addId.edit!.changes![noId.uri]), /^---\nid: \d{10}\npatient: 1234555\n/);

  const noSection = doc('instructions/d.medalign', '---\nid: 9\npatient: 1234555\n---\n');
  const a3 = await service.getCodeActions(noSection, await service.doValidation(noSection, ws), ws);
  const add = a3.find((a) => a.title.includes('Instruction'))!;
  assert.match(apply(noSection, add.edit!.changes![noSection.uri]), /---\n\n## Instruction\n\n$/);
});
