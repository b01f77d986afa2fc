import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { parseInstruction } from '../../engine/src/core/format/parse';
import { makeWorkspace, validInstruction } from '../helpers/fixtures';
import { MemFs } from '../helpers/memfs';
import { mulberry32, mutate } from '../helpers/mutate';

const BASES = [
  validInstruction(),
  validInstruction('abc').replace('patient: 1234555', 'record: ../records/1234555.xml'),
  '---\nid: 1\n---\n',
  '## Instruction\nno front matter\n',
  '',
];

test('fuzz: 3,000 mutated files through the parser and every feature, no exception escapes', async () => {
  const { ws, service } = await makeWorkspace();
  const rnd = mulberry32(20261127);
  let checked = 0;
  let withProblems = 0;
  for (let i = 0; i < 3000; i++) {
    const text = mutate(BASES[i % BASES.length], rnd);
    const uri = MemFs.uri(`instructions/fuzz${i % 50}.medalign`);
    ws.updateInstruction(uri, text);
    const doc = TextDocument.create(uri, 'medalign', i, text);
    const diagnostics = await service.doValidation(doc, ws);
    if (diagnostics.length > 0) withProblems++;
    for (const d of diagnostics) {
      assert.ok(d.range.start.line <= d.range.end.line, 'ranges are ordered');
      assert.ok(d.range.end.line < doc.lineCount, 'ranges stay inside the document');
      assert.equal(typeof d.message, 'string');
    }
    // Every feature at a few positions, including the ends.
    const positions = [
      0,
      text.length,
      Math.floor(rnd() * (text.length + 1)),
      Math.floor(rnd() * (text.length + 1)),
    ];
    for (const off of positions) {
      const pos = doc.positionAt(off);
      await service.doComplete(doc, pos, ws);
      await service.doHover(doc, pos, ws);
      await service.findDefinition(doc, pos, ws);
    }
    await service.findDocumentSymbols(doc, ws);
    service.getFoldingRanges(doc);
    await service.getCodeActions(doc, diagnostics, ws);
    checked++;
  }
  assert.equal(checked, 3000);
  assert.ok(withProblems > 2000, `most mutants are reported as broken (${withProblems})`);
});

test('fuzz: pure random bytes and pathological inputs parse', () => {
  const rnd = mulberry32(7);
  for (let i = 0; i < 500; i++) {
    let s = '';
    const len = Math.floor(rnd() * 400);
    for (let j = 0; j < len; j++) s += String.fromCharCode(Math.floor(rnd() * 0x10000));
    const f = parseInstruction(rnd() < 0.5 ? '---\n' + s : s);
    assert.ok(Array.isArray(f.sections));
  }
  const huge = parseInstruction('---\nid: 1\n---\n## Instruction\n' + 'y'.repeat(2_000_000));
  assert.equal(huge.sections.length, 1);
  const deep = parseInstruction('---\nid: ' + '['.repeat(10_000) + '\n---\n');
  assert.ok(deep.problems.length > 0);
  const aliases = parseInstruction(
    '---\na: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n---\n',
  );
  assert.ok(
    aliases.problems.some((p) => p.code === 'yaml-syntax'),
    'a billion-laughs front matter is refused',
  );
});
