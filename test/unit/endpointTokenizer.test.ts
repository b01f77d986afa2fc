/**
 * An endpoint's `tokenizer` setting through the language service (issue 13): hovers, the preview and
 * the run settings count with the hf tokenizer it names, exactly (no ≈), with the chat template; a
 * setting that cannot be used is a problem with a clear message, never a crash or a silent estimate.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { Tokenizer as RustTokenizer } from 'tokenizers';
import { resolveRunSettings } from '../../engine/src/core/features/runSettings';
import { instructionTimeline } from '../../engine/src/core/features/timeline';
import { parseInstruction } from '../../engine/src/core/format/parse';
import { validateConfigData } from '../../engine/src/core/schema/schemas';
import { makeWorkspace, repoRoot, validInstruction } from '../helpers/fixtures';

const MEDBPE = path.join(repoRoot, 'test/fixtures/tokenizers/medbpe');
const json = readFileSync(path.join(MEDBPE, 'tokenizer.json'), 'utf8');
const tokConfig = readFileSync(path.join(MEDBPE, 'tokenizer_config.json'), 'utf8');
const rust = RustTokenizer.fromFile(path.join(MEDBPE, 'tokenizer.json'));

function config(tokenizer: string): string {
  return JSON.stringify({
    recordsFolder: 'records',
    defaults: { model: 'local', context: '8k', strategy: 'recent', template: 'templates/medalign.prompt' },
    endpoints: [
      {
        id: 'local',
        kind: 'openai-compatible',
        baseUrl: 'http://127.0.0.1:8000/v1',
        model: 'med',
        tokenizer,
      },
    ],
  });
}

async function project(tokenizer: string, extra: Record<string, string> = {}) {
  const env = await makeWorkspace({
    'medalign.config.json': config(tokenizer),
    'models/med/tokenizer.json': json,
    'models/med/tokenizer_config.json': tokConfig,
    ...extra,
  });
  const text = validInstruction()
    .replace('model: baseline', 'model: local')
    .replace('context: 32k', 'context: 8k');
  const d = env.doc('instructions/a.medalign', text);
  return { ...env, d, text };
}

const hoverText = (h: unknown): string => {
  const c = (h as { contents?: { value?: string } } | null)?.contents;
  return c?.value ?? '';
};

test('hf:<folder>: hover on the instruction and the record count exactly, with the tokenizer named', async () => {
  const { ws, service, d, text } = await project('hf:models/med');
  const instruction = 'Which antihypertensives were given in the ED?';
  const hov = hoverText(await service.doHover(d, d.positionAt(text.indexOf('## Instruction') + 4), ws));
  const expected = (await rust.encode(instruction, null, { addSpecialTokens: false })).getIds().length;
  assert.match(hov, new RegExp(`\\*\\*${expected} tokens\\*\\* \\(hf:models/med · model local\\)`));
  assert.doesNotMatch(hov, /≈|estimated/);
  const rec = hoverText(await service.doHover(d, d.positionAt(text.indexOf('1234555') + 1), ws));
  const whole = readFileSync(path.join(repoRoot, 'samples/records/1234555.xml'), 'utf8');
  const total = (await rust.encode(whole, null, { addSpecialTokens: false })).getIds().length;
  assert.match(rec, new RegExp(`\\*\\*${total.toLocaleString('en-US')} tokens\\*\\* \\(hf:models/med`));
});

test('hf:<file>: the preview shows the templated text, and the prompt count is of it', async () => {
  const { ws, service, d } = await project('hf:models/med/tokenizer.json');
  const pv = await service.buildPreview(d, ws);
  assert.ok(pv.ok, pv.error);
  assert.ok(pv.templated?.startsWith('<s><|im_start|>user\n'), pv.templated?.slice(0, 40));
  assert.ok(pv.templated?.endsWith('<|im_end|>\n<|im_start|>assistant\n'));
  assert.match(pv.text, /════════ templated: the text the server tokenizes ════════\n<s><\|im_start\|>user/);
  const n = (await rust.encode(pv.templated ?? '', null, { addSpecialTokens: false })).getIds().length;
  assert.equal(pv.pack?.budget.prompt, n);
  assert.equal(pv.pack?.estimated, false);
});

test('cl100k_base and o200k_base settings count with OpenAI chat overhead', async () => {
  const { ws, fs, d } = await project('o200k_base');
  const s = await resolveRunSettings(parseInstruction(d.getText()), d.uri, ws, fs);
  assert.deepEqual(s.tokenizer, {
    encoding: 'o200k_base',
    estimated: false,
    source: 'endpoint',
    chat: { kind: 'openai' },
  });
  assert.deepEqual(s.problems, []);
});

test('a tokenizer that cannot be used is a problem the preview and runs refuse with, in words', async () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    ['hf:models/none', {}, /Endpoint 'local': tokenizer hf:models\/none: models\/none does not exist\./],
    ['hf:models', { 'models/readme.txt': 'x' }, /holds no tokenizer\.json/],
    ['hf:models/bad', { 'models/bad/tokenizer.json': '{oops' }, /tokenizer\.json is not valid JSON/],
    [
      'hf:models/badtpl',
      {
        'models/badtpl/tokenizer.json': json,
        'models/badtpl/tokenizer_config.json': '{"chat_template": "{% for m in messages %}"}',
      },
      /chat template/,
    ],
  ];
  for (const [setting, extra, message] of cases) {
    const { ws, fs, service, d } = await project(setting, extra);
    const s = await resolveRunSettings(parseInstruction(d.getText()), d.uri, ws, fs);
    assert.equal(s.problems[0]?.field, 'tokenizer', setting);
    assert.match(s.problems[0].message, message);
    const pv = await service.buildPreview(d, ws);
    assert.equal(pv.ok, false);
    assert.match(pv.error ?? '', message);
  }
});

test('hf: a tokenizer outside the project (or a link out of it) is not read', async () => {
  const { ws, fs, d } = await project('hf:../elsewhere/tok');
  const s = await resolveRunSettings(parseInstruction(d.getText()), d.uri, ws, fs);
  assert.match(s.problems[0]?.message ?? '', /is not read: it is outside the workspace folder/);
  const env = await project('hf:models/link');
  env.fs.write('file:///outside/tokenizer.json', json);
  env.fs.symlink('models/link', 'file:///outside');
  const s2 = await resolveRunSettings(parseInstruction(env.d.getText()), env.d.uri, env.ws, env.fs);
  assert.match(s2.problems[0]?.message ?? '', /symbolic link/);
});

test('the config schema accepts the four forms and rejects others', () => {
  for (const [value, ok] of [
    ['cl100k_base', true],
    ['o200k_base', true],
    ['server', true],
    ['hf:models/x', true],
    ['hf:', false],
    ['p50k_base', false],
  ] as const) {
    assert.equal(validateConfigData(JSON.parse(config(value))).length === 0, ok, value);
  }
});

test('the timeline counts in the hf tokenizer and names it as the config does', async () => {
  const { ws, fs, d } = await project('hf:models/med');
  const m = await instructionTimeline(parseInstruction(d.getText()), d.uri, ws, fs);
  assert.equal(m.encoding, 'hf:models/med');
  const whole = readFileSync(path.join(repoRoot, 'samples/records/1234555.xml'), 'utf8');
  assert.equal(m.tokens, (await rust.encode(whole, null, { addSpecialTokens: false })).getIds().length);
});
