/**
 * Instructions → the release's files (`medalign export medalign`) and what HELM's MedAlign
 * scenario reads (`medalign export helm`). Pure: the host reads the `.medalign` files and the
 * records and writes what this returns. docs/datasets.md describes the files.
 */
import { csvLine, quotedTsvField, tsvLine, tsvSafe } from './delimited';
import type { DatasetInstruction } from './model';
import {
  HELM_RESPONSES_CSV_FILE,
  INSTRUCTIONS_CSV_FILE,
  PUBLIC_COLUMNS,
  RESPONSES_COLUMNS,
  RESPONSES_FILE,
  REVIEWED_COLUMNS,
  REVIEWED_FILE,
} from './release';

export interface ExportProblem {
  /** The instruction's id, when the problem is one instruction's. */
  id?: string;
  severity: 'error' | 'warning';
  message: string;
}

export interface ExportFile {
  name: string;
  text: string;
  rows: number;
}

/** A model's answer to an instruction, from the run store (`--with-runs`). */
export interface RunRow {
  /** `model_name`: the endpoint id, and the model when it differs (`local-vllm (Llama-3.1-8B)`). */
  model: string;
  /** `context_length`: as the run was labelled (`32k`). */
  context: string;
  response: string;
  /** The clinicians' current, submitted judgements of this answer (`--with-reviews`). */
  reviews?: RunReview[];
}

/** One clinician's judgement of a run row, from a review file (`--with-reviews`); never its comment. */
export interface RunReview {
  /** The reviewer's name as the review file has it. */
  annotator: string;
  label: 'correct' | 'incorrect' | null;
  /** 1 is best; null when not ranked. */
  rank: number | null;
  tags: readonly string[];
}

/** Columns the model-response rows fill (the release's names where it has them). */
export const RUN_COLUMNS = ['model_name', 'model_response', 'context_length'] as const;

/**
 * Columns `--with-reviews` fills in the model-response rows (one row per answer and reviewer):
 * `clinician_rank` and `correct` (`yes`/`no`) as in the release's shape that import reads
 * (test/helpers/releaseFiles.ts), plus `annotator` and `error_tags` (`; `-separated). The DUA
 * release's exact names are assumed (docs/datasets.md).
 */
export const REVIEW_COLUMNS = ['clinician_rank', 'correct', 'annotator', 'error_tags'] as const;

function reviewValue(r: RunReview | undefined, c: string): string | undefined {
  switch (c) {
    case 'annotator':
      return r?.annotator ?? '';
    case 'correct':
      return r?.label === 'correct' ? 'yes' : r?.label === 'incorrect' ? 'no' : '';
    case 'clinician_rank':
      return r?.rank != null ? String(r.rank) : '';
    case 'error_tags':
      return r ? r.tags.join('; ') : '';
    default:
      return undefined;
  }
}

/** Release order: by source file and row, then instructions written by hand by id. */
export function releaseOrder(insts: readonly DatasetInstruction[]): DatasetInstruction[] {
  return [...insts].sort((a, b) => {
    const ra = a.release;
    const rb = b.release;
    if (ra && rb) {
      if (ra.file !== rb.file) return ra.file < rb.file ? -1 : 1;
      if (ra.row !== rb.row) return ra.row - rb.row;
    } else if (ra || rb) {
      return ra ? -1 : 1;
    }
    return compareIds(a.id, b.id);
  });
}

