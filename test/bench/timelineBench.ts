/**
 * The record timeline model (issue 10): built warm (the record parsed and counted, as in the
 * server's worker after the first hover) on a 2 MB generated record and on a 50k-event record, and
 * the cut update after a `context:` change. Floor: one `packPrompt` at 32k with a new instruction,
 * measured in the same run (the timeline's cut lines are packPrompt at each context). Medians.
 */
import { packPrompt } from '../../engine/src/core/packing/pack';
import { parseRecord } from '../../engine/src/core/record/parse';
import { TokenCounter } from '../../engine/src/core/tokens/counter';
import type { EncodingName } from '../../engine/src/core/tokens/encodings';
import { buildTimeline } from '../../engine/src/core/timeline/build';
import type { TimelineInput } from '../../engine/src/core/timeline/build';
import { VIEW_PREVIEW_CHARS } from '../../engine/src/core/workspace/recordEngine';
import type { TimelineRequest } from '../../engine/src/core/workspace/recordEngine';
import { WorkerRecordEngine } from '../../server/src/node/workerRecordEngine';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { decodeTimeline, encodeTimeline } from '../../engine/src/core/timeline/wire';
import type { TimelineWire } from '../../engine/src/core/timeline/wire';
import { generateRecord, mulberry32 } from '../fixtures/recordGenerator';
import { fmt, median, row } from './stats';

function time<T>(fn: () => T): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

function med(reps: number, fn: (i: number) => unknown): number {
  const xs: number[] = [];
  for (let i = 0; i < reps; i++) xs.push(time(() => fn(i)));
  return median(xs);
}

