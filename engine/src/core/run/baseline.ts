/**
 * The built-in `baseline` model: no network, no key. Its "answer" is extractive: the passages of the
 * packed record that best match the instruction by BM25, quoted with their dates and clearly
 * labelled as a baseline, not a model's answer. It makes every run feature work out of the box, and
 * it is a floor a real model should beat (is the answer even findable by keyword?).
 *
 * It reads the *packed* record (the `{{ehr}}` that would be sent), so a baseline at 2k and at 32k
 * differ the way a model's view of the record does.
 *
 * Passages: each code of a coded event (`Systolic blood pressure 165 mm Hg`), and each note cut into
 * windows of about two sentences (at most ~320 characters).
 */
import { parseRecord } from '../record/parse';
import type { EhrRecord, RecordEvent } from '../record/model';
import { Bm25Index, bm25Doc, terms } from '../packing/bm25';

export const BASELINE_LABEL = 'Baseline (extractive, no model)';

export interface BaselinePassage {
  rank: number;
  score: number;
  /** `YYYY-MM-DD HH:mm`, when the event has a date. */
  date?: string;
  /** The event's element name (`note`, `measurement`, ...) and a note's type. */
  kind: string;
  type?: string;
  text: string;
}

export interface BaselineAnswer {
  /** The answer text, starting with the label. */
  text: string;
  passages: BaselinePassage[];
}

export interface BaselineOptions {
  /** Passages in the answer. Default 5. */
  maxPassages?: number;
  /** The record already parsed from `ehr` (saves parsing it again). */
  record?: EhrRecord;
}

interface Candidate {
  event: RecordEvent;
  text: string;
}

const WINDOW = 320;

function noteWindows(text: string): string[] {
  // Sentence ends: `.`, `!` or `?` followed by white space (so `1.0` and `5mg.` stay whole).
  const sentences = text
    .split(/(?<=[.!?])\s+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const out: string[] = [];
  let cur = '';
  for (const s of sentences) {
    const piece = s.length > WINDOW ? s.slice(0, WINDOW) : s;
    if (cur !== '' && cur.length + 1 + piece.length > WINDOW) {
      out.push(cur);
      cur = '';
    }
    cur = cur === '' ? piece : `${cur} ${piece}`;
  }
  if (cur !== '') out.push(cur);
  return out;
}

function candidates(record: EhrRecord): Candidate[] {
  const out: Candidate[] = [];
  for (const v of record.visits) {
    for (const d of v.days) {
      for (const e of d.events) {
        if (e.text !== undefined && e.text.trim() !== '') {
          for (const w of noteWindows(e.text)) out.push({ event: e, text: w });
        }
        for (const c of e.codes) {
          const t = [c.description, c.value, c.unit].filter((x) => x !== undefined && x !== '').join(' ');
          if (t.trim() !== '') out.push({ event: e, text: t.trim() });
        }
      }
    }
  }
  return out;
}

function dateOf(e: RecordEvent): string | undefined {
  return e.start ? e.start.iso.replace('T', ' ') : undefined;
}

/** The extractive baseline answer for an instruction over a (packed) record. Never throws. */
export function baselineAnswer(ehr: string, instruction: string, opts: BaselineOptions = {}): BaselineAnswer {
  const max = opts.maxPassages ?? 5;
  const record = opts.record ?? (ehr.trim() === '' ? undefined : parseRecord(ehr));
  const header = `${BASELINE_LABEL}: the record passages that best match the instruction by BM25. This is not a model's answer.`;
  if (record === undefined || record.eventCount === 0) {
    return { text: `${header}\n\nThe packed record is empty: nothing to quote.`, passages: [] };
  }
  const cands = candidates(record);
  const query = terms(instruction);
  const index = new Bm25Index(cands.map((c) => bm25Doc(terms(c.text))));
  const scores = index.scores(query);
  const order = cands
    .map((c, i) => ({ c, i, score: scores[i] }))
    .filter((x) => x.score > 0)
    // Best first; equal scores: the more recent passage first (records are in date order).
    .sort((a, b) => b.score - a.score || b.i - a.i);
  const seen = new Set<string>();
  const passages: BaselinePassage[] = [];
  for (const { c, score } of order) {
    const dedupe = `${c.event.kind}|${c.text}`;
    if (seen.has(dedupe)) continue;
    seen.add(dedupe);
    const p: BaselinePassage = {
      rank: passages.length + 1,
      score: Math.round(score * 1000) / 1000,
      kind: c.event.kind,
      text: c.text,
    };
    const date = dateOf(c.event);
    if (date !== undefined) p.date = date;
    if (c.event.type !== undefined) p.type = c.event.type;
    passages.push(p);
    if (passages.length >= max) break;
  }
  if (passages.length === 0) {
    return {
      text: `${header}\n\nNo passage of the packed record shares a term with the instruction.`,
      passages,
    };
  }
  const lines = passages.map((p) => {
    const where = [p.date, p.type ? `${p.kind}: ${p.type}` : p.kind]
      .filter((x) => x !== undefined)
      .join(' · ');
    return `${p.rank}. [${where}] ${p.text}`;
  });
  return { text: `${header}\n\n${lines.join('\n')}\n`, passages };
}
