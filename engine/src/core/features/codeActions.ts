/**
 * Quick fixes for our diagnostics: did-you-mean (keys, values, sections, the nearest patient ids),
 * reshaped values (`[32k]` → `32k`, `stroke` → `[stroke]`), add a missing key, generate a unique id,
 * add a section.
 */
import { CodeAction, CodeActionKind, TextEdit } from 'vscode-languageserver-types';
import type { Diagnostic } from 'vscode-languageserver-types';
import type { Workspace } from '../workspace/workspace';
import { generateUniqueId } from '../workspace/idIndex';
import { SOURCE } from './document';
import type { ParsedDocument } from './document';
import type { FixData } from './validation';

export async function getCodeActions(
  parsed: ParsedDocument,
  uri: string,
  diagnostics: Diagnostic[],
  workspace: Workspace,
): Promise<CodeAction[]> {
  const { document, file } = parsed;
  const out: CodeAction[] = [];
  const edit = (title: string, d: Diagnostic, edits: TextEdit[], preferred = false) => {
    const a = CodeAction.create(title, { changes: { [uri]: edits } }, CodeActionKind.QuickFix);
    a.diagnostics = [d];
    if (preferred) a.isPreferred = true;
    out.push(a);
  };
  const newId = () => generateUniqueId(uri, (id) => workspace.ids.has(id));
  const afterOpen = () => {
    const open = file.frontMatter?.open;
    return open ? document.positionAt(Math.min(open.end + 1, file.text.length)) : { line: 0, character: 0 };
  };

  for (const d of diagnostics) {
    if (d.source !== SOURCE || !d.data || typeof d.data !== 'object') continue;
    const data = d.data as FixData;
    if (data.replacement !== undefined) {
      edit(`Change to '${data.replacement}'`, d, [TextEdit.replace(d.range, data.replacement)], true);
    }
    for (const alt of data.alternatives ?? []) {
      edit(alt.title, d, [TextEdit.replace(d.range, alt.text)]);
    }
    if (data.uniqueId) {
      edit('Generate a unique id', d, [TextEdit.replace(d.range, newId())], true);
    }
    if (data.insertKey) {
      const at = afterOpen();
      if (data.insertKey === 'id') {
        edit(`Add 'id: …' with a new unique id`, d, [TextEdit.insert(at, `id: ${newId()}\n`)], true);
      } else if (data.insertKey === 'patient' || data.insertKey === 'record') {
        const ids = await workspace.patientIds();
        edit(`Add 'patient: ${ids[0] ?? ''}'`, d, [TextEdit.insert(at, `patient: ${ids[0] ?? ''}\n`)], true);
        edit(`Add 'record: '`, d, [TextEdit.insert(at, `record: \n`)]);
      } else {
        edit(`Add '${data.insertKey}:'`, d, [TextEdit.insert(at, `${data.insertKey}: \n`)], true);
      }
    }
    if (data.insertLine !== undefined) {
      edit(`Add '${data.insertLine}'`, d, [TextEdit.insert(afterOpen(), `${data.insertLine}\n`)], true);
    }
    if (data.addInstruction) {
      const end = document.positionAt(file.text.length);
      const sep = file.text.endsWith('\n') ? '\n' : '\n\n';
      edit('Add an `## Instruction` section', d, [TextEdit.insert(end, `${sep}## Instruction\n\n`)], true);
    }
  }
  return out;
}
