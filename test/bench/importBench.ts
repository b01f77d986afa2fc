/**
 * Import benchmarks (issue 12). Target: 10,000 rows in under 5 s. Each figure comes with a ratio to
 * a floor measured in the same run on the same file:
 *
 * - reading: the core's streaming reader on a 10,000-row release TSV against a plain
 *   `split('\n')` + `split('\t')` of the same text (the least any reader does), and on a
 *   10,000-row public-sample-shaped CSV against csv-parse (`csv-parse/sync`);
 * - the whole import (read, map, render, write 10,000 `.medalign` files) against the floor of
 *   reading the file and writing 10,000 files of the same size with `writeFileSync`;
 * - a second import of the same file (everything unchanged: read and compare, no writes).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse as csvParse } from 'csv-parse/sync';
import { readDelimited } from '../../engine/src/core/dataset/delimited';
import { importDataset } from '../../engine/src/host/dataset';
import { generateRelease } from '../helpers/releaseFiles';
import { fmt, median, row, timeMs } from './stats';

const ROWS = 10_000;

function publicCsv(n: number): string {
  const lines = ['instruction_id,question,human_assigned_subcategory_1,source'];
  for (let i = 0; i < n; i++) {
    lines.push(
      `${1_000_000 + i},"Does this patient often ""No Show"", (case ${i})?",retrieve appointment information,table_s10`,
    );
  }
  return lines.join('\r\n') + '\r\n';
}

export async function runImportBench(): Promise<void> {
  console.log(`\nImport (issue 12): ${ROWS.toLocaleString('en')} rows`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'medalign-import-bench-'));
  try {
    const g = generateRelease({ instructions: ROWS, models: 1, annotators: 1, patients: 276, seed: 9 });
    const rel = path.join(dir, 'rel');
    mkdirSync(rel);
    writeFileSync(path.join(rel, 'clinician-reviewed-model-responses.tsv'), g.reviewed);
    writeFileSync(path.join(rel, 'clinician-instruction-responses.tsv'), g.responses);
    const csv = publicCsv(ROWS);

    const reader: number[] = [];
    const split: number[] = [];
    const ours: number[] = [];
    const peer: number[] = [];
    for (let i = 0; i < 7; i++) {
      reader.push((await timeMs(() => readDelimited(g.reviewed, 'tsv').rows.length))[0]);
      split.push((await timeMs(() => g.reviewed.split('\n').map((l) => l.split('\t')).length))[0]);
      ours.push((await timeMs(() => readDelimited(csv, 'csv').rows.length))[0]);
      peer.push((await timeMs(() => (csvParse(csv, { relax_column_count: true }) as unknown[]).length))[0]);
    }
    row('read a 10,000-row release TSV (core reader)', fmt(median(reader)));
    row(
      `  floor: split lines and tabs (ratio ${(median(reader) / median(split)).toFixed(1)}x)`,
      fmt(median(split)),
    );
    row('read a 10,000-row quoted CSV (core reader)', fmt(median(ours)));
    row(`  peer: csv-parse/sync (ratio ${(median(ours) / median(peer)).toFixed(2)}x)`, fmt(median(peer)));

    const full: number[] = [];
    const again: number[] = [];
    const floor: number[] = [];
    for (let i = 0; i < 3; i++) {
      const into = path.join(dir, `into-${i}`);
      const [t, s] = await timeMs(() =>
        importDataset({ source: rel, into, recordsFolder: path.join(dir, `records-${i}`) }),
      );
      if (s.actions.created !== ROWS) throw new Error(`imported ${s.actions.created}`);
      full.push(t);
      const [t2, s2] = await timeMs(() =>
        importDataset({ source: rel, into, recordsFolder: path.join(dir, `records-${i}`) }),
      );
      if (s2.actions.unchanged !== ROWS) throw new Error(`unchanged ${s2.actions.unchanged}`);
      again.push(t2);
      const plain = path.join(dir, `plain-${i}`);
      mkdirSync(plain);
      const body = readFileSync(path.join(into, `${g.ids[0]}.medalign`), 'utf8');
      floor.push(
        (
          await timeMs(() => {
            const text = readFileSync(path.join(rel, 'clinician-reviewed-model-responses.tsv'), 'utf8');
            const lines = text.split('\n');
            for (let k = 1; k < lines.length - 1; k++) writeFileSync(path.join(plain, `${k}.medalign`), body);
          })
        )[0],
      );
      rmSync(into, { recursive: true, force: true });
      rmSync(plain, { recursive: true, force: true });
    }
    row('import a 10,000-row release folder (10,000 files written)', fmt(median(full)), 'under 5 s');
    row(
      `  floor: read the file, write 10,000 files (ratio ${(median(full) / median(floor)).toFixed(1)}x)`,
      fmt(median(floor)),
    );
    row('import it again (all unchanged)', fmt(median(again)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  runImportBench().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
