/**
 * Diagnostics for an instruction file: YAML syntax, schema (from instruction.schema.json), records,
 * templates, models, duplicate ids across the workspace, and sections.
 */
import type { ErrorObject } from 'ajv';
import type { Diagnostic } from 'vscode-languageserver-types';
import { DiagnosticRelatedInformation, Location, Range } from 'vscode-languageserver-types';
import type { FileSystem } from '../host';
import { sectionText } from '../format/parse';
import type { Span } from '../format/parse';
import { instructionKeys, instructionSchema, validateInstructionData } from '../schema/schemas';
import type { PropertySchema } from '../schema/schemas';
import { modelIds } from '../workspace/config';
import { OUTSIDE_WORKSPACE_CODE } from '../workspace/bounds';
import type { Workspace } from '../workspace/workspace';
import {
  DiagnosticSeverity,
  didYouMean,
  editDistance,
  makeDiagnostic,
  pairFor,
  spanAtPath,
} from './document';
import type { ParsedDocument } from './document';
import { KNOWN_SECTIONS, SECTION_GOLD, SECTION_INSTRUCTION, sectionFor } from './sections';
import { relativePath, dirname } from '../util/uri';
import { idRangeIn } from '../workspace/idIndex';
import { parseInstruction } from '../format/parse';
import { contextWindowDiagnostic } from './contextWindow';

const MAX_SCHEMA_ERRORS = 100;

/** What a quick fix needs, carried on the diagnostic. */
export interface FixData {
  /** Replace the diagnostic's range with this text. */
  replacement?: string;
  /** Insert `key: ` into the front matter. */
  insertKey?: string;
  /** Replace the range with a freshly generated unique id. */
  uniqueId?: boolean;
  /** Append a `## Instruction` section. */
  addInstruction?: boolean;
  /** Insert this line (`context: 32k`) into the front matter. */
  insertLine?: string;
  /**
   * Other replacements of the diagnostic's range, none of them sure enough to be the preferred fix
   * (the nearest existing patient ids of a patient without a record).
   */
  alternatives?: { text: string; title: string }[];
}

/** How many nearest patient ids (or record files) a missing record's did-you-mean offers. */
export const NEAREST_RECORDS = 3;

export async function doValidation(
  parsed: ParsedDocument,
  uri: string,
  workspace: Workspace,
  fs: FileSystem,
): Promise<Diagnostic[]> {
  const { document, file } = parsed;
  const out: Diagnostic[] = [];
  const sev = (s: 'error' | 'warning') =>
    s === 'error' ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning;
  for (const p of file.problems)
    out.push(makeDiagnostic(document, p.span, sev(p.severity), p.code, p.message));

  const fm = file.frontMatter;
  const data = file.data;
  if (fm && data) {
    out.push(...schemaDiagnostics(parsed, validateInstructionData(data)));
    await semanticDiagnostics(parsed, uri, workspace, fs, out);
  }
  out.push(...sectionDiagnostics(parsed));
  return out;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a number';
  return `a ${typeof v}`;
}

function expectedText(schema: PropertySchema | undefined): string {
  if (!schema) return 'a valid value';
  if (schema.anyOf) return schema.anyOf.map(expectedText).join(', or ');
  if (schema.enum) return `one of ${schema.enum.map((e) => `\`${e}\``).join(', ')}`;
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  const words = types.map((t) =>
    t === 'array'
      ? `a list${schema.items?.type ? ` of ${String(schema.items.type)}s` : ''} (e.g. \`[a, b]\`)`
      : t === 'integer'
        ? `an integer${schema.minimum !== undefined ? ` ≥ ${schema.minimum}` : ''}`
        : `a ${t}`,
  );
  return words.join(' or ') || 'a valid value';
}

