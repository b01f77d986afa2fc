/** Hover in instruction files: key docs from the schema, taxonomy, models, records, sections. */
import { MarkupKind } from 'vscode-languageserver-types';
import type { Hover } from 'vscode-languageserver-types';
import { checkContext, instructionSchema, taxonomy } from '../schema/schemas';
import { BASELINE_MODEL } from '../workspace/config';
import type { Workspace } from '../workspace/workspace';
import type { EhrRecord } from '../record/model';
import { locateInFrontMatter, toRange } from './document';
import type { ParsedDocument } from './document';
import { SECTION_DOCS } from './sections';
import { endpointDoc } from './completion';
import type { FileSystem } from '../host';
import { resolveRunSettings } from './runSettings';
import { contextTokenSection, instructionTokenSection, recordTokenSection } from './tokenHover';
import { SECTION_INSTRUCTION } from './sections';
import { formatInt } from '../util/format';
import { codeSpan, escapeMarkdown } from '../util/markdown';
import type { Cancel } from '../workspace/recordEngine';
import type { PropertySchema } from '../schema/schemas';

export async function doHover(
  parsed: ParsedDocument,
  offset: number,
  uri: string,
  workspace: Workspace,
  fs: FileSystem,
  cancel?: Cancel,
): Promise<Hover | null> {
  const { document, file } = parsed;
  const md = (value: string, span: { start: number; end: number }): Hover => ({
    contents: { kind: MarkupKind.Markdown, value },
    range: toRange(document, span),
  });

  const section = file.sections.find((s) => offset >= s.heading.start && offset <= s.heading.end);
  const settings = () => resolveRunSettings(file, uri, workspace, fs);
  if (section?.name === SECTION_INSTRUCTION) {
    return md(
      `**## ${section.name}**\n\n${SECTION_DOCS[section.name]}\n\n${await instructionTokenSection(await settings(), workspace)}`,
      section.heading,
    );
  }
  if (section) {
    return md(
      `**## ${section.name}**\n\n${SECTION_DOCS[section.name] ?? 'Unknown section: its text is ignored.'}`,
      section.heading,
    );
  }

  const loc = locateInFrontMatter(file, offset);
  if (loc.kind === 'key' && loc.pair) {
    const schema = instructionSchema.properties[loc.pair.key];
    if (!schema) return md(`Unknown key ${codeSpan(loc.pair.key)}.`, loc.pair.keySpan);
    return md(keyHover(loc.pair.key, schema), loc.pair.keySpan);
  }
  if (loc.kind !== 'value' || !loc.pair?.valueSpan) return null;
  const pair = loc.pair;
  const span = pair.valueSpan!;
  const value = pair.value;

  switch (pair.key) {
    case 'category': {
      const t = taxonomy.find((x) => x.subcategory === value);
      if (!t) return null;
      return md(
        `**${t.subcategory}** — *${t.category}*\n\n${t.description}\n\n(MedAlign instruction taxonomy)`,
        span,
      );
    }
    case 'strategy': {
      const s = instructionSchema.properties['strategy'];
      const i = (s.enum ?? []).indexOf(String(value));
      return i >= 0 ? md(`**strategy: ${String(value)}**\n\n${s.enumDescriptions?.[i] ?? ''}`, span) : null;
    }
    case 'context': {
      const c = checkContext(value);
      if (!c.ok) return md(`**context**\n\n${c.message}`, span);
      const n = c.tokens;
      const s = await settings();
      const resolved = await workspace.resolveRecord(uri, file.data);
      const info =
        resolved && !resolved.outside ? await workspace.records.get(resolved.uri, cancel) : undefined;
      const budget = await contextTokenSection(info, s, workspace, cancel);
      return md(
        `**Context window: ${formatInt(n)} tokens**\n\n` +
          (budget ||
            `Generation reserve: ${s.reserve} tokens. The record gets what is left after the template and the instruction.`),
        span,
      );
    }
    case 'model': {
      if (value === BASELINE_MODEL) {
        return md(
          '**baseline** — built in\n\nAn extractive answer from the record passages that best match the instruction (BM25). No key, no network.',
          span,
        );
      }
      const e = workspace.config.endpoints.find((x) => x.id === value);
      return e ? md(endpointDoc(e), span) : null;
    }
    case 'patient':
    case 'record': {
      const resolved = await workspace.resolveRecord(uri, file.data);
      if (!resolved) return null;
      if (resolved.outside)
        return md(`**Record not read**: ${escapeMarkdown(resolved.outside.message)}`, span);
      const info = await workspace.records.get(resolved.uri, cancel);
      const label = escapeMarkdown(workspace.label(resolved.uri));
      if (!info.exists) return md(`**Record not found**: ${label}`, span);
      if (info.record?.diagnostics[0]?.code === 'record-too-large') {
        return md(`**${label}** — ${info.record.diagnostics[0].message}`, span);
      }
      if (!info.record?.ok) return md(`**${label}** — not a valid MedAlign record.`, span);
      const tokens = await recordTokenSection(info, await settings(), workspace, cancel);
      return md(
        recordSummary(label, info.record, info.size ?? info.record.size) + (tokens ? `\n\n${tokens}` : ''),
        span,
      );
    }
    case 'template': {
      const t = await workspace.resolveTemplate(uri, file.data);
      if (t?.outside) return md(`**Template not read**: ${escapeMarkdown(t.outside.message)}`, span);
      return t ? md(`**Template** ${escapeMarkdown(workspace.label(t.uri))}`, span) : null;
    }
    default:
      return null;
  }
}

