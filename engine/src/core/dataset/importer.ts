/**
 * Rows of MedAlign files → instructions. Pure: the host reads the files and feeds rows
 * ({@link DatasetImport.file}); {@link DatasetImport.finish} merges the instruction files with the
 * responses file and says what was skipped and why.
 */
import taxonomyJson from '../data/taxonomy.json';
import type { DelimitedProblem, DelimitedRow, DelimitedSink, Dialect } from './delimited';
import type { AnnotatorResponse, DatasetInstruction, ReleaseFields } from './model';
import {
  HELM_EHR_FOLDER,
  ID_PATTERN,
  INSTRUCTION_COLUMNS,
  PUBLIC_SAMPLE_FILE,
  RESPONSES_COLUMNS,
  RESPONSES_FILE,
  REVIEWED_FILE,
  ROUGE_FILE,
  recogniseColumns,
} from './release';
import type { Shape } from './release';

export interface ImportProblem {
  file: string;
  /** 1-based line, when the problem is a row's. */
  line?: number;
  severity: 'error' | 'warning';
  message: string;
}

interface PendingInstruction {
  file: string;
  line: number;
  order: number;
  header: string[];
  rows: string[][];
  lines: number[];
}

interface PendingResponse extends AnnotatorResponse {
  person: string;
  file: string;
  line: number;
}

const SUBCATEGORIES = new Set(taxonomyJson.map((t) => t.subcategory));

export interface FileSummary {
  file: string;
  shape?: Shape;
  rows: number;
  skipped: number;
}

export class DatasetImport {
  readonly problems: ImportProblem[] = [];
  readonly files: FileSummary[] = [];
  private readonly instructions = new Map<string, PendingInstruction>();
  private readonly responses = new Map<string, PendingResponse[]>();

  /** A sink for one file's rows: its first row is the header. `fatal` is set when the file is not recognised. */
  file(fileName: string, dialect: Dialect): DelimitedSink & { fatal?: string; summary: FileSummary } {
    const summary: FileSummary = { file: fileName, rows: 0, skipped: 0 };
    this.files.push(summary);
    let header: string[] | undefined;
    let shape: Shape | undefined;
    let order = 0;
    const sink = {
      summary,
      fatal: undefined as string | undefined,
      row: (r: DelimitedRow): void => {
        if (sink.fatal !== undefined) return;
        if (!header) {
          header = r.fields.map((f) => f.trim());
          const rec = recogniseColumns(header, fileName);
          if (!rec.ok) {
            sink.fatal = rec.message;
            this.problems.push({ file: fileName, line: r.line, severity: 'error', message: rec.message });
            return;
          }
          shape = rec.shape;
          summary.shape = shape;
          if (shape === 'responses') {
            const extra = header.filter((c) => !(RESPONSES_COLUMNS as readonly string[]).includes(c));
            if (extra.length) {
              this.problems.push({
                file: fileName,
                line: r.line,
                severity: 'warning',
                message: `column${extra.length === 1 ? '' : 's'} ${extra.join(', ')} of the responses file ${extra.length === 1 ? 'is' : 'are'} not kept`,
              });
            }
          }
          return;
        }
        summary.rows++;
        const skip = (message: string) => {
          summary.skipped++;
          this.problems.push({
            file: fileName,
            line: r.line,
            severity: 'error',
            message: `${message}: row skipped`,
          });
        };
        if (r.fields.length !== header.length) {
          const why = dialect === 'tsv' ? 'a tab inside a field?' : 'an unquoted comma?';
          skip(`${r.fields.length} fields where the header has ${header.length} (${why})`);
          return;
        }
        if (shape === 'responses') this.addResponse(fileName, header, r, skip);
        else if (this.addInstruction(fileName, header, shape!, r, order + 1, skip)) order++;
      },
      problem: (p: DelimitedProblem): void => {
        summary.skipped++;
        this.problems.push({
          file: fileName,
          line: p.line,
          severity: 'error',
          message: `${p.message}: row skipped`,
        });
      },
    };
    return sink;
  }