function schemaDiagnostics(parsed: ParsedDocument, errors: ErrorObject[]): Diagnostic[] {
  const { document, file } = parsed;
  const fm = file.frontMatter!;
  const data = file.data ?? {};
  const out: Diagnostic[] = [];
  const done = new Set<string>();
  const props = instructionSchema.properties;
  const valueSpan = (path: string): Span => spanAtPath(file, path) ?? spanAtPath(file, path, true) ?? fm.open;

  // A pathological front matter can produce thousands of errors: report the first ones.
  for (const e of errors.slice(0, MAX_SCHEMA_ERRORS)) {
    if (e.schemaPath.startsWith('#/oneOf/')) continue; // branch details; reported via `oneOf` below
    const top = e.instancePath.split('/')[1] ?? '';
    const propSchema = top ? props[top] : undefined;
    // anyOf branches of one property collapse into one message.
    if (e.schemaPath.includes('/anyOf/') || e.keyword === 'anyOf') {
      if (done.has(`anyOf:${top}`)) continue;
      done.add(`anyOf:${top}`);
      const value = data[top];
      const fix = typeof value === 'string' ? undefined : reshaped(data, top, value, propSchema);
      const hint = typeof value === 'string' ? didYouMean(value, collectEnum(propSchema)) : fix;
      out.push(
        makeDiagnostic(
          document,
          valueSpan(`/${top}`),
          DiagnosticSeverity.Error,
          typeof value === 'string' || typeof value === 'number' ? 'schema-enum' : 'schema-type',
          `\`${top}\` must be ${expectedText(propSchema)}; got ${describe(value)}.` +
            (fix ? ` Did you mean \`${top}: ${fix}\`?` : hint ? ` Did you mean '${hint}'?` : ''),
          hint ? ({ replacement: hint } satisfies FixData) : undefined,
        ),
      );
      continue;
    }
    switch (e.keyword) {
      case 'additionalProperties': {
        const key = String((e.params as { additionalProperty: string }).additionalProperty);
        const present = new Set(Object.keys(data));
        const hint = didYouMean(
          key,
          instructionKeys.filter((k) => !present.has(k)),
        );
        out.push(
          makeDiagnostic(
            document,
            spanAtPath(file, `/${escapePointer(key)}`, true) ?? fm.open,
            DiagnosticSeverity.Error,
            'schema-unknown-key',
            `Unknown key '${key}'.${hint ? ` Did you mean '${hint}'?` : ''} Known keys: ${instructionKeys.join(', ')}.`,
            hint ? ({ replacement: hint } satisfies FixData) : undefined,
          ),
        );
        break;
      }
      case 'required': {
        const key = String((e.params as { missingProperty: string }).missingProperty);
        out.push(
          makeDiagnostic(
            document,
            fm.open,
            DiagnosticSeverity.Error,
            'schema-required',
            `Missing required key '${key}': ${props[key]?.description ?? ''}`.trim(),
            { insertKey: key } satisfies FixData,
          ),
        );
        break;
      }
      case 'oneOf': {
        const hasPatient = 'patient' in data;
        const hasRecord = 'record' in data;
        if (hasPatient && hasRecord) {
          for (const k of ['patient', 'record']) {
            out.push(
              makeDiagnostic(
                document,
                spanAtPath(file, `/${k}`, true) ?? fm.open,
                DiagnosticSeverity.Error,
                'schema-one-of',
                'Give either `patient` or `record`, not both: they would name two records.',
              ),
            );
          }
        } else {
          out.push(
            makeDiagnostic(
              document,
              fm.open,
              DiagnosticSeverity.Error,
              'schema-required',
              "Missing the patient's record: add `patient: <person_id>` or `record: <path to .xml>`.",
              { insertKey: 'patient' } satisfies FixData,
            ),
          );
        }
        break;
      }
      case 'type': {
        if (done.has(`type:${e.instancePath}`)) break;
        done.add(`type:${e.instancePath}`);
        const isItem = e.instancePath.split('/').length > 2;
        const got = valueAt(data, e.instancePath);
        const fix = isItem ? undefined : reshaped(data, top, got, propSchema);
        out.push(
          makeDiagnostic(
            document,
            valueSpan(e.instancePath),
            DiagnosticSeverity.Error,
            'schema-type',
            (isItem
              ? `Items of \`${top}\` must be ${expectedText(propSchema?.items)}; got ${describe(got)}.`
              : `\`${top}\` must be ${expectedText(propSchema)}; got ${describe(got)}.`) +
              (fix ? ` Did you mean \`${top}: ${fix}\`?` : ''),
            fix ? ({ replacement: fix } satisfies FixData) : undefined,
          ),
        );
        break;
      }
      case 'enum': {
        const value = valueAt(data, e.instancePath);
        const allowed = collectEnum(propSchema);
        const hint = typeof value === 'string' ? didYouMean(value, allowed) : undefined;
        const list = allowed.length > 8 ? `${allowed.slice(0, 8).join(', ')}, …` : allowed.join(', ');
        out.push(
          makeDiagnostic(
            document,
            valueSpan(e.instancePath),
            DiagnosticSeverity.Error,
            'schema-enum',
            `'${String(value)}' is not a valid ${top}.${hint ? ` Did you mean '${hint}'?` : ''} Expected one of: ${list}.`,
            hint ? ({ replacement: hint } satisfies FixData) : undefined,
          ),
        );
        break;
      }
      default: {
        out.push(
          makeDiagnostic(
            document,
            valueSpan(e.instancePath || '/'),
            DiagnosticSeverity.Error,
            'schema-value',
            `\`${top || 'front matter'}\` ${e.message ?? 'is invalid'}.`,
          ),
        );
      }
    }
  }
  return out;
}

