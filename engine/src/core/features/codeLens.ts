/** CodeLens above `## Instruction`: the prompt preview and the record timeline (the run-lens adds its lenses here). */
import type { CodeLens } from 'vscode-languageserver-types';
import { toRange } from './document';
import type { ParsedDocument } from './document';
import { SECTION_INSTRUCTION } from './sections';

export const PREVIEW_COMMAND = 'medalign.previewPrompt';
export const TIMELINE_COMMAND = 'medalign.timeline.show';

export function getCodeLenses(parsed: ParsedDocument): CodeLens[] {
  const { document, file } = parsed;
  const section = file.sections.find((s) => s.name === SECTION_INSTRUCTION);
  if (!section) return [];
  const range = toRange(document, section.heading);
  return [
    { range, command: { title: 'Preview prompt', command: PREVIEW_COMMAND, arguments: [document.uri] } },
    { range, command: { title: 'Timeline', command: TIMELINE_COMMAND, arguments: [document.uri] } },
  ];
}