  private addInstruction(
    file: string,
    header: string[],
    shape: Shape,
    r: DelimitedRow,
    order: number,
    skip: (m: string) => void,
  ): boolean {
    const col = (name: string) => {
      const i = header.indexOf(name);
      return i < 0 ? undefined : r.fields[i];
    };
    const id = col('instruction_id') ?? '';
    if (!ID_PATTERN.test(id)) {
      skip(`bad instruction_id '${id}' (letters, digits, '_', '.', '-')`);
      return false;
    }
    const question = col('question') ?? '';
    if (question.trim() === '') {
      skip(`instruction ${id} has an empty question`);
      return false;
    }
    const person = col('person_id');
    if (person !== undefined && person !== '' && !ID_PATTERN.test(person)) {
      skip(`bad person_id '${person}' for instruction ${id}`);
      return false;
    }
    const prev = this.instructions.get(id);
    if (prev) {
      const same =
        prev.file === file &&
        shape === 'reviewed' &&
        prev.rows[0][prev.header.indexOf('question')] === question &&
        prev.rows[0][prev.header.indexOf('person_id')] === person;
      if (!same) {
        skip(
          `duplicate instruction_id ${id} (first on line ${prev.line}${prev.file === file ? '' : ` of ${prev.file}`})`,
        );
        return false;
      }
      prev.rows.push(r.fields);
      prev.lines.push(r.line);
      return false;
    }
    this.instructions.set(id, { file, line: r.line, order, header, rows: [r.fields], lines: [r.line] });
    return true;
  }

  private addResponse(file: string, header: string[], r: DelimitedRow, skip: (m: string) => void): void {
    const col = (name: string) => r.fields[header.indexOf(name)];
    const id = col('instruction_id');
    if (!ID_PATTERN.test(id)) {
      skip(`bad instruction_id '${id}'`);
      return;
    }
    const annotator = col('annotator_num');
    if (annotator.trim() === '') {
      skip(`no annotator_num for instruction ${id}`);
      return;
    }
    const list = this.responses.get(id) ?? [];
    const dup = list.find((x) => x.annotator === annotator);
    if (dup) {
      skip(`a second ${annotator} response for instruction ${id} (first on line ${dup.line})`);
      return;
    }
    list.push({ annotator, text: col('clinician_response'), person: col('person_id'), file, line: r.line });
    this.responses.set(id, list);
  }

  /** The instructions, in file order, with the responses merged in. */
  finish(): DatasetInstruction[] {
    const out: DatasetInstruction[] = [];
    for (const [id, p] of this.instructions) out.push(this.build(id, p));
    for (const [id, list] of this.responses) {
      if (this.instructions.has(id)) continue;
      const first = list[0];
      this.problems.push({
        file: first.file,
        line: first.line,
        severity: 'warning',
        message: `responses for instruction ${id}, which no instruction file has: skipped`,
      });
    }
    return out;
  }

