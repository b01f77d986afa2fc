/**
 * `strategy: refine` (core/packing/refine.ts): chunks split at element boundaries, every step within
 * its budget (counted independently), the order, the step limit, the refine template's `{{answer}}`,
 * and the settings' resolution (front matter over config) with the endpoint's context window.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { parseRecord } from '../../engine/src/core/record/parse';
import { TokenCounter } from '../../engine/src/core/tokens/counter';
import { getTokenizer } from '../../engine/src/core/tokens/encodings';
import type { EncodingName } from '../../engine/src/core/tokens/encodings';
import { packPrompt } from '../../engine/src/core/packing/pack';
import {
  ANSWER_MARK,
  displayMessages,
  fillAnswer,
  planRefine,
  refineLabel,
} from '../../engine/src/core/packing/refine';
import type { RefineInput, RefinePlan } from '../../engine/src/core/packing/refine';
import { parseTemplate } from '../../engine/src/core/template/template';
import { resolveRunSettings, packRequest } from '../../engine/src/core/features/runSettings';
import {
  contextWindowProblem,
  largestStandardSize,
  promptWindowProblem,
} from '../../engine/src/core/features/contextWindow';
import { buildTimeline } from '../../engine/src/core/timeline/build';
import { generateRecord, rng, synthRecord } from '../fixtures/recordGenerator';
import { makeWorkspace, validInstruction } from '../helpers/fixtures';

const counter = new TokenCounter();
const INSTRUCTION = 'List every blood pressure recorded and say whether it is at goal.';

function plan(text: string, over: Partial<RefineInput> = {}): RefinePlan {
  return planRefine({
    text,
    record: parseRecord(text),
    instruction: INSTRUCTION,
    context: 4096,
    reserve: 256,
    encoding: 'cl100k_base',
    counter,
    ...over,
  });
}

/** The record text of a step: the `<record>` … `</record>` of its ranges. */
function stepEhr(text: string, p: RefinePlan, k: number): string {
  return p.steps[k].ranges.map((r) => text.slice(r.start, r.end)).join('');
}

test('every step is a well-formed record cut at element boundaries, within its budget counted independently (random records, contexts, encodings)', () => {
  const r = rng(1313);
  for (let k = 0; k < 16; k++) {
    const text =
      k % 4 === 0
        ? synthRecord({ seed: k + 3, targetChars: 30_000 + Math.floor(r() * 60_000), quirks: true })
        : generateRecord({ seed: k + 3, targetChars: 40_000 + Math.floor(r() * 120_000) });
    const record = parseRecord(text);
    const enc: EncodingName = r() < 0.5 ? 'cl100k_base' : 'o200k_base';
    const context = 2048 + Math.floor(r() * 8000);
    const reserve = 64 + Math.floor(r() * 400);
    const p = plan(text, { encoding: enc, context, reserve, refine: { maxSteps: 1000 } });
    assert.equal(p.ok, true, p.error);
    assert.ok(p.steps.length >= 1);
    const tok = getTokenizer(enc);
    let events = 0;
    for (const [i, step] of p.steps.entries()) {
      const ehr = stepEhr(text, p, i);
      const parsed = parseRecord(ehr);
      assert.equal(parsed.ok, true, `step ${i + 1} is well-formed XML with a <record> root`);
      assert.equal(parsed.eventCount, step.events, `step ${i + 1}: whole events only`);
      events += step.events;
      // Independent count of the step's messages, with room for a previous answer of `reserve` tokens.
      const n = step.messages.reduce((a, m) => a + tok.count(m.content), 0);
      assert.equal(n, step.tokens, `step ${i + 1}: exact tokens`);
      const answerRoom = i === 0 ? 0 : reserve * step.answerSlots.length;
      assert.ok(
        n + answerRoom <= context - reserve,
        `step ${i + 1}: ${n} + ${answerRoom} ≤ ${context - reserve}`,
      );
      assert.ok(
        step.messages.some((m) => m.content.includes(ehr)),
        'the chunk is in the prompt as cut',
      );
    }
    assert.equal(events, record.eventCount, 'every event is sent exactly once');
  }
});

test('order: oldest-first sends the oldest chunk first and the newest last; newest-first the reverse', () => {
  const text = generateRecord({ seed: 77, targetChars: 150_000 });
  const record = parseRecord(text);
  const oldest = plan(text, { refine: { order: 'oldest-first', maxSteps: 1000 } });
  const newest = plan(text, { refine: { order: 'newest-first', maxSteps: 1000 } });
  assert.ok(oldest.steps.length > 3);
  const starts = (p: RefinePlan) => p.steps.map((s) => s.firstDate!.epochMs);
  const o = starts(oldest);
  const n = starts(newest);
  assert.deepEqual(
    o,
    [...o].sort((a, b) => a - b),
  );
  assert.deepEqual(
    n,
    [...n].sort((a, b) => b - a),
  );
  assert.equal(oldest.steps.at(-1)!.lastDate!.iso, record.lastDate!.iso, 'the newest evidence speaks last');
  assert.equal(newest.steps[0].lastDate!.iso, record.lastDate!.iso);
  assert.equal(oldest.order, 'oldest-first');
  // The first step uses the prompt template, the others the refine template with the answer's slot.
  assert.equal(oldest.steps[0].answerSlots.length, 0);
  assert.ok(oldest.steps.slice(1).every((s) => s.answerSlots.length === 1));
});