async function semanticDiagnostics(
  parsed: ParsedDocument,
  uri: string,
  workspace: Workspace,
  fs: FileSystem,
  out: Diagnostic[],
): Promise<void> {
  const { document, file } = parsed;
  const data = file.data ?? {};

  // Model ids come from the workspace config, so they are checked here rather than by the schema.
  const model = pairFor(file, 'model');
  if (model && typeof model.value === 'string' && model.valueSpan) {
    const ids = modelIds(workspace.config);
    if (!ids.includes(model.value)) {
      const hint = didYouMean(model.value, ids);
      out.push(
        makeDiagnostic(
          document,
          model.valueSpan,
          DiagnosticSeverity.Warning,
          'model-unknown',
          `Unknown model '${model.value}'.${hint ? ` Did you mean '${hint}'?` : ''} Models: ${ids.join(', ')} (endpoints come from medalign.config.json).`,
          hint ? ({ replacement: hint } satisfies FixData) : undefined,
        ),
      );
    }
  }

  // The context against the endpoint's window (the same sentence runs, pack and batch export say).
  const windowProblem = contextWindowDiagnostic(parsed, workspace);
  if (windowProblem) out.push(windowProblem);

  const resolved = await workspace.resolveRecord(uri, data);
  if (resolved?.outside) {
    const pair = pairFor(file, resolved.key);
    const span = pair?.valueSpan ?? pair?.keySpan ?? file.frontMatter!.open;
    out.push(
      makeDiagnostic(
        document,
        span,
        DiagnosticSeverity.Error,
        OUTSIDE_WORKSPACE_CODE,
        resolved.outside.message,
      ),
    );
  } else if (resolved) {
    const pair = pairFor(file, resolved.key);
    const span = pair?.valueSpan ?? pair?.keySpan ?? file.frontMatter!.open;
    const info = await workspace.records.get(resolved.uri);
    const where = workspace.label(resolved.uri);
    if (!info.exists) {
      const near =
        resolved.key === 'patient'
          ? nearest(resolved.value, await workspace.patientIds())
          : nearest(
              resolved.value,
              (await workspace.recordFiles()).map((r) => relativePath(dirname(uri), r)),
            );
      const alternatives = near.map((n) => ({
        text: resolved.key === 'patient' ? yamlScalar(n) : n,
        title: resolved.key === 'patient' ? `Change to patient ${n} (nearest id)` : `Change to '${n}'`,
      }));
      const nearText = near.length
        ? ` Nearest ${resolved.key === 'patient' ? 'patient ids' : 'records'}: ${near.join(', ')}.`
        : '';
      out.push(
        makeDiagnostic(
          document,
          span,
          DiagnosticSeverity.Error,
          'record-not-found',
          (resolved.key === 'patient'
            ? `No record for patient ${resolved.value}: ${where} does not exist (records folder: ${workspace.config.recordsFolder}/).`
            : `Record not found: ${where}.`) + nearText,
          alternatives.length ? ({ alternatives } satisfies FixData) : undefined,
        ),
      );
    } else if (info.record?.diagnostics[0]?.code === 'record-too-large') {
      const why = info.record.diagnostics[0].message.replace(/^The record is/, `${where} is`);
      out.push(makeDiagnostic(document, span, DiagnosticSeverity.Error, 'record-too-large', why));
    } else if (info.record && !info.record.ok) {
      const rootProblem = info.record.diagnostics.find((d) => d.code === 'record-root');
      const xmlProblem = info.record.diagnostics.find((d) => d.code === 'xml-malformed');
      out.push(
        makeDiagnostic(
          document,
          span,
          DiagnosticSeverity.Error,
          rootProblem && !xmlProblem ? 'record-root' : 'record-malformed',
          rootProblem && !xmlProblem
            ? `${where} is not a MedAlign record: its root element is <${info.record.rootName ?? '?'}>, expected <record>.`
            : `${where} is not well-formed XML: ${(xmlProblem?.message ?? 'it could not be parsed').replace(/^Malformed XML:\s*/i, '').replace(/\.+$/, '')}.`,
        ),
      );
    }
  }

  const template = pairFor(file, 'template');
  const t = await workspace.resolveTemplate(uri, data);
  if (t?.outside) {
    // The config's `defaults.template` has no span in this file: the front matter's first line.
    const span = (!t.fromConfig && template?.valueSpan) || file.frontMatter!.open;
    out.push(
      makeDiagnostic(document, span, DiagnosticSeverity.Error, OUTSIDE_WORKSPACE_CODE, t.outside.message),
    );
  } else if (template && typeof template.value === 'string' && template.valueSpan) {
    if (t && (await fs.stat(t.uri))?.type !== 'file') {
      out.push(
        makeDiagnostic(
          document,
          template.valueSpan,
          DiagnosticSeverity.Error,
          'template-not-found',
          `Template not found: ${workspace.label(t.uri)}.`,
        ),
      );
    }
  }

  const id = pairFor(file, 'id');
  if (id?.valueSpan) {
    const others = workspace.ids.othersWithSameId(uri);
    if (others.length > 0) {
      const d = makeDiagnostic(
        document,
        id.valueSpan,
        DiagnosticSeverity.Error,
        'duplicate-id',
        `Id ${String(id.value)} is also used by ${others.map((o) => workspace.label(o)).join(', ')}. Ids must be unique across the workspace.`,
        { uniqueId: true } satisfies FixData,
      );
      d.relatedInformation = await Promise.all(
        others.map(async (o) =>
          DiagnosticRelatedInformation.create(
            Location.create(o, await idRange(workspace, fs, o)),
            'Same id here',
          ),
        ),
      );
      out.push(d);
    }
  }
}

