/**
 * `strategy: helm` on a 2 MB record against `recent` (issue 15): pack at 8k, 32k and 128k with a
 * fresh instruction each time (counts warm, as in the editor), medians. HELM's truncation encodes the
 * whole record once per parsed record (cached), re-encodes only the kept 2 × budget tokens, and keeps
 * the cut per budget (hovers, the preview and the timeline ask for the same one again).
 */
import { packPrompt } from '../../engine/src/core/packing/pack';
import type { PackStrategy } from '../../engine/src/core/packing/pack';
import { parseRecord } from '../../engine/src/core/record/parse';
import { TokenCounter } from '../../engine/src/core/tokens/counter';
import { generateRecord } from '../fixtures/recordGenerator';
import { fmt, median, row } from './stats';

function ms(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

export function runHelmBench(): void {
  console.log('\nstrategy helm vs recent (issue 15) — a 2M-char record, cl100k_base, medians of 5');
  const text = generateRecord({ seed: 42, targetChars: 2_000_000 });
  const record = parseRecord(text);
  const counter = new TokenCounter();
  let n = 0;
  const pack = (strategy: PackStrategy, context: number) =>
    packPrompt({
      text,
      record,
      // A fresh instruction of the same length each time: no rendered prompt is reused, HELM's cut is.
      instruction: `What was the most recent hemoglobin A1c? (${String(++n % 10)})`,
      context,
      strategy,
      encoding: 'cl100k_base',
      counter,
    });
  row('recent, first pack (counts the record once)', fmt(ms(() => pack('recent', 32768))));
  row('helm, first pack (encodes the whole record once)', fmt(ms(() => pack('helm', 32768))));
  for (const context of [8192, 32768, 131072]) {
    const times = (s: PackStrategy) => median([0, 1, 2, 3, 4].map(() => ms(() => pack(s, context))));
    const recent = times('recent');
    const helm = times('helm');
    row(
      `pack at ${context / 1024}k: helm (with its comparison to recent) / recent`,
      `${fmt(helm)} / ${fmt(recent)} (×${(helm / recent).toFixed(1)})`,
    );
  }
}
