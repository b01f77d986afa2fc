/** Go to definition: `patient`/`record` open the record, `template` opens the template. */
import { Location, Range } from 'vscode-languageserver-types';
import type { FileSystem } from '../host';
import type { Workspace } from '../workspace/workspace';
import { locateInFrontMatter } from './document';
import type { ParsedDocument } from './document';

export async function findDefinition(
  parsed: ParsedDocument,
  offset: number,
  uri: string,
  workspace: Workspace,
  fs: FileSystem,
): Promise<Location[]> {
  const loc = locateInFrontMatter(parsed.file, offset);
  if (loc.kind !== 'value' && !(loc.kind === 'key' && loc.pair)) return [];
  const key = loc.kind === 'value' ? loc.key : loc.pair!.key;
  let target: string | undefined;
  if (key === 'patient' || key === 'record') target = workspace.resolveRecord(uri, parsed.file.data)?.uri;
  else if (key === 'template') target = workspace.resolveTemplate(uri, parsed.file.data)?.uri;
  if (!target || (await fs.stat(target))?.type !== 'file') return [];
  return [Location.create(target, Range.create(0, 0, 0, 0))];
}
