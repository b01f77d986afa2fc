/**
 * Generated files in the shapes of the MedAlign release (the real release is under a data use
 * agreement and never ships): `clinician-reviewed-model-responses.tsv` (one row per instruction and
 * model, with model-response and review columns), `clinician-instruction-responses.tsv` (one row per
 * annotator) and `<person_id>.xml` records. Tab-separated without quoting, so a field holds quotes,
 * non-ASCII and may be empty, but never a tab or a line break. Deterministic for a seed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const REVIEWED_HEADER = [
  'instruction_id',
  'question',
  'person_id',
  'is_selected_ehr',
  'filename',
  'clinician_response',
  'evidence',
  'model_name',
  'model_response',
  'clinician_rank',
  'correct',
];
export const RESPONSES_HEADER = ['instruction_id', 'person_id', 'clinician_response', 'annotator_num'];

const MODELS = ['gpt-4', 'gpt-3.5', 'vicuna-13b', 'mpt-7b'];
const PHRASES = [
  'What is the patient\'s last "creatinine"?',
  'Résumé des médicaments — naïve café, 血压 120/80',
  'List ED visits since 2019; include dates',
  'Has she ever been on a statin before?',
  'Summarize the last MRI (T2/FLAIR) findings',
];

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
}

export interface ReleaseOptions {
  instructions: number;
  /** Rows per instruction in the reviewed file (models). */
  models?: number;
  annotators?: number;
  patients?: number;
  crlf?: boolean;
  seed?: number;
}

export interface GeneratedRelease {
  reviewed: string;
  responses: string;
  patients: string[];
  ids: string[];
  /** id → Annotator_1's response. */
  gold: Map<string, string>;
  questions: Map<string, string>;
}

export function generateRelease(o: ReleaseOptions): GeneratedRelease {
  const r = rng(o.seed ?? 42);
  const eol = o.crlf ? '\r\n' : '\n';
  const models = o.models ?? 2;
  const annotators = o.annotators ?? 2;
  const patients = Array.from({ length: o.patients ?? 3 }, (_, i) => String(1_000_001 + i * 7));
  const reviewed = [REVIEWED_HEADER.join('\t')];
  const responses = [RESPONSES_HEADER.join('\t')];
  const ids: string[] = [];
  const gold = new Map<string, string>();
  const questions = new Map<string, string>();
  for (let n = 0; n < o.instructions; n++) {
    const id = String(2_000_000_000 + n * 13);
    ids.push(id);
    const person = patients[n % patients.length];
    const q = `${PHRASES[n % PHRASES.length]} (#${n})`;
    questions.set(id, q);
    const a1 = n % 11 === 5 ? '' : `Answer ${n}: "${Math.floor(r() * 1000)} mg" — ok`;
    gold.set(id, a1);
    const evidence = n % 7 === 3 ? '' : `note 2019-0${1 + (n % 9)}-1${n % 10}: café ${n}`;
    for (let m = 0; m < models; m++) {
      reviewed.push(
        [
          id,
          q,
          person,
          n % 5 === 4 ? 'no' : 'yes',
          `${person}.xml`,
          a1,
          evidence,
          MODELS[m % MODELS.length],
          m === 0 && n % 3 === 0 ? '' : `Model ${m} says "${Math.floor(r() * 100)}" ✓`,
          String(1 + m),
          r() < 0.5 ? 'yes' : 'no',
        ].join('\t'),
      );
    }
    for (let a = 1; a <= annotators; a++) {
      responses.push(
        [id, person, a === 1 ? a1 : `Annotator ${a} on ${n}: ünïcödé`, `Annotator_${a}`].join('\t'),
      );
    }
  }
  return {
    reviewed: reviewed.join(eol) + eol,
    responses: responses.join(eol) + eol,
    patients,
    ids,
    gold,
    questions,
  };
}

export const RECORD_XML = (person: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<record person_id="${person}">\n  <visit type="Outpatient" start="01/02/2020 09:00">\n    <day start="01/02/2020 09:00">\n      <event type="note" name="Progress note" start="01/02/2020 09:00">Patient ${person} is well.</event>\n    </day>\n  </visit>\n</record>\n`;

/** Writes a release folder (`medalign_instructions_v1_3/` with `medalign_ehr_xml/`). */
export function writeReleaseFolder(dir: string, o: ReleaseOptions): GeneratedRelease {
  const g = generateRelease(o);
  fs.mkdirSync(path.join(dir, 'medalign_ehr_xml'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'clinician-reviewed-model-responses.tsv'), g.reviewed);
  fs.writeFileSync(path.join(dir, 'clinician-instruction-responses.tsv'), g.responses);
  for (const p of g.patients) fs.writeFileSync(path.join(dir, 'medalign_ehr_xml', `${p}.xml`), RECORD_XML(p));
  return g;
}
