/** Completion in instruction files: keys, enum values, models, patients, records, templates, sections. */
import { CompletionItemKind, CompletionList, MarkupKind, Range, TextEdit } from 'vscode-languageserver-types';
import type { CompletionItem } from 'vscode-languageserver-types';
import { contextSizes, instructionKeys, instructionSchema, taxonomy } from '../schema/schemas';
import { BASELINE_MODEL } from '../workspace/config';
import type { Workspace } from '../workspace/workspace';
import { TEMPLATE_EXT } from '../workspace/workspace';
import { dirname, relativePath } from '../util/uri';
import { frontMatterPairs, locateInFrontMatter, toRange } from './document';
import type { ParsedDocument } from './document';
import { KNOWN_SECTIONS, SECTION_DOCS, SECTION_RELEASE_ROWS } from './sections';
import { formatInt } from '../util/format';
import { codeSpan, escapeMarkdown } from '../util/markdown';

export async function doComplete(
  parsed: ParsedDocument,
  offset: number,
  uri: string,
  workspace: Workspace,
): Promise<CompletionList> {
  const { document, file } = parsed;
  const loc = locateInFrontMatter(file, offset);
  const items: CompletionItem[] = [];

  if (loc.kind === 'key') {
    const present = new Set(frontMatterPairs(file).map((p) => p.key));
    const range = toRange(document, loc.span);
    instructionKeys.forEach((key, i) => {
      if (present.has(key) && loc.pair?.key !== key) return;
      const s = instructionSchema.properties[key];
      const required = key === 'id' || key === 'patient' || key === 'record';
      items.push({
        label: key,
        kind: CompletionItemKind.Property,
        detail: required ? 'required' : 'optional',
        documentation: { kind: MarkupKind.Markdown, value: s.description ?? '' },
        textEdit: TextEdit.replace(range, key === 'tags' ? 'tags: []' : `${key}: `),
        sortText: String(i).padStart(2, '0'),
      });
    });
    return CompletionList.create(items, false);
  }

  if (loc.kind === 'value') {
    const range = toRange(document, loc.span);
    const add = (label: string, kind: CompletionItemKind, doc?: string, detail?: string) => {
      const item: CompletionItem = { label, kind, textEdit: TextEdit.replace(range, label) };
      if (doc) item.documentation = { kind: MarkupKind.Markdown, value: doc };
      if (detail) item.detail = detail;
      items.push(item);
    };
    switch (loc.key) {
      case 'category':
        // The group goes into the documentation: label and group together do not fit the row.
        for (const t of taxonomy)
          add(
            t.subcategory,
            CompletionItemKind.EnumMember,
            `*${escapeMarkdown(t.category)}*\n\n${escapeMarkdown(t.description)}`,
          );
        break;
      case 'strategy': {
        const s = instructionSchema.properties['strategy'];
        (s.enum ?? []).forEach((v, i) =>
          add(String(v), CompletionItemKind.EnumMember, s.enumDescriptions?.[i]),
        );
        break;
      }
      case 'context':
        contextSizes.forEach((c) => add(c, CompletionItemKind.EnumMember, undefined, contextDetail(c)));
        break;
      case 'model':
        add(
          BASELINE_MODEL,
          CompletionItemKind.Value,
          'Built-in extractive baseline: no key, no network.',
          'built in',
        );
        for (const e of workspace.config.endpoints) {
          add(e.id, CompletionItemKind.Value, endpointDoc(e), shortDetail(e.model, e.id));
        }
        break;
      case 'patient':
        for (const id of await workspace.patientIds()) {
          add(id, CompletionItemKind.Value, undefined, `${workspace.config.recordsFolder}/${id}.xml`);
        }
        break;
      case 'record': {
        const from = dirname(uri);
        for (const r of await workspace.recordFiles()) add(relativePath(from, r), CompletionItemKind.File);
        break;
      }
      case 'template': {
        const from = dirname(uri);
        for (const t of workspace.filesWithExtension(TEMPLATE_EXT))
          add(relativePath(from, t), CompletionItemKind.File);
        break;
      }
    }
    return CompletionList.create(items, false);
  }

  // Body: section headings at the start of a line.
  const fm = file.frontMatter;
  if (fm && offset < fm.span.end) return CompletionList.create([], false);
  const lineStart = file.text.lastIndexOf('\n', offset - 1) + 1;
  const before = file.text.slice(lineStart, offset);
  if (/^#{0,2}[ \t]*[\w ]*$/.test(before)) {
    const present = new Set(file.sections.map((s) => s.name));
    const range = Range.create(document.positionAt(lineStart), document.positionAt(offset));
    KNOWN_SECTIONS.forEach((name, i) => {
      // The release rows are written by `medalign import`, not by hand.
      if (present.has(name) || name === SECTION_RELEASE_ROWS) return;
      items.push({
        label: `## ${name}`,
        kind: CompletionItemKind.Module,
        documentation: { kind: MarkupKind.Markdown, value: SECTION_DOCS[name] ?? '' },
        textEdit: TextEdit.replace(range, `## ${name}\n`),
        filterText: before.startsWith('#') ? `## ${name}` : name,
        sortText: String(i),
      });
    });
  }
  return CompletionList.create(items, false);
}

/**
 * Label and detail share one row of the suggest widget (about 50 characters wide by default): a
 * detail longer than what is left is cut. Completion details are at most this long with their label.
 */
export const COMPLETION_ROW = 48;

/** `text` shortened to what fits beside `label` (the full text is in the documentation). */
function shortDetail(text: string, label: string): string {
  const room = Math.max(12, COMPLETION_ROW - label.length - 2);
  if (text.length <= room) return text;
  const tail = text.slice(text.lastIndexOf('/') + 1);
  return tail.length <= room ? tail : `${tail.slice(0, room - 1)}…`;
}

function contextDetail(c: string): string {
  const n = Number(c.slice(0, -1)) * 1024;
  return `${formatInt(n)} tokens`;
}

export function endpointDoc(e: {
  id: string;
  kind: string;
  model: string;
  baseUrl?: string;
  contextWindow?: number;
  encoding?: string;
}): string {
  const lines = [`**${escapeMarkdown(e.id)}** — ${e.kind}`, '', `- model: ${codeSpan(e.model)}`];
  if (e.baseUrl) lines.push(`- base URL: ${escapeMarkdown(e.baseUrl)}`);
  if (e.contextWindow) lines.push(`- context window: ${formatInt(e.contextWindow)} tokens`);
  if (e.encoding) lines.push(`- encoding: ${e.encoding}`);
  return lines.join('\n');
}
