import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseRecord } from '../../engine/src/core/record/parse';
import {
  DEFAULT_TEMPLATE_SOURCE,
  getDefaultTemplate,
  medalignPrompt,
  recordTemplateValues,
} from '../../engine/src/core/template/defaults';
import type { TemplateValues } from '../../engine/src/core/template/template';
import {
  PLACEHOLDERS,
  completePlaceholder,
  parseTemplate,
  placeholderAt,
  renderTemplate,
  suggestPlaceholder,
} from '../../engine/src/core/template/template';

const sample = readFileSync(
  join(__dirname, '..', '..', '..', 'test', 'fixtures', 'records', 'sample-ehr-clean.xml'),
  'utf8',
);

const values: TemplateValues = {
  ehr: '<record>X</record>',
  instruction: 'What is the latest BP?',
  age: '55',
  sex: 'female',
  record_start: '2018-10-08',
  record_end: '2022-05-15',
};

function codes(src: string): string[] {
  return parseTemplate(src).diagnostics.map((d) => d.code);
}

function slice(src: string, code: string): string {
  const d = parseTemplate(src).diagnostics.find((x) => x.code === code)!;
  return src.slice(d.range.start, d.range.end);
}

test('the built-in default is MedAlign’s prompt with our placeholder names', () => {
  const t = getDefaultTemplate();
  assert.deepEqual(t.diagnostics, []);
  assert.equal(t.name, 'medalign-default');
  assert.equal(t.description, 'The prompt used by the MedAlign paper');
  assert.deepEqual(renderTemplate(t, values), [
    { role: 'user', content: medalignPrompt(values.ehr, values.instruction) },
  ]);
  assert.equal(
    renderTemplate(t, values)[0].content,
    'Instruction: Answer the following question based on the EHR:\n\nEHR: <record>X</record>\n\nQuestion: What is the latest BP?\n\nAnswer:',
  );
  assert.ok(
    DEFAULT_TEMPLATE_SOURCE.includes('{{ehr}}') && DEFAULT_TEMPLATE_SOURCE.includes('{{instruction}}'),
  );
});

test('sections are chat messages in order; blank lines around them are trimmed', () => {
  const src =
    '## system\n\nYou are a clinician ({{sex}}, {{age}}).\n\n## user\nEHR:\n{{ehr}}\n\nQ: {{instruction}}\n\n## assistant\nAnswer:\n\n';
  const t = parseTemplate(src);
  assert.deepEqual(t.diagnostics, []);
  assert.deepEqual(renderTemplate(t, values), [
    { role: 'system', content: 'You are a clinician (female, 55).' },
    { role: 'user', content: 'EHR:\n<record>X</record>\n\nQ: What is the latest BP?' },
    { role: 'assistant', content: 'Answer:' },
  ]);
  assert.equal(src.slice(t.messages[1].headingRange!.start, t.messages[1].headingRange!.end), '## user');
  // Other `##` lines are content, not sections.
  const md = parseTemplate('## user\n## History\n{{ehr}} {{instruction}}');
  assert.equal(md.messages.length, 1);
  assert.equal(
    renderTemplate(md, values)[0].content,
    '## History\n<record>X</record> What is the latest BP?',
  );
});

test('no headings: one user message; CRLF files render with \\n', () => {
  const t = parseTemplate('EHR: {{ ehr }}\r\nQ: {{instruction}}\r\n');
  assert.deepEqual(t.diagnostics, []);
  assert.deepEqual(renderTemplate(t, values), [
    { role: 'user', content: 'EHR: <record>X</record>\nQ: What is the latest BP?' },
  ]);
  const fm = parseTemplate('---\r\nname: crlf\r\n---\r\n## USER\r\n{{ehr}}\r\n{{instruction}}\r\n');
  assert.equal(fm.name, 'crlf');
  assert.deepEqual(fm.diagnostics, []);
  assert.equal(renderTemplate(fm, values)[0].content, '<record>X</record>\nWhat is the latest BP?');
});

test('unknown placeholders: error with the range and a suggestion', () => {
  const src = '{{ehr}}\nQuestion: {{question}} {{ehrr}} {{zzz_top}} {{ 1x }} {{}}\n{{instruction}}';
  const t = parseTemplate(src);
  const unknown = t.diagnostics.filter((d) => d.code === 'template-unknown-placeholder');
  assert.deepEqual(
    unknown.map((d) => src.slice(d.range.start, d.range.end)),
    ['{{question}}', '{{ehrr}}', '{{zzz_top}}', '{{ 1x }}', '{{}}'],
  );
  assert.deepEqual(
    unknown.map((d) => d.suggestion),
    ['instruction', 'ehr', undefined, undefined, undefined],
  );
  assert.ok(unknown.every((d) => d.severity === 'error'));
  assert.match(unknown[0].message, /did you mean `\{\{instruction\}\}`/);
  // Sent as written, so the preview shows the mistake.
  assert.ok(renderTemplate(t, values)[0].content.includes('Question: {{question}} {{ehrr}}'));
  assert.equal(suggestPlaceholder('Record_Star'), 'record_start');
  assert.equal(suggestPlaceholder('gender'), 'sex');
});

