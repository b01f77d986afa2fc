/**
 * Issue 7 item 9: a hostile front matter (tens of thousands of keys, megabytes, deep nesting) is
 * refused with `front-matter-too-large` before the quadratic part of the `yaml` library runs; the
 * same for `.prompt` templates; an oversized medalign.config.json is not read.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import {
  FRONT_MATTER_LIMITS,
  parseFrontMatterYaml,
  parseInstruction,
} from '../../engine/src/core/format/parse';
import { parseTemplate } from '../../engine/src/core/template/template';
import { CONFIG_MAX_CHARS, CONFIG_MAX_PROBLEMS, parseConfig } from '../../engine/src/core/workspace/config';

const keys = (n: number, from = 0): string =>
  Array.from({ length: n }, (_, i) => `k${i + from}: ${i}`).join('\n');
const instruction = (yaml: string): string => `---\n${yaml}\n---\n## Instruction\nQ\n`;

function tooLarge(yaml: string): string | undefined {
  const f = parseInstruction(instruction(yaml));
  const p = f.problems.find((x) => x.code === 'front-matter-too-large');
  if (p) {
    assert.equal(p.severity, 'error');
    assert.deepEqual(p.span, { start: 0, end: 3 }, 'on the opening ---');
    assert.equal(f.data, undefined, 'nothing is read from it');
    assert.equal(f.sections.length, 1, 'the sections are still parsed');
  }
  return p?.message;
}

test('20,000 keys: refused before parsing, with the limit in the message', () => {
  const m = tooLarge(`id: 1\npatient: 1\n${keys(20_000)}`);
  assert.match(m ?? '', /too large \(\d+ characters; at most 4096\)/);
});

test('each limit: characters, lines, nesting, keys', () => {
  assert.match(tooLarge(`id: "${'x'.repeat(FRONT_MATTER_LIMITS.chars)}"`) ?? '', /characters/);
  assert.match(tooLarge('tags:\n' + '- a\n'.repeat(FRONT_MATTER_LIMITS.lines)) ?? '', /more than 100 lines/);
  assert.match(tooLarge(`tags: ${'['.repeat(17)}${']'.repeat(17)}`) ?? '', /nested more than 16 deep/);
  // 400 keys in one flow mapping fit in 4,096 characters: refused by the key count.
  const flow = `{${Array.from({ length: 400 }, (_, i) => `k${i}: 1`).join(', ')}}`;
  assert.ok(flow.length < FRONT_MATTER_LIMITS.chars);
  assert.match(tooLarge(flow) ?? '', /more than 50 keys/);
  // Nested mappings count too.
  assert.match(tooLarge(`id: 1\nx:\n${keys(51).replace(/^/gm, '  ')}`) ?? '', /more than 50 keys/);
});

test('at the limits a front matter is read as before', () => {
  assert.equal(tooLarge(`id: 1\npatient: 2\n${keys(48)}`), undefined);
  const f = parseInstruction(instruction(`id: 1\npatient: 2\n${keys(48)}`));
  assert.equal(Object.keys(f.data ?? {}).length, 50);
  assert.equal(tooLarge(`tags: ${'['.repeat(16)}${']'.repeat(16)}`), undefined);
});

test('duplicate keys are still found (same rule as yaml uniqueKeys), at the repeated key', () => {
  const text = instruction('id: 1\npatient: 2\nid: 3\nx: {a: 1, b: 2, a: 3}\n1: a\n"1": b');
  const f = parseInstruction(text);
  const dups = f.problems.filter((p) => /unique/i.test(p.message));
  assert.deepEqual(
    dups.map((p) => text.slice(p.span.start, p.span.end)),
    ['i', 'a'],
    'the second `id` and the second `a`; `1` and "1" are different keys',
  );
  assert.ok(dups.every((p) => p.code === 'yaml-syntax' && p.severity === 'error'));
  assert.equal(f.data, undefined);
  const direct = parseFrontMatterYaml('a: 1\nb: 2\na: 3\n');
  assert.deepEqual(
    direct.duplicates.map((d) => d.pos),
    [[10, 11]],
  );
});

test('.prompt template: the same limits (template-front-matter)', () => {
  const big = `---\n${keys(20_000)}\n---\n{{instruction}}\n{{ehr}}\n`;
  const t = parseTemplate(big);
  const d = t.diagnostics.find((x) => x.code === 'template-front-matter');
  assert.ok(d, JSON.stringify(t.diagnostics.slice(0, 3)));
  assert.match(d.message, /too large/);
  assert.equal(t.diagnostics.filter((x) => x.code === 'template-unknown-key').length, 0, 'keys not read');
  const manyKeys = parseTemplate(`---\nname: a\n${keys(60)}\n---\n{{instruction}}\n{{ehr}}\n`);
  assert.ok(manyKeys.diagnostics.some((x) => /more than 50 keys/.test(x.message)));
  const dup = parseTemplate('---\nname: a\nname: b\n---\n{{instruction}}\n{{ehr}}\n');
  assert.ok(dup.diagnostics.some((x) => x.code === 'template-front-matter' && /unique/.test(x.message)));
  const ok = parseTemplate('---\nname: a\ndescription: b\n---\n{{instruction}}\n{{ehr}}\n');
  assert.equal(ok.name, 'a');
  assert.equal(ok.description, 'b');
});

test('medalign.config.json: too large is not read; schema problems are capped', () => {
  const huge = JSON.stringify({ recordsFolder: 'x', pad: 'y'.repeat(CONFIG_MAX_CHARS) });
  const r = parseConfig(huge);
  assert.equal(r.found, true);
  assert.equal(r.config.recordsFolder, 'records', 'defaults apply');
  assert.equal(r.problems.length, 1);
  assert.match(r.problems[0].message, /too large .*at most 262144/);
  const many = parseConfig(
    JSON.stringify(Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, i]))),
  );
  assert.equal(many.problems.length, CONFIG_MAX_PROBLEMS + 1);
  assert.match(many.problems[CONFIG_MAX_PROBLEMS].message, /4980 more problems not shown/);
});
