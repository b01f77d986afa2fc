/**
 * Hostile-workspace benchmarks (issue 7, items 9-11), each as a ratio against a peer measured in the
 * same run: the worst front matter under the limits vs a typical one; a 300k repeated-character note
 * vs 300k characters of typical record text (count, cold); packing a 200k-character instruction line
 * vs a typical instruction; peak RSS of a child process that parses, counts and packs the largest
 * accepted records vs one that does the same on the public sample (the floor).
 *
 * `node out/test/bench/hostileBench.js` runs only these rows.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseInstruction } from '../../engine/src/core/format/parse';
import { parseRecord, RECORD_LIMITS } from '../../engine/src/core/record/parse';
import { TokenCounter } from '../../engine/src/core/tokens/counter';
import { clearTokenizerCaches } from '../../engine/src/core/tokens/encodings';
import { RecordWork } from '../../engine/src/core/workspace/recordEngine';
import { generateRecord } from '../fixtures/recordGenerator';
import { fmt, median, row } from './stats';

function med(reps: number, fn: () => unknown): number {
  const xs: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = process.hrtime.bigint();
    fn();
    xs.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(xs);
}

const ratio = (a: number, b: number): string => `${(a / b).toFixed(1)}x`;

const TYPICAL_FM = `---
id: 7222697931
patient: 1234555
category: calculate numerical measures
specialty: cardiology
author: clinician-07
model: gpt-4o
context: 32k
strategy: recent
template: ../templates/medalign.prompt
tags: [risk, cardiology]
---

## Instruction
What is the patient's ASCVD risk score?
`;

const fm = (yaml: string): string => `---\n${yaml}\n---\n\n## Instruction\nQ\n`;
const keyLines = (n: number): string => Array.from({ length: n }, (_, i) => `key${i}: value ${i}`).join('\n');

/** Front matters at (or just past) each limit: the worst ones the parser still has to read. */
const WORST_FM: Record<string, string> = {
  '50 keys (the key limit)': fm(keyLines(50)),
  '400 keys in one flow map, 4k chars (read, then refused)': fm(
    `{${Array.from({ length: 400 }, (_, i) => `k${i}: 1`).join(', ')}}`.slice(0, 4094) + '}',
  ),
  '100 lines of a list, 4k chars': fm(
    'tags:\n' + Array.from({ length: 98 }, () => `- ${'t'.repeat(38)}`).join('\n'),
  ),
  '16 nested flow lists, 4k chars': fm(`tags: ${'['.repeat(16)}${'a, '.repeat(1320)}a${']'.repeat(16)}`),
  '4k-char plain scalar': fm(`id: ${'word '.repeat(815)}`),
  '20,000 keys (refused before parsing)': fm(keyLines(20_000)),
};

function frontMatterRows(): void {
  console.log('\nFront matter (issue 7 item 9): parseInstruction, median of 30');
  const typical = med(30, () => parseInstruction(TYPICAL_FM));
  row('typical front matter (10 keys)', fmt(typical));
  let worst = 0;
  for (const [label, text] of Object.entries(WORST_FM)) {
    const ms = med(30, () => parseInstruction(text));
    worst = Math.max(worst, ms);
    row(label, `${fmt(ms)} ${ratio(ms, typical)}`);
  }
  row('worst of these / typical', ratio(worst, typical), 'a few ms');
}

const recordWithNote = (note: string): string =>
  '<record>\n    <visit type="Office Visit" start="01/02/2020 10:00">\n' +
  '        <day start="01/02/2020 10:00">\n' +
  `            <note type="Progress Note" start="01/02/2020 10:00">${note}</note>\n` +
  '        </day>\n    </visit>\n</record>\n';

/** Cold count of a record: fresh counter, library merge cache cleared. */
function coldCount(text: string): number {
  const record = parseRecord(text);
  return med(5, () => {
    clearTokenizerCaches();
    new TokenCounter().countRecord(text, record, 'cl100k_base');
  });
}

