/**
 * The project folder of a file on disk, by the core's one rule (core/workspace resolveProjectRoot:
 * the nearest folder with medalign.config.json, else the innermost given folder holding the file —
 * the CLI gives its current directory, the editor its workspace folders — else the file's folder's
 * parent). Paths in, paths out.
 */
import { URI } from 'vscode-uri';
import { resolveProjectRoot } from '../core/workspace/workspace';
import { nodeFileSystem } from './nodeFileSystem';

export async function projectRootOf(
  file: string,
  folders: readonly string[] = [],
): Promise<{ root: string; hasConfig: boolean }> {
  const r = await resolveProjectRoot(
    nodeFileSystem,
    URI.file(file).toString(),
    folders.map((f) => URI.file(f).toString()),
  );
  return { root: URI.parse(r.root).fsPath, hasConfig: r.hasConfig };
}
