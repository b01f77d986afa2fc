/**
 * The Record Timeline under `strategy: refine`: its chunks are the pack's steps (one code path,
 * packPrompt), for random records, contexts, orders, step limits and encodings; each chunk's range
 * covers exactly its record text; and the view's message check accepts a refine model and refuses a
 * malformed chunk.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { packPrompt } from '../../engine/src/core/packing/pack';
import type { RefineOrder } from '../../engine/src/core/packing/refine';
import { parseRecord } from '../../engine/src/core/record/parse';
import { TokenCounter } from '../../engine/src/core/tokens/counter';
import type { EncodingName } from '../../engine/src/core/tokens/encodings';
import { buildTimeline } from '../../engine/src/core/timeline/build';
import type { TimelineInput } from '../../engine/src/core/timeline/build';
import type { TimelineRange } from '../../engine/src/core/timeline/model';
import { isTimelineModel } from '../../client/src/timeline/messages';
import { generateRecord, rng } from '../fixtures/recordGenerator';

const counter = new TokenCounter();
const INSTRUCTION = 'List every blood pressure recorded and say whether it is at goal.';

/** The offset of a [line, character] position, computed without the builder's line index. */
function offsetOf(text: string, line: number, ch: number): number {
  let off = 0;
  for (let l = 0; l < line; l++) off = text.indexOf('\n', off) + 1;
  return off + ch;
}
function textOf(text: string, r: TimelineRange): string {
  return text.slice(offsetOf(text, r[0], r[1]), offsetOf(text, r[2], r[3]));
}

test('timeline chunks under refine equal the pack’s steps (random records, contexts, orders, step limits, encodings)', () => {
  const r = rng(1313);
  const encodings: EncodingName[] = ['cl100k_base', 'o200k_base'];
  const orders: RefineOrder[] = ['oldest-first', 'newest-first'];
  let multi = 0;
  for (let trial = 0; trial < 12; trial++) {
    const text = generateRecord({ seed: 400 + trial, targetChars: 20_000 + Math.floor(r() * 80_000) });
    const record = parseRecord(text);
    const input: Omit<TimelineInput, 'label'> = {
      text,
      record,
      instruction: INSTRUCTION,
      context: [2048, 4096, 8192][Math.floor(r() * 3)],
      reserve: [128, 256][Math.floor(r() * 2)],
      strategy: 'refine',
      encoding: encodings[trial % 2],
      counter,
      refine: { order: orders[Math.floor(r() * 2)], maxSteps: 2 + Math.floor(r() * 30) },
    };
    const m = buildTimeline({ ...input, label: 'records/r.xml' });
    const p = packPrompt(input);
    assert.ok(p.refine !== undefined, 'packPrompt plans refine');
    assert.ok(m.refine !== undefined, 'the model carries the chunks');
    assert.equal(m.strategy, 'refine');
    assert.deepEqual(
      m.refine.map((s) => ({
        step: s.step,
        firstVisit: s.firstVisit,
        lastVisit: s.lastVisit,
        events: s.events,
        from: s.from,
        to: s.to,
        tokens: s.tokens,
        recordTokens: s.recordTokens,
      })),
      p.refine.steps.map((s) => ({
        step: s.index + 1,
        firstVisit: s.firstVisit,
        lastVisit: s.lastVisit,
        events: s.events,
        from: s.firstDate?.iso ?? null,
        to: s.lastDate?.iso ?? null,
        tokens: s.tokens,
        recordTokens: s.recordTokens,
      })),
      `trial ${trial}`,
    );
    // Each chunk's range runs from its first piece to its last: the step's record text, in record order.
    m.refine.forEach((s, k) => {
      const ranges = p.refine!.steps[k].ranges;
      const covered = textOf(text, s.range);
      assert.equal(covered, text.slice(ranges[0].start, ranges.at(-1)!.end));
      for (const piece of ranges) assert.ok(covered.includes(text.slice(piece.start, piece.end)));
    });
    if (m.refine.length > 1) multi++;
    assert.ok(isTimelineModel(m), 'the view accepts the model');
  }
  assert.ok(multi >= 6, `most trials need several steps (${multi})`);
});

test('the view refuses a refine model whose chunks are malformed', () => {
  const text = generateRecord({ seed: 77, targetChars: 40_000 });
  const m = buildTimeline({
    text,
    record: parseRecord(text),
    instruction: INSTRUCTION,
    context: 4096,
    reserve: 256,
    strategy: 'refine',
    encoding: 'cl100k_base',
    counter,
    label: 'records/r.xml',
  });
  assert.ok(isTimelineModel(m));
  const bad = (patch: Record<string, unknown>) =>
    JSON.parse(JSON.stringify({ ...m, refine: [{ ...m.refine![0], ...patch }] })) as unknown;
  assert.equal(isTimelineModel(bad({ step: 'one' })), false);
  assert.equal(isTimelineModel(bad({ tokens: null })), false);
  assert.equal(isTimelineModel(bad({ from: 3 })), false);
  assert.equal(isTimelineModel(bad({ range: [0, 0, -1, 0] })), false);
  assert.equal(isTimelineModel({ ...m, refine: 'steps' }), false);
  assert.equal(isTimelineModel({ ...m, strategy: 'refined' }), false);
});