test('missing {{ehr}} / {{instruction}}, duplicates, empty messages, stray text', () => {
  assert.deepEqual(codes('Just text'), ['template-missing-ehr', 'template-missing-instruction']);
  assert.deepEqual(codes('{{ehr}}'), ['template-missing-instruction']);
  assert.deepEqual(codes('{{instruction}}'), ['template-missing-ehr']);
  const dup = '{{ehr}} {{instruction}} {{ehr}}';
  assert.deepEqual(codes(dup), ['template-duplicate-ehr']);
  assert.equal(slice(dup, 'template-duplicate-ehr'), '{{ehr}}');
  assert.equal(parseTemplate(dup).diagnostics[0].range.start, dup.lastIndexOf('{{ehr}}'));
  const empty = '## system\n\n## user\n{{ehr}} {{instruction}}';
  assert.deepEqual(codes(empty), ['template-empty-message']);
  assert.equal(slice(empty, 'template-empty-message'), '## system');
  const stray = 'intro text\n## user\n{{ehr}} {{instruction}}';
  assert.deepEqual(codes(stray), ['template-stray-text']);
  assert.equal(slice(stray, 'template-stray-text'), 'intro text');
  assert.equal(parseTemplate(stray).messages.length, 1);
});

test('broken front matter', () => {
  const body = '\n## user\n{{ehr}} {{instruction}}';
  const unclosed = '---\nname: x' + body;
  assert.ok(codes(unclosed).includes('template-front-matter'));
  assert.equal(slice(unclosed, 'template-front-matter'), '---');
  const yamlError = '---\nname: x\ndescription: [unclosed\n---' + body;
  const t = parseTemplate(yamlError);
  const e = t.diagnostics.find((d) => d.code === 'template-front-matter')!;
  assert.equal(e.severity, 'error');
  assert.ok(e.range.start >= 4 && e.range.end <= yamlError.indexOf('\n---'));
  assert.deepEqual(codes('---\n- a\n- b\n---' + body), ['template-front-matter']);
  const unknownKey = '---\nname: x\nmodel: gpt-4o\n---' + body;
  assert.deepEqual(codes(unknownKey), ['template-unknown-key']);
  assert.equal(slice(unknownKey, 'template-unknown-key'), 'model');
  assert.deepEqual(codes('---\nname: [1, 2]\n---' + body), ['template-front-matter']);
  assert.deepEqual(codes('---\n---' + body), []);
});

test('escapes and unclosed braces', () => {
  const t = parseTemplate('Literal \\{{ehr}} then {{ehr}} {{instruction}} and {{ oops\n');
  assert.deepEqual(
    t.diagnostics.map((d) => d.code),
    ['template-unclosed-placeholder'],
  );
  assert.equal(
    renderTemplate(t, values)[0].content,
    'Literal {{ehr}} then <record>X</record> What is the latest BP? and {{ oops',
  );
  assert.equal(t.placeholders.filter((p) => p.name === 'ehr').length, 1);
});

test('values are inserted verbatim, never re-scanned', () => {
  const t = parseTemplate('{{ehr}}|{{instruction}}');
  assert.equal(
    renderTemplate(t, { ...values, ehr: 'has {{instruction}} and $& inside' })[0].content,
    'has {{instruction}} and $& inside|What is the latest BP?',
  );
});

test('placeholder ranges, hover lookup and completion', () => {
  const src = 'EHR: {{ ehr }} Q: {{instruction}}';
  const t = parseTemplate(src);
  const p = placeholderAt(t, src.indexOf('ehr'))!;
  assert.equal(p.name, 'ehr');
  assert.equal(src.slice(p.range.start, p.range.end), '{{ ehr }}');
  assert.equal(src.slice(p.nameRange.start, p.nameRange.end), 'ehr');
  assert.equal(placeholderAt(t, 2), undefined);

  const c1 = completePlaceholder('Q: {{ins', 8)!;
  assert.deepEqual(
    c1.items.map((i) => i.name),
    ['instruction'],
  );
  assert.deepEqual(c1.range, { start: 5, end: 8 });
  assert.equal(c1.closed, false);
  const c2 = completePlaceholder('Q: {{}}', 5)!;
  assert.equal(c2.items.length, PLACEHOLDERS.length);
  assert.equal(c2.closed, true);
  const c3 = completePlaceholder('{{ rec x', 8);
  assert.equal(c3, undefined);
  assert.equal(completePlaceholder('no braces', 5), undefined);
  assert.equal(completePlaceholder('\\{{e', 4), undefined);
  assert.deepEqual(
    completePlaceholder('{{record_', 9)!.items.map((i) => i.name),
    ['record_start', 'record_end'],
  );
});

test('record values: age, sex, date span', () => {
  const r = parseRecord(sample);
  assert.deepEqual(recordTemplateValues(r), {
    age: '55',
    sex: 'female',
    record_start: '2018-10-08',
    record_end: '2022-05-15',
  });
  const noAge = parseRecord(
    '<record><visit start="06/01/2020"><day start="06/01/2020"><person>Birth: 7/19/1966\nGender: MALE</person><note start="06/02/2020 9:00 AM">x</note></day></visit></record>',
  );
  assert.deepEqual(recordTemplateValues(noAge), {
    age: '53',
    sex: 'male',
    record_start: '2020-06-01',
    record_end: '2020-06-02',
  });
  assert.deepEqual(recordTemplateValues(undefined), {
    age: 'unknown',
    sex: 'unknown',
    record_start: 'unknown',
    record_end: 'unknown',
  });
});