function sectionDiagnostics(parsed: ParsedDocument): Diagnostic[] {
  const { document, file } = parsed;
  const out: Diagnostic[] = [];
  const seen = new Map<string, number>();
  for (const s of file.sections) {
    seen.set(s.name, (seen.get(s.name) ?? 0) + 1);
    if (!KNOWN_SECTIONS.includes(s.name)) {
      const hint = sectionFor(s.name);
      out.push(
        makeDiagnostic(
          document,
          s.nameSpan.end > s.nameSpan.start ? s.nameSpan : s.heading,
          DiagnosticSeverity.Warning,
          'section-unknown',
          `Unknown section '${s.name}': its text is ignored.${hint ? ` Did you mean '${hint}'?` : ''} Sections: ${KNOWN_SECTIONS.join(', ')}.`,
          hint ? ({ replacement: hint } satisfies FixData) : undefined,
        ),
      );
    } else if (seen.get(s.name) === 2) {
      out.push(
        makeDiagnostic(
          document,
          s.heading,
          DiagnosticSeverity.Warning,
          'section-duplicate',
          `Section '${s.name}' appears more than once; only the first is used.`,
        ),
      );
    }
  }
  const instruction = file.sections.find((s) => s.name === SECTION_INSTRUCTION);
  if (!instruction) {
    const at = file.frontMatter?.close ?? file.frontMatter?.open ?? { start: 0, end: 0 };
    out.push(
      makeDiagnostic(
        document,
        at,
        DiagnosticSeverity.Error,
        'instruction-missing',
        'Missing the `## Instruction` section: the question a clinician asks of the record.',
        { addInstruction: true } satisfies FixData,
      ),
    );
  } else {
    if (sectionText(file, instruction) === '') {
      out.push(
        makeDiagnostic(
          document,
          instruction.heading,
          DiagnosticSeverity.Error,
          'instruction-empty',
          'The instruction is empty: write the question under `## Instruction`.',
        ),
      );
    }
    const gold = file.sections.find((s) => s.name === SECTION_GOLD);
    if (!gold || sectionText(file, gold) === '') {
      out.push(
        makeDiagnostic(
          document,
          instruction.heading,
          DiagnosticSeverity.Hint,
          'gold-missing',
          'No gold response yet: add `## Gold response` so model answers can be compared with it.',
        ),
      );
    }
  }
  return out;
}

