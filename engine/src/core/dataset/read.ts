/**
 * A `.medalign` file read back as a dataset instruction (for `medalign export`). Apart from
 * model.ts so that what imports (the extension host) does not bundle the YAML parser.
 */
import { parseInstruction } from '../format/parse';
import type { InstructionFile } from '../format/parse';
import {
  SECTION_EVIDENCE,
  SECTION_GOLD,
  SECTION_INSTRUCTION,
  SECTION_OTHER_RESPONSES,
  SECTION_RELEASE_ROWS,
} from '../features/sectionNames';
import { decodeCell, unescapeBody } from './model';
import type { AnnotatorResponse, DatasetInstruction, ReleaseFields } from './model';

function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'boolean') return String(v);
  return undefined;
}

function sectionText(file: InstructionFile, name: string, raw = false): string | undefined {
  const s = file.sections.find((x) => x.name === name);
  if (!s) return undefined;
  const text = file.text.slice(s.body.start, s.body.end).replace(/\r\n/g, '\n').replace(/\n+$/, '');
  return raw ? text : unescapeBody(text);
}

/**
 * An instruction file read back for export. `undefined` when it has no usable id or instruction
 * (the caller reports it: `medalign check` says why).
 */
export function readInstructionText(text: string): DatasetInstruction | undefined {
  const file = parseInstruction(text);
  const d = file.data;
  if (!d) return undefined;
  const id = str(d['id']);
  const question = sectionText(file, SECTION_INSTRUCTION);
  if (id === undefined || question === undefined) return undefined;
  const inst: DatasetInstruction = { id, question, tags: [], others: [] };
  const patient = str(d['patient']);
  if (patient !== undefined) inst.patient = patient;
  const category = str(d['category']);
  if (category !== undefined) inst.category = category;
  if (Array.isArray(d['tags'])) inst.tags = d['tags'].map(str).filter((t): t is string => t !== undefined);
  const source = str(d['source']);
  if (source !== undefined) inst.source = source;
  const gold = sectionText(file, SECTION_GOLD);
  if (gold !== undefined) inst.gold = gold;
  const evidence = sectionText(file, SECTION_EVIDENCE);
  if (evidence !== undefined) inst.evidence = evidence;
  const others = sectionText(file, SECTION_OTHER_RESPONSES, true);
  if (others !== undefined) inst.others = readOthers(others);
  const rel = d['release'];
  if (rel && typeof rel === 'object' && !Array.isArray(rel)) {
    const o = rel as Record<string, unknown>;
    const r: ReleaseFields = {
      file: str(o['file']) ?? '',
      row: typeof o['row'] === 'number' ? o['row'] : Number.MAX_SAFE_INTEGER,
      columns: Array.isArray(o['columns'])
        ? o['columns'].map(str).filter((c): c is string => c !== undefined)
        : [],
    };
    for (const k of ['is_selected_ehr', 'filename', 'subcategory', 'gold'] as const) {
      const v = str(o[k]);
      if (v !== undefined) r[k] = v;
    }
    const rows = sectionText(file, SECTION_RELEASE_ROWS, true);
    if (rows !== undefined) {
      const lines = rows.split('\n').filter((l) => !l.startsWith('```'));
      if (lines.length > 0) {
        const cells = lines.map((l) => l.split('\t').map(decodeCell));
        r.rowColumns = cells[0];
        r.rows = cells.slice(1);
      }
    }
    inst.release = r;
  }
  return inst;
}

function readOthers(text: string): AnnotatorResponse[] {
  const out: AnnotatorResponse[] = [];
  let cur: { annotator: string; lines: string[] } | undefined;
  const flush = () => {
    if (cur) out.push({ annotator: cur.annotator, text: cur.lines.join('\n').replace(/\n+$/, '') });
  };
  for (const line of text.split('\n')) {
    const m = /^###[ \t]+(.*?)[ \t]*$/.exec(line);
    if (m) {
      flush();
      cur = { annotator: m[1], lines: [] };
    } else if (cur) {
      cur.lines.push(line);
    }
  }
  flush();
  // Inside the section the responses' own lines were escaped like every section's.
  return out.map((o) => ({ annotator: o.annotator, text: unescapeBody(o.text) }));
}
