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
  let target: { uri: string; outside?: unknown } | undefined;
  if (key === 'patient' || key === 'record') target = await workspace.resolveRecord(uri, parsed.file.data);
  else if (key === 'template') target = await workspace.resolveTemplate(uri, parsed.file.data);
  // Outside the workspace: no link to it (its diagnostic says why).
  if (!target || target.outside || (await fs.stat(target.uri))?.type !== 'file') return [];
  return [Location.create(target.uri, Range.create(0, 0, 0, 0))];
}