function collectEnum(schema: PropertySchema | undefined): string[] {
  if (!schema) return [];
  return [...(schema.enum ?? []).map(String), ...(schema.anyOf ?? []).flatMap(collectEnum)];
}

function valueAt(data: Record<string, unknown>, pointer: string): unknown {
  let v: unknown = data;
  for (const seg of pointer.split('/').slice(1)) {
    if (v && typeof v === 'object')
      v = (v as Record<string, unknown>)[seg.replace(/~1/g, '/').replace(/~0/g, '~')];
    else return undefined;
  }
  return v;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return `'${v.length > 40 ? v.slice(0, 40) + '…' : v}' (a string)`;
  if (typeof v === 'number')
    return `${v} (${typeName(v).replace(/^an? /, 'a ')})`.replace('(a integer)', '(an integer)');
  return typeName(v);
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * The value of `top` reshaped to what the schema expects, as YAML text, when that is unambiguous: a
 * one-item list where a scalar is expected (`context: [32k]` → `32k`), a scalar where a list is
 * expected (`tags: stroke` → `[stroke]`; `a, b` → `[a, b]`). Only offered when the reshaped value is
 * valid.
 */
function reshaped(
  data: Record<string, unknown>,
  top: string,
  value: unknown,
  schema: PropertySchema | undefined,
): string | undefined {
  if (!schema || !top) return undefined;
  const scalar = (v: unknown): v is string | number =>
    (typeof v === 'string' && v.trim() !== '') || (typeof v === 'number' && Number.isFinite(v));
  let candidate: unknown;
  if (Array.isArray(value) && value.length === 1 && scalar(value[0])) {
    candidate = value[0];
  } else if (
    scalar(value) &&
    (schema.type === 'array' || (Array.isArray(schema.type) && schema.type.includes('array')))
  ) {
    candidate =
      typeof value === 'string'
        ? value
            .split(',')
            .map((v) => v.trim())
            .filter((v) => v !== '')
        : [value];
  } else {
    return undefined;
  }
  const errors = validateInstructionData({ ...data, [top]: candidate });
  if (errors.some((e) => e.instancePath === `/${top}` || e.instancePath.startsWith(`/${top}/`)))
    return undefined;
  return Array.isArray(candidate)
    ? `[${candidate.map((v) => yamlScalar(String(v))).join(', ')}]`
    : yamlScalar(String(candidate));
}

/** Words YAML reads as something other than a string. */
const YAML_RESERVED = /^(true|false|yes|no|on|off|null|~|y|n)$/i;

/** `text` as a YAML scalar that reads back as the same string (or, for plain numbers, the same id). */
export function yamlScalar(text: string): string {
  if (/^[1-9]\d*$/.test(text)) return text;
  if (
    /^[A-Za-z][\w ./-]*$/.test(text) &&
    !YAML_RESERVED.test(text) &&
    !/\s$/.test(text) &&
    !text.includes(' #')
  )
    return text;
  if (/^\d+(\.\d+)?[kK]$/.test(text)) return text;
  return JSON.stringify(text);
}

/** The `NEAREST_RECORDS` candidates closest to `value` by edit distance (ties in name order). */
function nearest(value: string, candidates: readonly string[]): string[] {
  if (value.length > 200) return [];
  return candidates
    .map((c) => ({ c, d: editDistance(value, c) }))
    .sort((a, b) => a.d - b.d || (a.c < b.c ? -1 : a.c > b.c ? 1 : 0))
    .slice(0, NEAREST_RECORDS)
    .map((x) => x.c);
}

/** Where another file's `id` value is (its first line when it cannot be read). */
async function idRange(workspace: Workspace, fs: FileSystem, uri: string): Promise<Range> {
  const known = workspace.ids.rangeFor(uri);
  if (known) return known;
  const text = await fs.readFile(uri);
  return (text !== undefined && idRangeIn(text, parseInstruction(text))) || Range.create(0, 0, 0, 0);
}
