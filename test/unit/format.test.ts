import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseInstruction, sectionText } from '../../engine/src/core/format/parse';

test('parses front matter and sections with exact offsets', () => {
  const text = '---\nid: 12\npatient: 1234555\n---\n\n## Instruction\nWhat is the BP?\n\n## Notes\nnone\n';
  const f = parseInstruction(text);
  assert.deepEqual(f.problems, []);
  assert.deepEqual(f.data, { id: 12, patient: 1234555 });
  assert.equal(text.slice(f.frontMatter!.open.start, f.frontMatter!.open.end), '---');
  assert.equal(text.slice(f.frontMatter!.close!.start, f.frontMatter!.close!.end), '---');
  assert.deepEqual(
    f.sections.map((s) => s.name),
    ['Instruction', 'Notes'],
  );
  assert.equal(sectionText(f, f.sections[0]), 'What is the BP?');
  assert.equal(text.slice(f.sections[1].nameSpan.start, f.sections[1].nameSpan.end), 'Notes');
});

test('CRLF line endings and a BOM', () => {
  const text = '\ufeff---\r\nid: a1\r\nrecord: x.xml\r\n---\r\n## Instruction\r\nQ?\r\n';
  const f = parseInstruction(text);
  assert.deepEqual(f.problems, []);
  assert.deepEqual(f.data, { id: 'a1', record: 'x.xml' });
  assert.equal(f.sections[0].name, 'Instruction');
  assert.equal(sectionText(f, f.sections[0]), 'Q?');
});

test('missing front matter is an error on line 1', () => {
  const f = parseInstruction('## Instruction\nQ\n');
  assert.equal(f.problems[0].code, 'front-matter-missing');
  assert.equal(f.sections.length, 1);
});

test('unclosed front matter stops at the first heading and sections still parse', () => {
  const f = parseInstruction('---\nid: 1\npatient: 2\n## Instruction\nQ\n');
  assert.ok(f.problems.some((p) => p.code === 'front-matter-unclosed'));
  assert.deepEqual(f.data, { id: 1, patient: 2 });
  assert.equal(f.sections[0].name, 'Instruction');
});

test('YAML syntax errors carry a range inside the front matter', () => {
  const text = '---\nid: 1\ntags: [a, b\n---\n## Instruction\nQ\n';
  const f = parseInstruction(text);
  const e = f.problems.find((p) => p.code === 'yaml-syntax');
  assert.ok(e, 'a yaml-syntax problem');
  assert.ok(e.span.start >= 4 && e.span.end <= text.indexOf('\n---', 4) + 1, 'inside the front matter');
  assert.equal(f.data, undefined);
});

test('duplicate keys are a YAML error', () => {
  const f = parseInstruction('---\nid: 1\nid: 2\n---\n## Instruction\nQ\n');
  assert.ok(f.problems.some((p) => p.code === 'yaml-syntax' && /unique/i.test(p.message)));
});

test('a front matter that is not a mapping', () => {
  const f = parseInstruction('---\n- a\n- b\n---\n## Instruction\nQ\n');
  assert.ok(f.problems.some((p) => p.code === 'front-matter-not-map'));
});

test('stray text before the first section is a warning; comments are not', () => {
  const f = parseInstruction('---\nid: 1\n---\n<!-- a\ncomment -->\nstray\n## Instruction\nQ\n');
  const stray = f.problems.filter((p) => p.code === 'stray-text');
  assert.equal(stray.length, 1);
});

test('empty file and a lone fence never throw', () => {
  for (const t of ['', '---', '---\n', '\n\n', '## ', '---\n---\n']) {
    const f = parseInstruction(t);
    assert.ok(Array.isArray(f.problems));
  }
});

test('sectionText drops HTML comments', () => {
  const f = parseInstruction('---\nid: 1\n---\n## Instruction\n<!-- todo -->\n');
  assert.equal(sectionText(f, f.sections[0]), '');
});

test('a front matter that is a YAML-typed value (!!binary, !!set) is not a mapping', () => {
  for (const fm of ['!!binary aGVsbG8gd29ybGQ=', '!!set {a, b}', '!!omap [a: 1]']) {
    const f = parseInstruction(`---\n${fm}\n---\n## Instruction\nQ\n`);
    assert.equal(f.data, undefined, fm);
    assert.ok(
      f.problems.some((p) => p.code === 'front-matter-not-map' || p.code === 'yaml-syntax'),
      fm,
    );
  }
});
