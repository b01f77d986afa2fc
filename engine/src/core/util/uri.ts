/** URI path helpers over `vscode-uri` (pure: no node:path). */
import { URI, Utils } from 'vscode-uri';

export function dirname(uri: string): string {
  return Utils.dirname(URI.parse(uri)).toString();
}

export function basename(uri: string): string {
  return Utils.basename(URI.parse(uri));
}

/** Resolves `path` (POSIX or Windows separators, relative or absolute) against the folder `baseDir`. */
export function resolvePath(baseDir: string, path: string): string {
  const p = wellFormed(path).replace(/\\/g, '/');
  const base = URI.parse(baseDir);
  if (p.startsWith('/')) return base.with({ path: p }).toString();
  if (/^[A-Za-z]:\//.test(p)) return URI.file(p).toString();
  return Utils.resolvePath(base, p).toString();
}

export function joinPath(baseDir: string, ...segments: string[]): string {
  return Utils.joinPath(URI.parse(baseDir), ...segments.map(wellFormed)).toString();
}

/** Replaces lone UTF-16 surrogates (which URIs cannot encode) with U+FFFD. */
export function wellFormed(s: string): string {
  return s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/** A relative POSIX path from folder `fromDir` to `to`. */
export function relativePath(fromDir: string, to: string): string {
  const a = URI.parse(fromDir).path.split('/').filter(Boolean);
  const b = URI.parse(to).path.split('/').filter(Boolean);
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const up = a.slice(i).map(() => '..');
  const rel = [...up, ...b.slice(i)].join('/');
  return rel === '' ? '.' : rel;
}

/** True when `uri` is `folder` or inside it. */
export function isInside(folder: string, uri: string): boolean {
  const f = folder.endsWith('/') ? folder : folder + '/';
  return uri === folder || uri.startsWith(f);
}

export function fsPathOf(uri: string): string {
  return URI.parse(uri).fsPath;
}
