/**
 * An instruction as the dataset files know it, and its `.medalign` text both ways: what
 * `medalign import` writes and what `medalign export` reads back (docs/format.md, "Imported
 * instructions").
 */
import {
  SECTION_EVIDENCE,
  SECTION_GOLD,
  SECTION_INSTRUCTION,
  SECTION_OTHER_RESPONSES,
  SECTION_RELEASE_ROWS,
} from '../features/sectionNames';
import { hashKey } from '../util/hash';

export interface AnnotatorResponse {
  /** `annotator_num` (`Annotator_2`). */
  annotator: string;
  text: string;
}

/** What the release keeps about an instruction beyond the format's own keys. */
export interface ReleaseFields {
  /** The file it came from (a name, no folder). */
  file: string;
  /** Its order in that file (the first data row is 1). */
  row: number;
  /** That file's columns, in order. */
  columns: string[];
  is_selected_ehr?: string;
  filename?: string;
  /** `human_assigned_subcategory_1` when it is not a taxonomy subcategory (then also a tag). */
  subcategory?: string;
  /** The `annotator_num` of the gold response, when it came from the responses file. */
  gold?: string;
  /** Per-row columns (model responses, review labels, or instruction columns that vary by row). */
  rowColumns?: string[];
  rows?: string[][];
}

export interface DatasetInstruction {
  id: string;
  patient?: string;
  question: string;
  category?: string;
  tags: string[];
  source?: string;
  gold?: string;
  evidence?: string;
  others: AnnotatorResponse[];
  release?: ReleaseFields;
}

const PLAIN_NUMBER = /^(0|[1-9][0-9]{0,14})$/;

/** Text YAML reads back as the same string when written plain (in a flow list too). */
const PLAIN_TEXT = /^[A-Za-z_][A-Za-z0-9_ ./()&+-]*$/;
const YAML_WORDS = /^(true|false|null|yes|no|on|off|y|n)$/i;

/**
 * A YAML scalar for a front-matter value: a plain number for a short id, plain text when nothing in
 * it means something to YAML, else a JSON string (JSON strings are YAML double-quoted scalars).
 */
function scalar(v: string): string {
  if (PLAIN_NUMBER.test(v)) return v;
  if (PLAIN_TEXT.test(v) && !v.endsWith(' ') && !YAML_WORDS.test(v)) return v;
  return JSON.stringify(v);
}

function flowList(items: readonly string[]): string {
  return `[${items.map((s) => (PLAIN_NUMBER.test(s) ? JSON.stringify(s) : scalar(s))).join(', ')}]`;
}

/** A line of a field that would read as a heading (or an escaped one) gets one more backslash. */
export function escapeBody(text: string): string {
  return text.replace(/^(\\*#)/gm, '\\$1');
}

export function unescapeBody(text: string): string {
  return text.replace(/^\\(\\*#)/gm, '$1');
}

/** A release-row value: backslash escapes for `\`, tab, CR, LF, and a leading `#` or backtick. */
function encodeCell(v: string, first: boolean): string {
  let s = v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\r/g, '\\r').replace(/\n/g, '\\n');
  if (first && (s.startsWith('#') || s.startsWith('`'))) s = '\\' + s;
  return s;
}

export function decodeCell(s: string): string {
  return s.replace(/\\(.)/g, (_m, c: string) => (c === 't' ? '\t' : c === 'r' ? '\r' : c === 'n' ? '\n' : c));
}

export const IMPORTED_KEY = 'imported';

/** The `.medalign` text of an instruction, with `imported:` the fingerprint of the rest. */
export function renderInstruction(inst: DatasetInstruction): string {
  const fm: string[] = [`id: ${scalar(inst.id)}`];
  if (inst.patient !== undefined) fm.push(`patient: ${scalar(inst.patient)}`);
  if (inst.category !== undefined) fm.push(`category: ${scalar(inst.category)}`);
  if (inst.tags.length) fm.push(`tags: ${flowList(inst.tags)}`);
  if (inst.source !== undefined) fm.push(`source: ${scalar(inst.source)}`);
  const r = inst.release;
  if (r) {
    fm.push('release:');
    fm.push(`  file: ${scalar(r.file)}`);
    fm.push(`  row: ${String(r.row)}`);
    fm.push(`  columns: ${flowList(r.columns)}`);
    if (r.is_selected_ehr !== undefined) fm.push(`  is_selected_ehr: ${scalar(r.is_selected_ehr)}`);
    if (r.filename !== undefined) fm.push(`  filename: ${scalar(r.filename)}`);
    if (r.subcategory !== undefined) fm.push(`  subcategory: ${scalar(r.subcategory)}`);
    if (r.gold !== undefined) fm.push(`  gold: ${scalar(r.gold)}`);
  }
  const body: string[] = [`## ${SECTION_INSTRUCTION}\n${escapeBody(inst.question)}\n`];
  if (inst.gold !== undefined) body.push(`## ${SECTION_GOLD}\n${escapeBody(inst.gold)}\n`);
  if (inst.evidence !== undefined) body.push(`## ${SECTION_EVIDENCE}\n${escapeBody(inst.evidence)}\n`);
  if (inst.others.length) {
    body.push(
      `## ${SECTION_OTHER_RESPONSES}\n\n` +
        inst.others.map((o) => `### ${o.annotator}\n${escapeBody(o.text)}\n`).join('\n'),
    );
  }
  if (r?.rowColumns && r.rows) {
    const lines = [r.rowColumns, ...r.rows].map((cells) =>
      cells.map((c, i) => encodeCell(c, i === 0)).join('\t'),
    );
    body.push(`## ${SECTION_RELEASE_ROWS}\n\`\`\`tsv\n${lines.join('\n')}\n\`\`\`\n`);
  }
  const withoutHash = `---\n${fm.join('\n')}\n${IMPORTED_KEY}: \n---\n\n${body.join('\n')}`;
  return withoutHash.replace(`\n${IMPORTED_KEY}: \n`, `\n${IMPORTED_KEY}: ${fingerprint(withoutHash)}\n`);
}

/**
 * The fingerprint of a file's text without its own `imported:` value. A file whose stored
 * fingerprint matches is as `medalign import` wrote it; a mismatch means someone edited it.
 */
export function fingerprint(text: string): string {
  const t = text.replace(/\r\n/g, '\n').replace(/\nimported:[^\n]*\n/, `\n${IMPORTED_KEY}: \n`);
  return hashKey(t).replace(':', '-');
}

/** The `imported:` value stored in a file, if any. */
export function storedFingerprint(text: string): string | undefined {
  const m = /\nimported:[ \t]*([^\s#]+)[ \t]*\r?\n/.exec(text);
  return m?.[1];
}

/** Whether a file is as import wrote it (its stored fingerprint matches its text). */
export function isUnedited(text: string): boolean {
  const s = storedFingerprint(text);
  return s !== undefined && s === fingerprint(text);
}
