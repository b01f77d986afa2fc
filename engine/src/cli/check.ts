import { promises as fsp, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { URI } from 'vscode-uri';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { Diagnostic } from 'vscode-languageserver-types';
import { getLanguageService } from '../core/languageService';
import {
  Workspace,
  resolveProjectRoot,
  INSTRUCTION_EXT,
  RECORD_EXT,
  TEMPLATE_EXT,
} from '../core/workspace/workspace';
import { fileKind } from '../core/languageService';
import type { FileStat, FileSystem } from '../core/host';
import { idRangeIn, normalizeId } from '../core/workspace/idIndex';
import { LocalRecordEngine, entryKey, lightRecord } from '../core/workspace/recordEngine';
import type { EhrRecord } from '../core/record/model';
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
  const fs = runFileSystem(nodeFileSystem);
  const service = getLanguageService(fs);
  const workspaces = new Map<string, Workspace>();
  const uris = files.map((f) => URI.file(f).toString());
  const checked = new Set(uris);
  // The project root of each folder, looked up once per folder (not once per file).
  const roots = new Map<string, Promise<{ root: string; hasConfig: boolean }>>();
  const cwdUri = URI.file(cwd).toString();
  const rootOf = (file: string, uri: string) => {
    const folder = path.dirname(file);
    let r = roots.get(folder);
    if (!r) roots.set(folder, (r = resolveProjectRoot(fs, uri, [cwdUri])));
    return r;
  };
  const byFile = new Map<string, FileDiagnostic[]>();
  const validate = async (file: string, uri: string, ws: Workspace, text: string) => {
    const document = TextDocument.create(uri, fileKind(uri), 0, text);
    if (fileKind(uri) === 'instruction') {
      // Parsed once: the same parse indexes the id and is validated.
      const parsed = service.parse(document);
      ws.files.add(uri);
      ws.ids.set(uri, normalizeId(parsed.file.data?.['id']), idRangeIn(text, parsed.file));
    }
    const diags = await service.doValidation(document, ws);
    diags.sort(
      (a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character,
    );
    byFile.set(
      file,
      diags.map((d) => ({ ...d, file: path.relative(cwd, file) || file })),
    );
  };
  for (let i = 0; i < files.length; i++) {
    const file = files[i];
    const uri = uris[i];
    // The project (core/workspace resolveProjectRoot, with the current directory as the folder):
    // with a medalign.config.json it is scanned for duplicate ids; without one it resolves records
    // but is not scanned (it may be a home directory).
    const { root, hasConfig } = await rootOf(file, uri);
    let ws = workspaces.get(root);
    if (!ws) {
      ws = new Workspace(fs, root, new CheckRecordEngine());
      ws.setAllowedRoots(allowedRoots.map((r) => URI.file(r).toString()));
      await ws.loadConfig();
      // Files this run checks are indexed as they are validated, from the same parse.
      if (hasConfig) await ws.scan((u) => checked.has(u));
      workspaces.set(root, ws);
    }
    const text = await fs.readFile(uri);
    if (text === undefined) throw new Error(`cannot read ${file}`);
    await validate(file, uri, ws, text);
  }
  // A file validated before another with the same id was indexed: validate the duplicates again,
  // now that every id is known.
  for (const ws of workspaces.values()) {
    for (const uri of ws.ids.duplicatedUris()) {
      if (!checked.has(uri)) continue;
      const file = URI.parse(uri).fsPath;
      const text = await fs.readFile(uri);
      if (text !== undefined) await validate(file, uri, ws, text);
    }
  }
  return files.flatMap((f) => byFile.get(f) ?? []);
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

/**
 * Records named by instructions are validated once per run whatever their number and size: the
 * verdict (the record without its events) is kept by uri and version key (mtime:size), while the
 * engine itself keeps only as many parsed records as its memory budget allows. Record files being
 * checked themselves (`doc:` keys) get the full model.
 */
class CheckRecordEngine extends LocalRecordEngine {
  private readonly verdicts = new Map<string, EhrRecord | undefined>();

  override async load(
    uri: string,
    key: string,
    read: () => Promise<string | undefined>,
  ): Promise<EhrRecord | undefined> {
    if (key.startsWith('doc:')) return super.load(uri, key, read);
    const k = entryKey(uri, key);
    if (this.verdicts.has(k)) return this.verdicts.get(k);
    const r = await super.load(uri, key, read);
    const verdict = r && lightRecord(r);
    this.verdicts.set(k, verdict);
    return verdict;
  }
}

/**
 * The file system for one run of `check`: synchronous reads (a CLI has no event loop to keep free,
 * and one `readFileSync` costs a fraction of the open/stat/read/close of `fs.promises`), and `stat`
 * answers kept for the run (a record or template named by 10,000 files is looked at once).
 */
function runFileSystem(fs: FileSystem): FileSystem {
  const stats = new Map<string, FileStat | undefined>();
  const realpaths = new Map<string, Promise<string | undefined>>();
  const toPath = (uri: string) => URI.parse(uri).fsPath;
  return {
    readFile(uri) {
      try {
        return Promise.resolve(readFileSync(toPath(uri), 'utf8'));
      } catch {
        return Promise.resolve(undefined);
      }
    },
    readDirectory: (uri) => fs.readDirectory(uri),
    realpath(uri) {
      let r = realpaths.get(uri);
      if (r === undefined) realpaths.set(uri, (r = fs.realpath(uri)));
      return r;
    },
    stat(uri) {
      if (!stats.has(uri)) {
        const s = statSync(toPath(uri), { throwIfNoEntry: false });
        stats.set(uri, s && { type: s.isDirectory() ? 'directory' : 'file', size: s.size, mtime: s.mtimeMs });
      }
      return Promise.resolve(stats.get(uri));
    },
  };
}
