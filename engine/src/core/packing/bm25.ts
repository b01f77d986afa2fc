/**
 * BM25 (Okapi, k1 = 1.2, b = 0.75) over a record's visits, for the `bm25` packing strategy:
 * MedAlign's retrieval variant ranks record chunks against the instruction.
 *
 * Terms: lower-cased letter/digit runs of the text *content* (tags are dropped, but `type="..."`
 * attribute values such as a note's type are kept), minus a short stop-word list, with a light
 * plural stemmer applied to query and documents alike.
 */

const STOP = new Set(
  (
    'a an and are as at be been but by can could did do does for from had has have he her his how i if in ' +
    'into is it its me my no not of on or our she should so than that the their them then there these they ' +
    'this those to was we were what when where which who whom why will with would you your patient patients ' +
    'please tell give list show any ever did does'
  ).split(' '),
);

function stem(t: string): string {
  if (t.length > 4 && t.endsWith('ies')) return t.slice(0, -3) + 'y';
  if (t.length > 4 && t.endsWith('es') && !t.endsWith('ses')) return t.slice(0, -2);
  if (t.length > 3 && t.endsWith('s') && !t.endsWith('ss') && !t.endsWith('us') && !t.endsWith('is'))
    return t.slice(0, -1);
  return t;
}

/** Terms of plain text. */
export function terms(text: string): string[] {
  const out: string[] = [];
  const re = /[\p{L}\p{N}]+/gu;
  const lower = text.toLowerCase();
  for (let m = re.exec(lower); m !== null; m = re.exec(lower)) {
    const w = m[0];
    if (w.length < 2 || STOP.has(w)) continue;
    out.push(stem(w));
  }
  return out;
}

/** Terms of an XML fragment: tags removed, `type` attribute values kept. */
export function xmlTerms(xml: string): string[] {
  return terms(
    xml.replace(/<[^>]*>/g, (tag) => {
      const m = /\btype\s*=\s*"([^"]*)"/.exec(tag);
      return m === null ? ' ' : ` ${m[1]} `;
    }),
  );
}

export interface Bm25Doc {
  tf: Map<string, number>;
  length: number;
}

export function bm25Doc(termList: readonly string[]): Bm25Doc {
  const tf = new Map<string, number>();
  for (const t of termList) tf.set(t, (tf.get(t) ?? 0) + 1);
  return { tf, length: termList.length };
}

export class Bm25Index {
  readonly docs: Bm25Doc[];
  private readonly df = new Map<string, number>();
  readonly avgLength: number;

  constructor(
    docs: Bm25Doc[],
    private readonly k1 = 1.2,
    private readonly b = 0.75,
  ) {
    this.docs = docs;
    let total = 0;
    for (const d of docs) {
      total += d.length;
      for (const t of d.tf.keys()) this.df.set(t, (this.df.get(t) ?? 0) + 1);
    }
    this.avgLength = docs.length === 0 ? 0 : total / docs.length;
  }

  idf(term: string): number {
    const n = this.docs.length;
    const df = this.df.get(term) ?? 0;
    return Math.log(1 + (n - df + 0.5) / (df + 0.5));
  }

  /** Score of any document (indexed or not) against the query terms, with this index's statistics. */
  score(query: readonly string[], doc: Bm25Doc, avgLength = this.avgLength): number {
    let s = 0;
    const avg = avgLength > 0 ? avgLength : 1;
    for (const q of new Set(query)) {
      const f = doc.tf.get(q);
      if (f === undefined) continue;
      s += (this.idf(q) * (f * (this.k1 + 1))) / (f + this.k1 * (1 - this.b + (this.b * doc.length) / avg));
    }
    return s;
  }

  scores(query: readonly string[]): number[] {
    return this.docs.map((d) => this.score(query, d));
  }
}