function tokenRows(): void {
  console.log('\nLong pieces (issue 7 item 10): cl100k_base, cold, median of 5');
  const typicalText = generateRecord({ seed: 9, targetChars: 300_000 });
  const typical = coldCount(typicalText);
  row('300k typical record text: count', fmt(typical));
  for (const [label, ch] of [
    ['300k repeated-character note: count', 'a'],
    ['300k repeated "é" note: count', 'é'],
    ['300k repeated "🙂" note (150k emoji): count', '🙂'],
  ] as const) {
    const ms = coldCount(recordWithNote(ch.repeat(300_000 / ch.length)));
    row(label, `${fmt(ms)} ${ratio(ms, typical)}`, 'a few x typical');
  }

  const sample = readFileSync(
    path.join(__dirname, '..', '..', '..', 'samples', 'records', '1234555.xml'),
    'utf8',
  );
  const pack = (instruction: string): number => {
    const w = new RecordWork();
    w.load('r', '1', sample);
    w.counts('r', '1', 'cl100k_base');
    let n = 0;
    return med(5, () => {
      clearTokenizerCaches();
      w.counter.clear();
      w.pack('r', '1', {
        encoding: 'cl100k_base',
        estimated: false,
        instruction: `${instruction} ${++n}`,
        reserve: 256,
        context: 32_768,
        strategy: 'recent',
      });
    });
  };
  const typicalPack = pack('What was the most recent hemoglobin A1c, and has metformin been changed since?');
  row('pack 32k, typical instruction (public sample)', fmt(typicalPack));
  const prose = typicalText.replace(/<[^>]*>|\s+/g, ' ').slice(0, 200_000);
  const prosePack = pack(prose);
  row(
    'pack 32k, 200k characters of record text as the instruction',
    `${fmt(prosePack)} ${ratio(prosePack, typicalPack)}`,
  );
  const longPack = pack('x'.repeat(200_000));
  row(
    'pack 32k, 200k-character instruction line (one piece)',
    `${fmt(longPack)} ${ratio(longPack, prosePack)}`,
    'a few x the 200k-char text',
  );
}

/** In a child: parse, count (cl100k) and pack 32k the record in `file`; prints the peak RSS. */
function childMain(file: string): void {
  const text = readFileSync(file, 'utf8');
  const w = new RecordWork();
  const r = w.load('r', '1', text);
  w.counts('r', '1', 'cl100k_base');
  w.pack('r', '1', {
    encoding: 'cl100k_base',
    estimated: false,
    instruction: 'Q',
    reserve: 256,
    context: 32_768,
    strategy: 'recent',
  });
  process.stdout.write(
    JSON.stringify({ ok: r.ok, events: r.eventCount, maxRssKb: process.resourceUsage().maxRSS }) + '\n',
  );
}

function peakRss(file: string): { ok: boolean; events: number; maxRssKb: number } {
  const r = spawnSync(process.execPath, [__filename, '--rss', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as { ok: boolean; events: number; maxRssKb: number };
}

function memoryRows(): void {
  console.log(
    '\nRecord memory (issue 7 item 11): peak RSS of a child that parses, counts and packs one record',
  );
  const dir = mkdtempSync(path.join(os.tmpdir(), 'medalign-rss-'));
  try {
    const floorFile = path.join(__dirname, '..', '..', '..', 'samples', 'records', '1234555.xml');
    const floor = peakRss(floorFile);
    row('floor: the public sample record', `${(floor.maxRssKb / 1024).toFixed(0)} MB`);
    const event =
      '            <measurement start="01/02/2020 10:00">[LOINC/8480-6] Systolic blood pressure 120 mm Hg</measurement>\n';
    const dense = recordWithNote('n').replace(
      '        </day>',
      event.repeat(Math.floor((RECORD_LIMITS.bytes - 400) / event.length)) + '        </day>',
    );
    const cases: [string, string][] = [
      [
        '8 MiB generated record (notes, all kinds of events)',
        generateRecord({ seed: 4, targetChars: RECORD_LIMITS.bytes - 20_000 }),
      ],
      ['8 MiB of small measurement events', dense],
    ];
    for (const [label, text] of cases) {
      const file = path.join(dir, 'r.xml');
      writeFileSync(file, text);
      const p = peakRss(file);
      const extra = (p.maxRssKb - floor.maxRssKb) * 1024;
      row(label, `${(p.maxRssKb / 1024).toFixed(0)} MB`);
      console.log(
        `    ${p.events} events${p.ok ? '' : ' (NOT OK)'}; above the floor ${(extra / 2 ** 20).toFixed(0)} MB` +
          ` = ${(extra / Buffer.byteLength(text)).toFixed(1)}x the record's size`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function runHostileBench(): void {
  frontMatterRows();
  tokenRows();
  memoryRows();
}

if (require.main === module) {
  const i = process.argv.indexOf('--rss');
  if (i >= 0) childMain(process.argv[i + 1]);
  else runHostileBench();
}
