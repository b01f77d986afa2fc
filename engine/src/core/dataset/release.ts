/**
 * The files of the MedAlign release and the public sample, by their columns (facts from
 * som-shahlab/medalign and HELM's MedAlign scenario; see docs/datasets.md):
 *
 * - the public sample `instructions-sample.csv`: `instruction_id, question,
 *   human_assigned_subcategory_1, source` (comma-separated, quoted; no patient);
 * - the release folder `medalign_instructions_v1_3/`, tab-separated and read without quoting:
 *   `clinician-reviewed-model-responses.tsv` (one row per instruction and model: the instruction's
 *   columns plus model-response and review columns), `clinician-instruction-responses.tsv` (one
 *   row per instruction and annotator), `all-instructions-rouge.tsv` (every instruction), and the
 *   records as `<person_id>.xml`.
 */
import type { Dialect } from './delimited';

export const PUBLIC_SAMPLE_FILE = 'instructions-sample.csv';
export const REVIEWED_FILE = 'clinician-reviewed-model-responses.tsv';
export const RESPONSES_FILE = 'clinician-instruction-responses.tsv';
export const ROUGE_FILE = 'all-instructions-rouge.tsv';
/** What `medalign export medalign` names the public-sample-shaped list of every instruction. */
export const INSTRUCTIONS_CSV_FILE = 'instructions.csv';
/** The EHR folder name HELM's MedAlign scenario reads (`medalign_ehr_xml/<person_id>.xml`). */
export const HELM_EHR_FOLDER = 'medalign_ehr_xml';
/** HELM's `add_reference_responses` reads the references with `pd.read_csv` (comma-separated). */
export const HELM_RESPONSES_CSV_FILE = 'clinician-instruction-responses.csv';

export const PUBLIC_COLUMNS = [
  'instruction_id',
  'question',
  'human_assigned_subcategory_1',
  'source',
] as const;
export const REVIEWED_COLUMNS = [
  'instruction_id',
  'question',
  'person_id',
  'is_selected_ehr',
  'filename',
  'clinician_response',
  'evidence',
] as const;
export const RESPONSES_COLUMNS = [
  'instruction_id',
  'person_id',
  'clinician_response',
  'annotator_num',
] as const;
/** The least an instruction list needs (e.g. `all-instructions-rouge.tsv`). */
export const LIST_COLUMNS = ['instruction_id', 'question'] as const;

/**
 * Columns that belong to the instruction (one value per instruction); every other column of a
 * file is per row (a model's response, a review label) and is kept as a release row.
 */
export const INSTRUCTION_COLUMNS: readonly string[] = [
  'instruction_id',
  'question',
  'person_id',
  'is_selected_ehr',
  'filename',
  'clinician_response',
  'evidence',
  'human_assigned_subcategory_1',
  'source',
];

export type Shape = 'public' | 'reviewed' | 'responses' | 'list';

export const SHAPE_LABELS: Record<Shape, string> = {
  public: 'the public sample (instructions-sample.csv)',
  reviewed: `the release's ${REVIEWED_FILE}`,
  responses: `the release's ${RESPONSES_FILE}`,
  list: 'an instruction list (e.g. all-instructions-rouge.tsv)',
};

const NEEDS: [Shape, readonly string[]][] = [
  ['reviewed', REVIEWED_COLUMNS],
  ['responses', RESPONSES_COLUMNS],
  ['public', PUBLIC_COLUMNS],
  ['list', LIST_COLUMNS],
];

export type Recognised = { ok: true; shape: Shape } | { ok: false; message: string };

/** Which file a header is, by its columns; otherwise an error naming what was found and needed. */
export function recogniseColumns(header: readonly string[], fileName: string): Recognised {
  const have = new Set(header);
  for (const [shape, cols] of NEEDS) {
    if (cols.every((c) => have.has(c))) {
      // A responses file has no question; a file with one is an instruction file.
      if (shape === 'responses' && have.has('question')) continue;
      return { ok: true, shape };
    }
  }
  const found = header.length ? header.map((c) => `'${c}'`).join(', ') : 'none';
  const needs = NEEDS.map(([s, cols]) => `${SHAPE_LABELS[s]}: ${cols.join(', ')}`).join('; ');
  return {
    ok: false,
    message: `${fileName}: not a MedAlign file: its columns are ${found}. Needed, for ${needs}.`,
  };
}

/** `.csv` is comma-separated and quoted; `.tsv`/`.txt` tab-separated without quoting; else by the first line. */
export function dialectOf(fileName: string, firstLine: string): Dialect {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.tsv') || lower.endsWith('.tab')) return 'tsv';
  return firstLine.includes('\t') ? 'tsv' : 'csv';
}

/** Ids and person ids: as the instruction schema's pattern allows. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
