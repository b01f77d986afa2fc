/**
 * The workspace's bounds: every record, template and records folder a workspace file names must
 * resolve — after following symbolic links — inside the workspace folder, or inside a root the user
 * allowed in their own settings (never the workspace's). A cloned dataset repository cannot make the
 * editor or the CLI read `~/.ssh/id_rsa` into a prompt, or pack another project's record.
 * `Workspace.checkBounds` is the one place that applies it; it needs the FileSystem's `realpath`.
 */
import type { FileSystem } from '../host';
import { basename, dirname, fsPathOf, isInside, joinPath } from '../util/uri';

/** The diagnostic code (docs/format.md). */
export const OUTSIDE_WORKSPACE_CODE = 'path-outside-workspace';

export type BoundedKind = 'instruction' | 'record' | 'template' | 'records folder' | 'tokenizer';

export interface OutsideWorkspace {
  kind: BoundedKind;
  /** The path as resolved from the text (before links are followed). */
  uri: string;
  /** Where it really is. */
  real: string;
  /** Why it is refused, e.g. "it is a symbolic link to /home/u/.ssh/id_rsa, outside …". */
  reason: string;
  /** One sentence with the path, the reason and the way out. */
  message: string;
}

/**
 * The canonical form of `uri`: the real path of its nearest existing ancestor, with the rest
 * appended (so a file that does not exist yet is judged by where it would be).
 */
export async function canonicalUri(fs: FileSystem, uri: string): Promise<string> {
  const rest: string[] = [];
  let cur = uri;
  for (let i = 0; i < 512; i++) {
    const real = await fs.realpath(cur);
    if (real !== undefined) return rest.length ? joinPath(real, ...rest.reverse()) : real;
    const parent = dirname(cur);
    if (parent === cur) break;
    rest.push(basename(cur));
    cur = parent;
  }
  return uri;
}

/**
 * `undefined` when `uri` (lexically, and after following links) is inside one of `roots` (the
 * workspace folder first, then the user's allowed roots; all canonical); else why not.
 */
export async function checkInside(
  fs: FileSystem,
  kind: BoundedKind,
  uri: string,
  workspaceRoot: string,
  canonicalRoots: readonly string[],
): Promise<OutsideWorkspace | undefined> {
  const real = await canonicalUri(fs, uri);
  if (canonicalRoots.some((r) => isInside(r, real))) return undefined;
  const where = fsPathOf(uri);
  const outside = `outside the workspace folder ${fsPathOf(workspaceRoot)}`;
  const lexicallyInside = isInside(workspaceRoot, uri) || canonicalRoots.some((r) => isInside(r, uri));
  const reason = lexicallyInside
    ? `it is a symbolic link to ${fsPathOf(real)}, ${outside}`
    : `it is ${outside}`;
  const what = kind === 'records folder' ? 'The records folder' : `The ${kind}`;
  return {
    kind,
    uri,
    real,
    reason,
    message:
      `${what} ${where} is not read: ${reason}. Only files inside the workspace are read; to allow ` +
      `another folder, add it to your user setting medalign.allowedRoots (editor) or pass ` +
      `--allow-root <folder> (CLI).`,
  };
}