  private build(id: string, p: PendingInstruction): DatasetInstruction {
    const idx = (c: string) => p.header.indexOf(c);
    const constant = (c: string) => {
      const i = idx(c);
      return i >= 0 && p.rows.every((row) => row[i] === p.rows[0][i]);
    };
    const level = new Set(p.header.filter((c) => INSTRUCTION_COLUMNS.includes(c) && constant(c)));
    const value = (c: string) => (level.has(c) ? p.rows[0][idx(c)] : undefined);
    const inst: DatasetInstruction = { id, question: p.rows[0][idx('question')], tags: [], others: [] };
    const release: ReleaseFields = { file: p.file, row: p.order, columns: [...p.header] };
    const person = p.rows[0][idx('person_id')] as string | undefined;
    if (person !== undefined && person !== '') inst.patient = person;
    const sub = value('human_assigned_subcategory_1');
    if (sub !== undefined) {
      if (SUBCATEGORIES.has(sub)) inst.category = sub;
      else {
        release.subcategory = sub;
        if (sub.trim() !== '') {
          inst.tags.push(sub);
          this.problems.push({
            file: p.file,
            line: p.line,
            severity: 'warning',
            message: `'${sub}' (instruction ${id}) is not a taxonomy subcategory: kept as a tag, no category`,
          });
        }
      }
    }
    const source = value('source');
    if (source !== undefined) inst.source = source;
    const evidence = value('evidence');
    if (evidence !== undefined) inst.evidence = evidence;
    const sel = value('is_selected_ehr');
    if (sel !== undefined) release.is_selected_ehr = sel;
    const filename = value('filename');
    if (filename !== undefined) release.filename = filename;
    const responses = this.responses.get(id);
    const reviewedGold = value('clinician_response');
    if (responses?.length) {
      const g = responses.find((r) => r.annotator === 'Annotator_1') ?? responses[0];
      inst.gold = g.text;
      release.gold = g.annotator;
      inst.others = responses.filter((r) => r !== g).map((r) => ({ annotator: r.annotator, text: r.text }));
      for (const r of responses) {
        if (r.person !== (inst.patient ?? '')) {
          this.problems.push({
            file: r.file,
            line: r.line,
            severity: 'warning',
            message: `person_id ${r.person || '(empty)'} of ${r.annotator}'s response differs from instruction ${id}'s (${inst.patient ?? 'none'}): exported with the instruction's`,
          });
        }
      }
      // The reviewed file's own clinician_response, when it is not the gold one, stays per row.
      if (reviewedGold !== undefined && reviewedGold !== g.text) level.delete('clinician_response');
    } else if (reviewedGold !== undefined) {
      inst.gold = reviewedGold;
    }
    const rowColumns = p.header.filter((c) => !level.has(c));
    if (rowColumns.length) {
      release.rowColumns = rowColumns;
      release.rows = p.rows.map((row) => rowColumns.map((c) => row[idx(c)]));
    }
    inst.release = release;
    return inst;
  }
}

/** What to read from a release or sample folder, and what is left out (with why). */
export interface FolderPlan {
  files: string[];
  /** A subfolder holding `<person_id>.xml` records, when there is one. */
  records?: string;
  notes: string[];
}

export function planFolder(
  files: readonly string[],
  folders: readonly string[],
): FolderPlan | { error: string } {
  const has = (n: string) => files.includes(n);
  const plan: FolderPlan = { files: [], notes: [] };
  if (has(REVIEWED_FILE)) {
    plan.files.push(REVIEWED_FILE);
    if (has(RESPONSES_FILE)) plan.files.push(RESPONSES_FILE);
    else
      plan.notes.push(`no ${RESPONSES_FILE}: gold responses come from ${REVIEWED_FILE}'s clinician_response`);
  } else if (has(PUBLIC_SAMPLE_FILE)) {
    plan.files.push(PUBLIC_SAMPLE_FILE);
  } else if (has(ROUGE_FILE)) {
    plan.files.push(ROUGE_FILE);
  } else {
    return {
      error: `no MedAlign file in this folder: expected ${REVIEWED_FILE} (with ${RESPONSES_FILE}), ${PUBLIC_SAMPLE_FILE} or ${ROUGE_FILE}`,
    };
  }
  for (const f of files) {
    if (plan.files.includes(f) || !/\.(tsv|csv)$/i.test(f)) continue;
    plan.notes.push(
      f === ROUGE_FILE
        ? `${f} not imported: it lists every instruction without a patient; import it on its own for those`
        : `${f} not imported (import it on its own if it is an instruction file)`,
    );
  }
  const rec = [HELM_EHR_FOLDER, 'ehrs', 'ehr', 'records'].find((d) => folders.includes(d));
  if (rec) plan.records = rec;
  return plan;
}