export function recordSummary(label: string, r: EhrRecord, bytes: number): string {
  const span =
    r.firstDate && r.lastDate
      ? `${r.firstDate.iso.slice(0, 10)} → ${r.lastDate.iso.slice(0, 10)}`
      : 'no dates';
  const years =
    r.firstDate && r.lastDate
      ? ` (${((r.lastDate.epochMs - r.firstDate.epochMs) / 31_557_600_000).toFixed(1)} years)`
      : '';
  const person = r.person
    ? escapeMarkdown(
        [r.person.gender, r.person.ageInYears !== undefined ? `${r.person.ageInYears} y` : undefined]
          .filter(Boolean)
          .join(', '),
      )
    : '';
  // Short lines (no table): they read at any hover width.
  return [
    `**Record** ${label}${person ? ` — ${person}` : ''}`,
    '',
    `${formatInt(r.visits.length)} visits · ${formatInt(r.eventCount)} events · ${formatInt(r.noteCount)} notes · ${formatBytes(bytes)}  `,
    `${span}${years}`,
  ].join('\n');
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(2)} MB`;
}

/** Enums longer than this are summarized in a key's hover instead of listed. */
const ENUM_LIST_MAX = 8;

/**
 * A key's hover: its type (short enums spelled out), its description, and for a long enum a short
 * summary (the taxonomy's groups for `category`) instead of every value.
 */
export function keyHover(key: string, schema: PropertySchema): string {
  const longEnum = (e: readonly unknown[] | undefined) => (e?.length ?? 0) > ENUM_LIST_MAX;
  const typeOf = (s: PropertySchema): string =>
    s.enum && !longEnum(s.enum)
      ? s.enum.map(String).join(' | ')
      : Array.isArray(s.type)
        ? s.type.join(' | ')
        : (s.type ?? '');
  const type = schema.anyOf ? schema.anyOf.map(typeOf).join(' | ') : typeOf(schema);
  const lines = [`**${key}**${type ? ` ${codeSpan(type)}` : ''}`, '', schema.description ?? ''];
  const values = schema.enum ?? schema.anyOf?.find((s) => longEnum(s.enum))?.enum;
  if (longEnum(values)) {
    lines.push('');
    if (key === 'category') {
      const groups = new Map<string, number>();
      for (const t of taxonomy) groups.set(t.category, (groups.get(t.category) ?? 0) + 1);
      lines.push(`One of ${values!.length} subcategories, in ${groups.size} groups:`, '');
      for (const [g, n] of groups) lines.push(`- *${escapeMarkdown(g)}* (${n})`);
    } else {
      const first = values!.slice(0, 3).map((v) => codeSpan(String(v)));
      lines.push(`One of ${values!.length} values: ${first.join(', ')}, …`);
    }
    lines.push('', `Completion (Ctrl+Space) after ${codeSpan(`${key}: `)} lists them all.`);
  }
  return lines.join('\n');
}
