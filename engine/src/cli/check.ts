import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { URI } from 'vscode-uri';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { Diagnostic } from 'vscode-languageserver-types';
import { getLanguageService } from '../core/languageService';
import {
  Workspace,
  findProjectRoot,
  INSTRUCTION_EXT,
  RECORD_EXT,
  TEMPLATE_EXT,
} from '../core/workspace/workspace';
import { fileKind } from '../core/languageService';
import { nodeFileSystem } from '../host/nodeFileSystem';
import { allowedRootsOption, parseArgs } from './args';

const SEVERITY = ['', 'error', 'warning', 'info', 'hint'] as const;
const SKIP = new Set(['node_modules', '.git', '.medalign', 'out', 'dist']);
/** Instructions, templates and records (XML files that are not MedAlign records are skipped by the core). */
const CHECKED = [INSTRUCTION_EXT, TEMPLATE_EXT, RECORD_EXT];

export interface FileDiagnostic extends Diagnostic {
  file: string;
}

async function collect(p: string, out: string[]): Promise<void> {
  let st;
  try {
    st = await fsp.stat(p);
  } catch {
    throw new Error(`no such file or folder: ${p}`);
  }
  if (st.isFile()) {
    out.push(p);
    return;
  }
  for (const e of await fsp.readdir(p, { withFileTypes: true })) {
    if (e.isDirectory() && !SKIP.has(e.name) && !e.name.startsWith('.'))
      await collect(path.join(p, e.name), out);
    else if (e.isFile() && CHECKED.some((ext) => e.name.endsWith(ext))) out.push(path.join(p, e.name));
  }
}

/** Checks files; returns the diagnostics of each file (in path order). */
export async function checkFiles(
  paths: string[],
  cwd: string,
  /** Folders (absolute paths) outside the workspace that records and templates may come from. */
  allowedRoots: readonly string[] = [],
): Promise<FileDiagnostic[]> {
  const files: string[] = [];
  for (const p of paths.length ? paths : ['.']) await collect(path.resolve(cwd, p), files);
  files.sort();
  const fs = nodeFileSystem;
  const service = getLanguageService(fs);
  const workspaces = new Map<string, Workspace>();
  const out: FileDiagnostic[] = [];
  for (const file of files) {
    const uri = URI.file(file).toString();
    // The project's root (medalign.config.json) is scanned for duplicate ids; without one, the
    // file's grandparent resolves records but is not scanned (it may be a home directory).
    const configRoot = await findProjectRoot(fs, uri);
    const root = configRoot ?? URI.file(path.dirname(path.dirname(file))).toString();
    let ws = workspaces.get(root);
    if (!ws) {
      ws = new Workspace(fs, root);
      ws.setAllowedRoots(allowedRoots.map((r) => URI.file(r).toString()));
      await ws.loadConfig();
      if (configRoot) await ws.scan();
      workspaces.set(root, ws);
    }
    const text = await fs.readFile(uri);
    if (text === undefined) throw new Error(`cannot read ${file}`);
    if (fileKind(uri) === 'instruction') ws.updateInstruction(uri, text);
    const diags = await service.doValidation(TextDocument.create(uri, fileKind(uri), 0, text), ws);
    diags.sort(
      (a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character,
    );
    for (const d of diags) out.push({ ...d, file: path.relative(cwd, file) || file });
  }
  return out;
}

export async function runCheck(args: string[], cwd: string, write: (s: string) => void): Promise<number> {
  const p = parseArgs(args, ['allow-root'], ['json']);
  const json = p.flags.has('json');
  const diags = await checkFiles(p.positional, cwd, allowedRootsOption(p, cwd));
  const errors = diags.filter((d) => d.severity === 1).length;
  if (json) {
    write(JSON.stringify(diags, null, 2) + '\n');
  } else {
    for (const d of diags) {
      const { line, character } = d.range.start;
      write(
        `${d.file}:${line + 1}:${character + 1} ${SEVERITY[d.severity ?? 1]} ${typeof d.message === 'string' ? d.message : d.message.value} [${String(d.code ?? '')}]\n`,
      );
    }
    const warnings = diags.filter((d) => d.severity === 2).length;
    const files = new Set(diags.map((d) => d.file)).size;
    write(`${errors} error(s), ${warnings} warning(s) in ${files} file(s) with problems.\n`);
  }
  return errors > 0 ? 1 : 0;
}
