/**
 * `strategy: helm` against an independent re-implementation of HELM's MedAlign request
 * (test/helpers/helmReference.ts, written from HELM's public source with js-tiktoken): byte for
 * byte, on the public sample record with the public sample's instructions and on generated records,
 * at 2k … 128k and with an EHR budget of 0 or less.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'csv-parse/sync';
import type { PackResult } from '../../engine/src/core/packing/pack';
import { STANDARD_CONTEXTS, fitTable, packPrompt } from '../../engine/src/core/packing/pack';
import { parseRecord } from '../../engine/src/core/record/parse';
import { buildTimeline } from '../../engine/src/core/timeline/build';
import { TokenCounter } from '../../engine/src/core/tokens/counter';
import { generateRecord, synthRecord } from '../fixtures/recordGenerator';
import { loadHelmReference } from '../helpers/helmReference';

const reference = loadHelmReference();

const root = join(__dirname, '..', '..', '..');
const sample = readFileSync(join(root, 'test', 'fixtures', 'records', 'sample-ehr-clean.xml'), 'utf8');
const publicInstructions = parse<{ question: string }>(
  readFileSync(join(root, 'test', 'fixtures', 'medalign-public', 'instructions-sample.csv'), 'utf8'),
  { columns: true },
).map((r) => r.question);
const counter = new TokenCounter();

const parsed = new Map<string, ReturnType<typeof parseRecord>>();

function helm(text: string, instruction: string, context: number): PackResult {
  let record = parsed.get(text);
  if (record === undefined) parsed.set(text, (record = parseRecord(text)));
  return packPrompt({
    text,
    record,
    instruction,
    context,
    strategy: 'helm',
    encoding: 'cl100k_base',
    counter,
  });
}

async function assertSame(
  text: string,
  instruction: string,
  context: number,
  what: string,
): Promise<PackResult> {
  const ours = helm(text, instruction, context);
  const ref = (await reference)(text, instruction, context);
  assert.equal(ours.messages.length, 1, what);
  assert.equal(ours.messages[0].role, 'user', what);
  assert.equal(ours.helm?.text, ref.text, `${what}: request text`);
  assert.equal(ours.messages[0].content, ref.text, `${what}: message`);
  assert.equal(ours.ehr, ref.ehr, `${what}: ehr`);
  assert.equal(ours.budget.recordBudget, ref.target, `${what}: budget`);
  return ours;
}

test('helm: the public sample record with each public instruction, 2k … 128k, byte for byte', async () => {
  assert.equal(publicInstructions.length, 62);
  assert.deepEqual(
    STANDARD_CONTEXTS,
    [2, 4, 8, 16, 32, 64, 128].map((k) => k * 1024),
  );
  let cutMidRecord = 0;
  for (const q of publicInstructions) {
    for (const context of STANDARD_CONTEXTS) {
      const r = await assertSame(sample, q, context, `${context} ${q}`);
      if (r.ehr !== sample && r.ehr !== '') cutMidRecord++;
    }
  }
  // The sample is 2,949 tokens: every 2k prompt is cut mid-record, every 4k and larger one keeps it whole.
  assert.equal(cutMidRecord, publicInstructions.length);
});

test('helm: budget of 0 and below gives an empty EHR and still a prompt', async () => {
  const q = publicInstructions[0];
  const helmReference = await reference;
  const zero = helmReference(sample, q, 1024);
  const atZero = 1024 - zero.target; // the context where HELM's budget is exactly 0
  for (const context of [256, atZero - 1, atZero]) {
    const r = await assertSame(sample, q, context, `context ${context}`);
    assert.ok(r.budget.recordBudget <= 0);
    assert.equal(r.ehr, '');
    assert.equal(
      r.helm?.text,
      `\nQuestion: Instruction: Answer the following question based on the EHR:\n\nEHR: \n\nQuestion: ${q}\n\nAnswer:\n`,
    );
    assert.ok(r.warnings.some((w) => /empty EHR/.test(w)));
  }
  const one = await assertSame(sample, q, atZero + 1, 'budget 1');
  assert.equal(one.budget.recordBudget, 1);
  assert.ok(one.ehr.length > 0 && sample.endsWith(one.ehr));
  assert.equal(one.budget.record, 1);
  // An instruction longer than the context: negative budget, the prompt is still there.
  const long = 'Summarise every medication. '.repeat(400);
  const r = await assertSame(sample, long, 2048, 'long instruction');
  assert.ok(r.budget.recordBudget < 0);
  assert.ok(r.ok);
  assert.ok(r.budget.prompt > r.budget.limit);
  assert.ok(r.warnings.some((w) => /HELM sends it anyway/.test(w)));
});

test('helm: generated records (quirks, CRLF, non-ASCII) at 2k … 128k, byte for byte', async () => {
  const records = [
    generateRecord({ seed: 11, targetChars: 560_000 }),
    synthRecord({ seed: 5, targetChars: 80_000, quirks: true }),
    synthRecord({ seed: 9, targetChars: 60_000, quirks: true }),
    // CRLF: HELM reads in text mode.
    generateRecord({ seed: 3, targetChars: 40_000 }).replace(/\n/g, '\r\n'),
  ];
  const q = 'What antihypertensives were given in the ED, and what was the blood pressure after?';
  for (const [i, text] of records.entries()) {
    for (const context of STANDARD_CONTEXTS) await assertSame(text, q, context, `record ${i} at ${context}`);
  }
});

test('helm: a cut through a multi-byte character starts the EHR with U+FFFD, as tiktoken decodes', async () => {
  const body = '<record>\n<visit type="x" start="01/02/2020 10:00">\n<day start="01/02/2020 10:00">\n';
  const text = `${body}<note start="01/02/2020 10:00">${'日本語の記録 🙂 '.repeat(400)}</note>\n</day>\n</visit>\n</record>\n`;
  let sawSplit = false;
  for (let context = 400; context < 460; context++) {
    const r = await assertSame(text, 'Q?', context, `context ${context}`);
    if (r.helm?.splitCharacter) sawSplit = true;
  }
  assert.ok(sawSplit, 'some size cuts through a character');
});

test('helm: what it reports — counts in cl100k_base, where the cut falls, the difference from recent', () => {
  const q = publicInstructions[3];
  const r = helm(sample, q, 2048);
  const h = r.helm!;
  assert.equal(r.encoding, 'cl100k_base');
  assert.equal(r.budget.template, 25, 'HELM counts the raw template string, {ehr} and {question} included');
  assert.equal(h.recordTokens, 2949);
  assert.equal(h.wellFormed, false);
  assert.ok(h.cutLine !== undefined && h.cutLine > 1);
  // The cut is at that line and column of the file.
  const line = sample.split('\n')[h.cutLine - 1];
  assert.ok(r.ehr.startsWith(line.slice(h.cutColumn! - 1)));
  assert.match(h.cutInside ?? '', /visit \d of 3/);
  assert.ok(r.keptRanges.length === 1 && r.keptRanges[0].end === sample.length);
  assert.equal(sample.slice(r.keptRanges[0].start), r.ehr);
  assert.equal(r.budget.record, r.kept.tokens);
  assert.equal(r.kept.tokens + r.cut.tokens, 2949);
  assert.ok(r.visits.some((v) => v.state === 'partial'));
  assert.ok(h.recent?.ok);
  assert.ok(h.recent.keptTokens < r.kept.tokens, 'recent gives up whole elements');
  assert.ok(h.differences.some((d) => /Well-formed XML: helm no .* recent yes/.test(d)));
  assert.ok(r.warnings.some((w) => /keeps an instruction only when its whole record fits/.test(w)));
  // At 4k the whole record fits: no cut, well-formed, the same EHR as recent sends.
  const w = helm(sample, q, 4096);
  assert.equal(w.ehr, sample);
  assert.equal(w.helm?.wellFormed, true);
  assert.equal(w.cut.tokens, 0);
});

test('helm: the fit table uses HELM budget and count', async () => {
  const q = publicInstructions[0];
  const fit = fitTable({
    text: sample,
    record: parseRecord(sample),
    instruction: q,
    strategy: 'helm',
    encoding: 'o200k_base',
    counter,
  });
  assert.equal(fit.strategy, 'helm');
  assert.equal(fit.encoding, 'cl100k_base');
  assert.equal(fit.total, 2949);
  assert.equal(fit.template, 25);
  const helmReference = await reference;
  for (const row of fit.rows) {
    const ref = helmReference(sample, q, row.context);
    assert.equal(row.recordBudget, ref.target);
    assert.equal(row.fitsWhole, ref.keptByCurrentHelm);
  }
  assert.equal(fit.rows[0].fitsWhole, false);
  assert.ok(fit.rows[0].partial);
  assert.equal(fit.rows[1].fitsWhole, true);
});

test('helm: the timeline draws HELM’s cut at each context, the same as packPrompt keeps', () => {
  const q = publicInstructions[0];
  const record = parseRecord(sample);
  const input = {
    text: sample,
    record,
    instruction: q,
    encoding: 'o200k_base' as const,
    counter,
    strategy: 'helm' as const,
  };
  const m = buildTimeline({ ...input, context: 2048, contexts: [2048, 4096], label: 'sample' });
  assert.equal(m.strategy, 'helm');
  const [c2, c4] = m.cuts;
  const p2 = packPrompt({ ...input, context: 2048 });
  assert.equal(c2.keptTokens, p2.kept.tokens);
  assert.equal(c2.fits, false);
  assert.notEqual(c2.firstKept, null);
  assert.equal(c4.fits, true);
  assert.equal(c4.keptTokens, 2949);
  assert.ok(m.visits.some((v) => v.state === 'partial'));
});