const pad = (n: number) => String(n).padStart(2, '0');
const usDate = (ms: number) => {
  const d = new Date(ms);
  return `${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
};

/**
 * `events` small events (labs, medications, conditions, procedures, short notes) in 500 visits
 * over twelve years with long gaps: a dense record like the largest real ones. (generateRecord's
 * events average ~500 characters, so 50k of them would pass the 8 MiB record limit.)
 */
export function denseRecord(events: number, seed = 7): string {
  const r = mulberry32(seed);
  const kinds: [string, string][] = [
    ['measurement', '[LOINC/8480-6] Systolic blood pressure {n} mm Hg'],
    ['measurement', '[LOINC/2345-7] Glucose {n} mg/dL'],
    ['drug_exposure', '[RxNorm/6809] Metformin 500 MG Oral Tablet'],
    ['condition_occurrence', '[ICD10/E11.9] Type 2 diabetes mellitus without complications'],
    ['procedure_occurrence', '[SNOMED/268400002] 12 lead ECG'],
    ['observation', '[LOINC/LP21258-6] Oxygen saturation {n} %'],
  ];
  const visits = 500;
  const perVisit = Math.ceil(events / visits);
  let t = Date.UTC(2010, 0, 4, 8, 0);
  const out: string[] = ['<record>\n'];
  let made = 0;
  for (let v = 0; v < visits && made < events; v++) {
    // Busy months and years-long gaps.
    t += (r() < 0.1 ? 200 + Math.floor(r() * 500) : 1 + Math.floor(r() * 10)) * 86_400_000;
    out.push(`    <visit type="Office Visit" start="${usDate(t)}">\n`);
    const days = 1 + Math.floor(r() * 4);
    for (let d = 0; d < days && made < events; d++) {
      const day = t + d * 86_400_000;
      out.push(`        <day start="${usDate(day)}">\n`);
      const n = Math.ceil(perVisit / days);
      for (let e = 0; e < n && made < events; e++, made++) {
        const at = usDate(day + e * 60_000);
        if (r() < 0.05) {
          out.push(
            `            <note type="progress note" start="${at}">Seen in clinic, stable, continue plan ${e}.</note>\n`,
          );
          continue;
        }
        const [tag, code] = kinds[Math.floor(r() * kinds.length)];
        out.push(
          `            <${tag} start="${at}"><code>${code.replace('{n}', String(60 + Math.floor(r() * 120)))}</code></${tag}>\n`,
        );
      }
      out.push('        </day>\n');
    }
    out.push('    </visit>\n');
  }
  out.push('</record>\n');
  return out.join('');
}

const INSTRUCTION = 'What was the most recent hemoglobin A1c, and has metformin been changed since?';
let serial = 0;

export function runTimelineBench(): void {
  const enc: EncodingName = 'cl100k_base';
  console.log(
    '\nRecord timeline model (issue 10) — cl100k_base, medians; the record parsed and counted first',
  );
  const cases: [string, string][] = [
    ['2 MB generated record (long notes)', generateRecord({ seed: 42, targetChars: 2_000_000 })],
    ['2 MB dense record', denseRecord(16_000)],
    ['50k-event record', denseRecord(50_000)],
  ];
  for (const [label, text] of cases) {
    const record = parseRecord(text);
    const counter = new TokenCounter();
    const counts = counter.countRecord(text, record, enc);
    const base: TimelineInput = {
      text,
      record,
      instruction: INSTRUCTION,
      encoding: enc,
      counter,
      context: 32_768,
      strategy: 'recent',
      label: 'r.xml',
    };
    // First model of this record (per-event counts and labels; every context packed).
    const firstMs = time(() => buildTimeline(base));
    // Floor: one pack at 32k with a new instruction (the record's counts warm).
    const floorMs = med(5, () => packPrompt({ ...base, instruction: `${INSTRUCTION} (${++serial})` }));
    // Warm: the view asks again (editor switched back, window focus): same settings.
    const warmMs = med(7, () => buildTimeline(base));
    // The instruction's text edited: every context's prompt is rendered and counted anew.
    const newQuestionMs = med(5, () =>
      buildTimeline({ ...base, instruction: `${INSTRUCTION} (${++serial})` }),
    );
    // `context:` edited in the front matter: to another standard size, and to a size of its own.
    const standardMs = med(7, (i) => buildTimeline({ ...base, context: i % 2 === 0 ? 8192 : 65_536 }));
    const ownMs = med(5, (i) => buildTimeline({ ...base, context: 20_000 + ++serial + i }));
    const bm25Ms = med(5, () => buildTimeline({ ...base, strategy: 'bm25' }));
    const model = buildTimeline(base);
    const json = JSON.stringify(model);
    console.log(
      `\n  ${label}: ${text.length.toLocaleString('en-US')} chars, ${counts.total.toLocaleString('en-US')} tokens, ` +
        `${record.visits.length} visits, ${record.eventCount.toLocaleString('en-US')} events`,
    );
    row('first model of a record (per-event counts, 8 packs)', fmt(firstMs));
    row('floor: packPrompt at 32k, new instruction', fmt(floorMs));
    row('model warm (same settings again)', fmt(warmMs), '< 150 ms');
    row('model after the instruction text changed', fmt(newQuestionMs));
    row('cut update: context: to another standard size', fmt(standardMs), '< 100 ms');
    row('cut update: context: to a size of its own', fmt(ownMs), '< 100 ms');
    row('model under bm25 (same settings again)', fmt(bm25Ms));
    row('JSON payload', `${(json.length / 1024 / 1024).toFixed(2)} MB`);
    row('  per event', `${Math.round(json.length / Math.max(1, record.eventCount))} bytes`);
    // The view's wire format (core/timeline/wire.ts): columns, strings interned, previews by id.
    const wire = JSON.stringify(encodeTimeline(model));
    row('wire payload (columns, big previews by id)', `${(wire.length / 1024 / 1024).toFixed(2)} MB`);
    row(
      'worker → server: structured clone of the model / encode + clone of the columns',
      `${fmt(med(3, () => structuredClone(model)))} / ${fmt(med(3, () => structuredClone(encodeTimeline(model, { previews: true }))))}`,
    );
    row(
      'server → page: stringify + parse of the model / encode, stringify, parse, decode of the columns',
      `${fmt(med(3, () => JSON.parse(JSON.stringify(model))))} / ${fmt(
        med(3, () => decodeTimeline(JSON.parse(JSON.stringify(encodeTimeline(model))) as TimelineWire)),
      )}`,
    );
    row('ratio model warm / floor', `${(warmMs / floorMs).toFixed(2)}x`);
    row('ratio cut update (own size) / floor', `${(ownMs / floorMs).toFixed(2)}x`);
    row('ratio new instruction / floor (8 packs)', `${(newQuestionMs / floorMs).toFixed(2)}x`);
  }
}

if (require.main === module) runTimelineBench();

/**
 * The record worker (dist/recordWorker.js, through WorkerRecordEngine as the server uses it): the
 * view's first request for a big record while the worker warms another, counted, 50k-event record
 * (a long job, done in slices between which requests are answered), against the same request when
 * the worker is idle. Medians of 5, each with fresh records.
 */
export async function runTimelineWorkerBench(): Promise<void> {
  const workerPath = path.join(__dirname, '..', '..', '..', 'dist', 'recordWorker.js');
  console.log('\nRecord worker (issue 10): the view’s first request while the worker warms another record');
  const big = denseRecord(50_000);
  const other = denseRecord(16_000, 9);
  const req = (label: string, context: number): TimelineRequest => ({
    encoding: 'cl100k_base',
    estimated: false,
    instruction: INSTRUCTION,
    reserve: 256,
    context,
    strategy: 'recent',
    label,
  });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const busy: number[] = [];
  const idle: number[] = [];
  // The worker does not keep the process alive (the server's connection does): this does.
  const alive = setInterval(() => undefined, 1_000);
  for (let i = 0; i < 5; i++) {
    const engine = new WorkerRecordEngine(workerPath);
    try {
      await engine.load(`file:///big${i}.xml`, 'k', () => Promise.resolve(big));
      await engine.load(`file:///other${i}.xml`, 'k', () => Promise.resolve(other));
      // Counting the big record: once idle, the worker warms its timeline (~0.5 s of work).
      await engine.counts(`file:///big${i}.xml`, 'k', 'cl100k_base', true);
      await sleep(300);
      let t = performance.now();
      await engine.timelineView(`file:///other${i}.xml`, 'k', req('o.xml', 32_768), VIEW_PREVIEW_CHARS, true);
      busy.push(performance.now() - t);
      // The floor: the same first request for a record parsed (its structure made) and not counted,
      // the worker idle.
      await engine.load(`file:///idle${i}.xml`, 'k', () => Promise.resolve(other));
      await sleep(2_000);
      t = performance.now();
      await engine.timelineView(`file:///idle${i}.xml`, 'k', req('o.xml', 32_768), VIEW_PREVIEW_CHARS, true);
      idle.push(performance.now() - t);
    } finally {
      engine.dispose();
    }
  }
  clearInterval(alive);
  row('first request while the worker warms a 50k-event record', fmt(median(busy)));
  row('  floor: the same request, worker idle', fmt(median(idle)));
  row('  max while warming', fmt(Math.max(...busy)));
}