test('step limit: only the newest chunks are sent, with a warning that says how many were left out', () => {
  const text = generateRecord({ seed: 78, targetChars: 150_000 });
  const record = parseRecord(text);
  const all = plan(text, { refine: { maxSteps: 1000 } });
  const limited = plan(text, { refine: { maxSteps: 3 } });
  assert.equal(limited.steps.length, 3);
  assert.ok(all.chunks > 3);
  assert.equal(limited.chunks, all.chunks);
  assert.match(
    limited.warnings.join('\n'),
    new RegExp(
      `needs ${all.chunks} refine steps; the step limit is 3: the oldest ${all.chunks - 3} chunks are not sent`,
    ),
  );
  assert.equal(limited.steps.at(-1)!.lastDate!.iso, record.lastDate!.iso);
  const newestFirst = plan(text, { refine: { maxSteps: 3, order: 'newest-first' } });
  assert.equal(newestFirst.steps[0].lastDate!.iso, record.lastDate!.iso);
  assert.equal(refineLabel(3), 'refine · 3 steps');
  assert.equal(refineLabel(1), 'refine · 1 step');
});

test('a visit larger than a step is split between its days or events; an event larger than a step is an error', () => {
  const text = generateRecord({ seed: 79, targetChars: 120_000 });
  const record = parseRecord(text);
  // A context so small that the largest visits must be cut inside.
  const p = plan(text, { context: 2048, reserve: 64, refine: { maxSteps: 1000 } });
  assert.equal(p.ok, true, p.error);
  const split = p.steps.filter((s, i) => i > 0 && s.firstVisit === p.steps[i - 1].lastVisit);
  assert.ok(split.length > 0, 'some visit spans two steps');
  assert.equal(
    p.steps.reduce((n, s) => n + s.events, 0),
    record.eventCount,
  );
  const tiny = plan(text, { context: 420, reserve: 16 });
  assert.equal(tiny.ok, false);
  assert.match(tiny.error!, /needs [\d,]+ tokens, more than a refine step's|without any record/);
});

test('the refine template must use {{answer}} and {{ehr}}; fillAnswer puts the previous answer in its slots', () => {
  const text = generateRecord({ seed: 80, targetChars: 60_000 });
  const bad = plan(text, { refine: { template: parseTemplate('## user\n{{ehr}}\n{{instruction}}\n') } });
  assert.equal(bad.ok, false);
  assert.match(bad.error!, /never uses \{\{answer\}\}/);
  const own = parseTemplate('## system\nSo far: {{answer}}\n## user\nMore: {{ehr}}\nQ: {{instruction}}\n');
  const p = plan(text, { refine: { template: own, maxSteps: 1000 } });
  assert.equal(p.ok, true, p.error);
  const step = p.steps[1];
  const filled = fillAnswer(step.messages, step.answerSlots, 'BP 128/76 on 2020-03-01.');
  assert.equal(filled[0].content, 'So far: BP 128/76 on 2020-03-01.');
  assert.equal(displayMessages(step)[0].content, `So far: ${ANSWER_MARK}`);
  assert.ok(filled[1].content.startsWith('More: <record'));
});

test('packPrompt with strategy refine: the first step as the prompt, the steps, the whole record kept', () => {
  const text = generateRecord({ seed: 81, targetChars: 100_000 });
  const r = packPrompt({
    text,
    record: parseRecord(text),
    instruction: INSTRUCTION,
    context: 8192,
    reserve: 256,
    strategy: 'refine',
    encoding: 'cl100k_base',
    counter,
    refine: { maxSteps: 1000 },
  });
  assert.equal(r.ok, true);
  assert.equal(r.strategy, 'refine');
  assert.ok(r.refine!.steps.length > 1);
  assert.deepEqual(r.messages, r.refine!.steps[0].messages);
  assert.equal(r.cut.events, 0);
  assert.ok(r.visits.every((v) => v.state === 'kept'));
  assert.ok(r.budget.prompt <= r.budget.limit);
});

test('context window: the one sentence, the largest standard size that fits', () => {
  const ep = { id: 'local-vllm', contextWindow: 32768 };
  assert.equal(contextWindowProblem(32768, '32k', ep), undefined);
  const p = contextWindowProblem(65536, '64k', ep)!;
  assert.equal(
    p.message,
    "Context 64k (65,536 tokens) is larger than the context window of 'local-vllm' (32,768 tokens, contextWindow in medalign.config.json): use 32k or less.",
  );
  assert.equal(p.fit, '32k');
  assert.equal(largestStandardSize(30000), '16k');
  assert.equal(largestStandardSize(1000), undefined);
  assert.match(
    contextWindowProblem(5000, '5000', { id: 'x', contextWindow: 1500 })!.message,
    /Context 5,000 tokens .* use a token count of at most 1,500\./,
  );
  assert.equal(contextWindowProblem(999_999, '999999', { id: 'x' }), undefined, 'no window: no problem');
  assert.match(
    promptWindowProblem(32700, 256, ep)!.message,
    /need 32,956 tokens, more than the context window of 'local-vllm'/,
  );
});

test('run settings: refine: in the front matter over defaults.refine; a context above the window is a problem', async () => {
  const config = JSON.stringify({
    recordsFolder: 'records',
    defaults: {
      model: 'local-vllm',
      context: '8k',
      strategy: 'refine',
      refine: { order: 'newest-first', maxSteps: 7, template: 'templates/refine.prompt' },
    },
    endpoints: [
      {
        id: 'local-vllm',
        kind: 'openai-compatible',
        baseUrl: 'http://127.0.0.1:8000/v1',
        model: 'llama',
        contextWindow: 32768,
      },
    ],
  });
  const { ws, fs, service, doc } = await makeWorkspace({
    'medalign.config.json': config,
    'templates/refine.prompt': '## user\n{{ehr}}\n{{instruction}}\nSo far: {{answer}}\n',
    'instructions/own.prompt': '## user\nMine {{ehr}} {{instruction}} {{answer}}\n',
  });
  await ws.loadConfig();
  const base = validInstruction(1, '').replace(
    /model: baseline\n|context: 32k\n|strategy: recent\n|template: .*\n/g,
    '',
  );
  const d1 = doc('instructions/a.medalign', base);
  const s1 = await resolveRunSettings(service.parse(d1).file, d1.uri, ws, fs);
  assert.deepEqual(s1.problems, []);
  assert.equal(s1.strategy, 'refine');
  assert.equal(s1.refine?.order, 'newest-first');
  assert.equal(s1.refine?.maxSteps, 7);
  assert.match(s1.refine?.templateSource ?? '', /So far/);
  assert.deepEqual(packRequest(s1).refine, {
    order: 'newest-first',
    maxSteps: 7,
    template: s1.refine?.templateSource,
  });

  const d2 = doc(
    'instructions/b.medalign',
    base.replace('tags:', 'refine: { order: oldest-first, maxSteps: 3, template: own.prompt }\ntags:'),
  );
  const s2 = await resolveRunSettings(service.parse(d2).file, d2.uri, ws, fs);
  assert.equal(s2.refine?.order, 'oldest-first');
  assert.equal(s2.refine?.maxSteps, 3);
  assert.match(s2.refine?.templateSource ?? '', /^## user\nMine/);

  const d3 = doc(
    'instructions/c.medalign',
    base.replace('tags:', 'refine: { template: missing.prompt }\ntags:'),
  );
  const s3 = await resolveRunSettings(service.parse(d3).file, d3.uri, ws, fs);
  assert.equal(s3.problems[0]?.field, 'refine');
  assert.match(s3.problems[0].message, /The refine template instructions\/missing\.prompt does not exist\./);

  const d4 = doc('instructions/d.medalign', base.replace('tags:', 'context: 64k\ntags:'));
  const s4 = await resolveRunSettings(service.parse(d4).file, d4.uri, ws, fs);
  assert.deepEqual(
    s4.problems.map((p) => p.message),
    [
      "Context 64k (65,536 tokens) is larger than the context window of 'local-vllm' (32,768 tokens, contextWindow in medalign.config.json): use 32k or less.",
    ],
  );
});

test('the timeline shows the refine chunks in the order they are sent', () => {
  const text = generateRecord({ seed: 82, targetChars: 100_000 });
  const record = parseRecord(text);
  const m = buildTimeline({
    text,
    record,
    instruction: INSTRUCTION,
    context: 4096,
    reserve: 256,
    strategy: 'refine',
    encoding: 'cl100k_base',
    counter,
    label: 'records/r.xml',
    refine: { maxSteps: 1000 },
  });
  assert.ok(m.refine !== undefined && m.refine.length > 1);
  assert.deepEqual(
    m.refine.map((s) => s.step),
    m.refine.map((_, k) => k + 1),
  );
  assert.equal(
    m.refine.reduce((n, s) => n + s.events, 0),
    record.eventCount,
  );
  for (let k = 1; k < m.refine.length; k++) assert.ok(m.refine[k].firstVisit >= m.refine[k - 1].lastVisit);
  assert.ok(
    m.visits.every((v) => v.state === 'kept'),
    'every visit is sent',
  );
  const newest = buildTimeline({
    text,
    record,
    instruction: INSTRUCTION,
    context: 4096,
    reserve: 256,
    strategy: 'refine',
    encoding: 'cl100k_base',
    counter,
    label: 'records/r.xml',
    refine: { maxSteps: 1000, order: 'newest-first' },
  });
  assert.equal(newest.refine![0].lastVisit, record.visits.length - 1, 'the cache keys on the refine order');
});