function compareIds(a: string, b: string): number {
  if (/^\d+$/.test(a) && /^\d+$/.test(b) && a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The value of an instruction-level column. */
function columnValue(inst: DatasetInstruction, c: string): string {
  switch (c) {
    case 'instruction_id':
      return inst.id;
    case 'question':
      return inst.question;
    case 'person_id':
      return inst.patient ?? '';
    case 'is_selected_ehr':
      return inst.release?.is_selected_ehr ?? 'yes';
    case 'filename':
      return inst.release?.filename ?? '';
    case 'clinician_response':
      return inst.gold ?? '';
    case 'evidence':
      return inst.evidence ?? '';
    case 'human_assigned_subcategory_1':
      return inst.category ?? inst.release?.subcategory ?? '';
    case 'source':
      return inst.source ?? '';
    default:
      return '';
  }
}

/** The rows an instruction gives in a file with `columns`: one per release row, else one. */
function instructionRows(inst: DatasetInstruction, columns: readonly string[]): string[][] {
  const r = inst.release;
  const rows = r?.rows?.length ? r.rows : [undefined];
  return rows.map((row) =>
    columns.map((c) => {
      const i = row && r?.rowColumns ? r.rowColumns.indexOf(c) : -1;
      return i >= 0 && row ? (row[i] ?? '') : columnValue(inst, c);
    }),
  );
}

function unionColumns(lists: readonly (readonly string[])[], fallback: readonly string[]): string[] {
  const out: string[] = [];
  for (const l of lists.length ? lists : [fallback]) for (const c of l) if (!out.includes(c)) out.push(c);
  return out;
}

/** An unquoted TSV row: a tab or line break in a field would break the file, so it becomes a space (reported). */
function safeTsv(fields: string[], id: string, file: string, problems: ExportProblem[]): string {
  let changed = false;
  const clean = fields.map((f) => {
    if (tsvSafe(f)) return f;
    changed = true;
    return f.replace(/\r\n|[\t\r\n]/g, ' ');
  });
  if (changed) {
    problems.push({
      id,
      severity: 'warning',
      message: `instruction ${id}: a tab or line break in a field of ${file} (read without quoting) was written as a space`,
    });
  }
  return tsvLine(clean);
}

/**
 * `medalign export medalign`: `instructions.csv` (the public sample's columns, every instruction),
 * `clinician-reviewed-model-responses.tsv` (instructions with a patient: their columns and release
 * rows) and `clinician-instruction-responses.tsv` (one row per annotator's response).
 */
export function exportRelease(
  all: readonly DatasetInstruction[],
  runs?: ReadonlyMap<string, readonly RunRow[]>,
  options: { reviews?: boolean } = {},
): { files: ExportFile[]; problems: ExportProblem[] } {
  const problems: ExportProblem[] = [];
  const insts = releaseOrder(all);
  const files: ExportFile[] = [];

  const csv = [csvLine([...PUBLIC_COLUMNS])];
  for (const i of insts) csv.push(csvLine(PUBLIC_COLUMNS.map((c) => columnValue(i, c))));
  files.push({ name: INSTRUCTIONS_CSV_FILE, text: csv.join(''), rows: insts.length });

  const reviewed = insts.filter((i) => i.patient !== undefined);
  if (reviewed.length) {
    const columns = unionColumns(
      reviewed.filter((i) => i.release?.columns.includes('person_id')).map((i) => i.release!.columns),
      REVIEWED_COLUMNS,
    );
    for (const c of REVIEWED_COLUMNS) if (!columns.includes(c)) columns.push(c);
    if (runs) for (const c of RUN_COLUMNS) if (!columns.includes(c)) columns.push(c);
    if (runs && options.reviews) for (const c of REVIEW_COLUMNS) if (!columns.includes(c)) columns.push(c);
    const lines = [tsvLine(columns)];
    let rows = 0;
    for (const i of reviewed) {
      for (const row of instructionRows(i, columns)) {
        lines.push(safeTsv(row, i.id, REVIEWED_FILE, problems));
        rows++;
      }
      for (const run of runs?.get(i.id) ?? []) {
        const perRow = new Set(i.release?.rowColumns ?? []);
        // With reviews: one row per reviewer's judgement (the answer repeated), else one unjudged row.
        const judgements = options.reviews && run.reviews?.length ? run.reviews : [undefined];
        for (const review of judgements) {
          const row = columns.map((c) =>
            c === 'model_name'
              ? run.model
              : c === 'model_response'
                ? run.response
                : c === 'context_length'
                  ? run.context
                  : options.reviews && reviewValue(review, c) !== undefined
                    ? reviewValue(review, c)!
                    : perRow.has(c)
                      ? ''
                      : columnValue(i, c),
          );
          lines.push(safeTsv(row, i.id, REVIEWED_FILE, problems));
          rows++;
        }
      }
    }
    files.push({ name: REVIEWED_FILE, text: lines.join(''), rows });
  }

  const responses = responseRows(insts, false);
  if (responses.length) {
    const lines = [tsvLine([...RESPONSES_COLUMNS])];
    for (const r of responses) lines.push(safeTsv(r.fields, r.id, RESPONSES_FILE, problems));
    files.push({ name: RESPONSES_FILE, text: lines.join(''), rows: responses.length });
  }
  return { files, problems };
}

/**
 * Rows of the responses file: the gold response under its annotator (`Annotator_1` for an
 * instruction written by hand), then the others. An imported instruction whose gold came from the
 * reviewed file (no responses file) has none. For HELM the gold is always `Annotator_1`.
 */
function responseRows(
  insts: readonly DatasetInstruction[],
  helm: boolean,
): { id: string; fields: string[] }[] {
  const out: { id: string; fields: string[] }[] = [];
  for (const i of insts) {
    const person = i.patient ?? '';
    const fromResponses = i.release === undefined || i.release.gold !== undefined;
    if (
      i.gold !== undefined &&
      (helm || fromResponses) &&
      (i.release !== undefined || i.gold.trim() !== '')
    ) {
      const annotator = helm ? 'Annotator_1' : (i.release?.gold ?? 'Annotator_1');
      out.push({ id: i.id, fields: [i.id, person, i.gold, annotator] });
    }
    for (const o of i.others) {
      if (helm && o.annotator === 'Annotator_1') continue;
      out.push({ id: i.id, fields: [i.id, person, o.text, o.annotator] });
    }
  }
  return out;
}

export interface HelmExport {
  files: ExportFile[];
  /** Patients whose `<person_id>.xml` goes into `medalign_ehr_xml/`. */
  patients: string[];
  /** Instructions in the export. */
  ids: string[];
  problems: ExportProblem[];
}

/**
 * `medalign export helm`: what HELM's MedAlign scenario reads (stanford-crfm/helm,
 * `src/helm/benchmark/scenarios/medalign_scenario_helper.py`): `clinician-reviewed-model-responses.tsv`
 * read with `pd.read_csv(sep='\t')` (pandas applies quoting, so fields are quoted where needed) for
 * `instruction_id, question, person_id` (and `is_selected_ehr`, which an earlier version filtered on
 * `== 'yes'`); the references read with `pd.read_csv` (comma-separated) and filtered on
 * `annotator_num == 'Annotator_1'` — written both as `clinician-instruction-responses.csv` and, for
 * the release's name, as a quoted `.tsv`; and `medalign_ehr_xml/<person_id>.xml` (the id is parsed
 * with `int()`). An instruction HELM could not use is left out and reported.
 */
export function exportHelm(
  all: readonly DatasetInstruction[],
  hasRecord: (patient: string) => boolean,
): HelmExport {
  const problems: ExportProblem[] = [];
  const kept: DatasetInstruction[] = [];
  const seen = new Set<string>();
  for (const i of releaseOrder(all)) {
    const why =
      i.patient === undefined
        ? 'it has no patient'
        : !/^\d+$/.test(i.patient)
          ? `its patient '${i.patient}' is not a number (HELM reads <person_id>.xml with int())`
          : !/^\d+$/.test(i.id)
            ? `its id is not a number (HELM merges on integer instruction_id)`
            : !hasRecord(i.patient)
              ? `its record ${i.patient}.xml is not in the records folder`
              : i.gold === undefined || i.gold.trim() === ''
                ? 'it has no gold response (HELM keeps only instructions with an Annotator_1 reference)'
                : undefined;
    if (why) {
      problems.push({ id: i.id, severity: 'warning', message: `instruction ${i.id} left out: ${why}` });
      continue;
    }
    kept.push(i);
    seen.add(i.patient!);
  }
  // The reviewed file's own columns (HELM reads instruction_id, question, person_id).
  const columns: string[] = [...REVIEWED_COLUMNS];
  const q = (fields: string[]) => fields.map(quotedTsvField).join('\t') + '\n';
  const reviewed = [
    q(columns),
    ...kept.map((i) => q(columns.map((c) => (c === 'is_selected_ehr' ? 'yes' : columnValue(i, c))))),
  ];
  const responses = responseRows(kept, true);
  const header = [...RESPONSES_COLUMNS];
  return {
    files: [
      { name: REVIEWED_FILE, text: reviewed.join(''), rows: kept.length },
      {
        name: RESPONSES_FILE,
        text: [q(header), ...responses.map((r) => q(r.fields))].join(''),
        rows: responses.length,
      },
      {
        name: HELM_RESPONSES_CSV_FILE,
        text: [csvLine(header), ...responses.map((r) => csvLine(r.fields))].join(''),
        rows: responses.length,
      },
    ],
    patients: [...seen].sort(),
    ids: kept.map((i) => i.id),
    problems,
  };
}
