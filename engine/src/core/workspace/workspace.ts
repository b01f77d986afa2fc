/**
 * One MedAlign project: a root folder, its `medalign.config.json`, the id index of its instruction
 * files, its records and templates. Shared by the language server (one per workspace folder) and the
 * CLI. All I/O goes through the injected FileSystem.
 */
import type { FileSystem } from '../host';
import { parseInstruction } from '../format/parse';
import { IdIndex, idRangeIn, normalizeId } from './idIndex';
import { RecordStore } from './records';
import { LocalRecordEngine } from './recordEngine';
import type { RecordEngine } from './recordEngine';
import { CONFIG_FILE_NAME, parseConfig } from './config';
import type { LoadedConfig } from './config';
import { basename, dirname, isInside, joinPath, resolvePath } from '../util/uri';
import { canonicalUri, checkInside } from './bounds';
import type { BoundedKind, OutsideWorkspace } from './bounds';
import { ServerCountCache } from '../tokens/serverCounts';
import type { ServerTokenize } from '../tokens/serverCounts';

export const INSTRUCTION_EXT = '.medalign';
export const TEMPLATE_EXT = '.prompt';
export const RECORD_EXT = '.xml';

/** Folders never scanned. */
const SKIP_DIRS = new Set([
  'node_modules',
  '.git',
  '.medalign',
  'out',
  'dist',
  '.vscode-test',
  'test-artifacts',
]);
const MAX_SCANNED_FILES = 50_000;

export interface ResolvedRecord {
  uri: string;
  /** Which key named it. */
  key: 'patient' | 'record';
  /** The value as written. */
  value: string;
  /** Set when the record (or its records folder) is outside the workspace: it must not be read. */
  outside?: OutsideWorkspace;
}

export interface ResolvedTemplate {
  uri: string;
  fromConfig: boolean;
  /** Set when the template is outside the workspace: it must not be read. */
  outside?: OutsideWorkspace;
}

export class Workspace {
  readonly ids = new IdIndex();
  readonly records: RecordStore;
  loaded: LoadedConfig = parseConfig(undefined);
  /** Every `.medalign`, `.prompt` and `.xml` file seen by the last scan (and kept current by updates). */
  readonly files = new Set<string>();
  /**
   * Folders (URIs) outside the root that records and templates may come from. Set by the host from
   * the user's own settings (`medalign.allowedRoots`, `--allow-root`), never from the workspace.
   */
  private allowed: readonly string[] = [];
  private canonicalRoots: Promise<string[]> | undefined;
  /**
   * How this program asks an endpoint's `/tokenize` (`tokenizer: server`), set by the host: the
   * language server asks the extension (`medalign/tokenize`), the CLI sends after its own checks.
   * Absent: counts stay local estimates.
   */
  serverTokenize: ServerTokenize | undefined;
  /** The server's counts, by endpoint and content hash: a text is sent once. */
  readonly serverCounts = new ServerCountCache();

  constructor(
    private readonly fs: FileSystem,
    /** Folder URI, without a trailing slash. */
    readonly root: string,
    /** Where records are parsed and counted; the server passes one backed by a worker thread. */
    engine: RecordEngine = new LocalRecordEngine(),
  ) {
    this.records = new RecordStore(fs, engine);
  }

  get engine(): RecordEngine {
    return this.records.engine;
  }

  get config() {
    return this.loaded.config;
  }

  get configUri(): string {
    return joinPath(this.root, CONFIG_FILE_NAME);
  }

  /** `mtime:size` of the config file when it was loaded (`none`: no file). */
  private configVersion: string | undefined;

  private async configFileVersion(): Promise<string> {
    const st = await this.fs.stat(this.configUri);
    return st ? `${st.mtime}:${st.size}` : 'none';
  }

  async loadConfig(): Promise<LoadedConfig> {
    this.configVersion = await this.configFileVersion();
    this.loaded = parseConfig(await this.fs.readFile(this.configUri));
    return this.loaded;
  }

  /**
   * Re-reads the config when the file changed since it was loaded. Runs and the run-lens call this
   * before they answer, so they never act on a config older than the one on disk (a file watcher's
   * event may still be on its way).
   */
  async refreshConfig(): Promise<void> {
    if ((await this.configFileVersion()) !== this.configVersion) await this.loadConfig();
  }

  recordsFolder(): string {
    return resolvePath(this.root, this.config.recordsFolder);
  }

  get allowedRoots(): readonly string[] {
    return this.allowed;
  }

  /** The user's extra roots (folder URIs); only from user-level settings or the command line. */
  setAllowedRoots(roots: readonly string[]): void {
    this.allowed = [...roots];
    this.canonicalRoots = undefined;
  }

  /**
   * The bounds check every read of a workspace-named file goes through: `undefined` when `uri`,
   * after following symbolic links, is inside the root or an allowed root; else why not.
   */
  async checkBounds(uri: string, kind: BoundedKind): Promise<OutsideWorkspace | undefined> {
    this.canonicalRoots ??= Promise.all([this.root, ...this.allowed].map((r) => canonicalUri(this.fs, r)));
    return checkInside(this.fs, kind, uri, this.root, await this.canonicalRoots);
  }

  /** The record an instruction names (`record` wins over `patient`), before any bounds check. */
  recordTarget(fileUri: string, data: Record<string, unknown> | undefined): ResolvedRecord | undefined {
    if (!data) return undefined;
    const rec = data['record'];
    const patient = normalizeId(data['patient']);
    if (typeof rec === 'string' && rec.trim() !== '') {
      return { uri: resolvePath(dirname(fileUri), rec.trim()), key: 'record', value: rec.trim() };
    }
    if (patient !== undefined && /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(patient)) {
      return {
        uri: joinPath(this.recordsFolder(), `${patient}${RECORD_EXT}`),
        key: 'patient',
        value: patient,
      };
    }
    return undefined;
  }

  /** The template an instruction uses (its own, else the config's default), before any bounds check. */
  templateTarget(fileUri: string, data: Record<string, unknown> | undefined): ResolvedTemplate | undefined {
    const t = data?.['template'];
    if (typeof t === 'string' && t.trim() !== '') {
      return { uri: resolvePath(dirname(fileUri), t.trim()), fromConfig: false };
    }
    if (this.config.defaults.template) {
      return { uri: resolvePath(this.root, this.config.defaults.template), fromConfig: true };
    }
    return undefined;
  }

  /**
   * The files an instruction's diagnostics depend on besides itself (its record and template, named
   * or not existing yet), so a change to one of them re-validates it.
   */
  dependencies(fileUri: string, data: Record<string, unknown> | undefined): string[] {
    const out: string[] = [];
    const r = this.recordTarget(fileUri, data);
    if (r) out.push(r.uri);
    const t = this.templateTarget(fileUri, data);
    if (t) out.push(t.uri);
    return out;
  }

  /**
   * The record an instruction points at, from its `patient` or `record` key (`record` wins if both),
   * with `outside` set when it (or the records folder) is outside the workspace.
   */
  async resolveRecord(
    fileUri: string,
    data: Record<string, unknown> | undefined,
  ): Promise<ResolvedRecord | undefined> {
    const r = this.recordTarget(fileUri, data);
    if (!r) return undefined;
    const outside =
      (r.key === 'patient' ? await this.checkBounds(this.recordsFolder(), 'records folder') : undefined) ??
      (await this.checkBounds(r.uri, 'record'));
    if (outside) r.outside = outside;
    return r;
  }

  /**
   * The template an instruction uses: its own `template`, else the config's default; with `outside`
   * set when it is outside the workspace.
   */
  async resolveTemplate(
    fileUri: string,
    data: Record<string, unknown> | undefined,
  ): Promise<ResolvedTemplate | undefined> {
    const r = this.templateTarget(fileUri, data);
    if (!r) return undefined;
    const outside = await this.checkBounds(r.uri, 'template');
    if (outside) r.outside = outside;
    return r;
  }

  /** Updates the index from a file's current text (`undefined`: deleted). */
  updateInstruction(uri: string, text: string | undefined): void {
    if (text === undefined) {
      this.ids.delete(uri);
      this.files.delete(uri);
      return;
    }
    this.files.add(uri);
    const file = parseInstruction(text);
    this.ids.set(uri, normalizeId(file.data?.['id']), idRangeIn(text, file));
  }

  /**
   * Walks the root once: indexes every instruction file's id and remembers records and templates.
   * Instruction files for which `indexedByCaller` is true are listed but not read: the caller reads
   * and indexes them itself (the CLI's check, which parses each file once).
   */
  async scan(indexedByCaller?: (uri: string) => boolean): Promise<{ instructions: number; files: number }> {
    const instructions: string[] = [];
    const queue: string[] = [this.root];
    let seen = 0;
    while (queue.length > 0 && seen < MAX_SCANNED_FILES) {
      const dirs = queue.splice(0, 16);
      const listings = await Promise.all(dirs.map(async (d) => [d, await this.fs.readDirectory(d)] as const));
      for (const [dir, entries] of listings) {
        for (const [name, type] of entries) {
          const uri = joinPath(dir, name);
          if (type === 'directory') {
            if (!SKIP_DIRS.has(name) && !name.startsWith('.')) queue.push(uri);
            continue;
          }
          seen++;
          if (name.endsWith(INSTRUCTION_EXT) && !indexedByCaller?.(uri)) instructions.push(uri);
          if (name.endsWith(INSTRUCTION_EXT) || name.endsWith(TEMPLATE_EXT) || name.endsWith(RECORD_EXT)) {
            this.files.add(uri);
          }
        }
      }
    }
    const BATCH = 64;
    for (let i = 0; i < instructions.length; i += BATCH) {
      const batch = instructions.slice(i, i + BATCH);
      const texts = await Promise.all(batch.map((u) => this.fs.readFile(u)));
      batch.forEach((u, j) => this.updateInstruction(u, texts[j]));
    }
    return { instructions: instructions.length, files: seen };
  }

  /** Patient ids available in the records folder (file names without `.xml`). */
  async patientIds(): Promise<string[]> {
    if (await this.checkBounds(this.recordsFolder(), 'records folder')) return [];
    const entries = await this.fs.readDirectory(this.recordsFolder());
    return entries
      .filter(([n, t]) => t === 'file' && n.endsWith(RECORD_EXT))
      .map(([n]) => n.slice(0, -RECORD_EXT.length))
      .sort();
  }

  filesWithExtension(ext: string): string[] {
    return [...this.files].filter((u) => u.endsWith(ext)).sort();
  }

  /** Record files: the records folder's plus any other `.xml` seen by the scan. */
  async recordFiles(): Promise<string[]> {
    const folder = this.recordsFolder();
    const inFolder = (await this.patientIds()).map((id) => joinPath(folder, `${id}${RECORD_EXT}`));
    return [...new Set([...inFolder, ...this.filesWithExtension(RECORD_EXT)])].sort();
  }

  label(uri: string): string {
    return uri.startsWith(this.root + '/') ? uri.slice(this.root.length + 1) : basename(uri);
  }
}

/**
 * The project a file belongs to: where its config is read, its records folder is, and its runs are
 * kept. The nearest folder up holding `medalign.config.json`; else the innermost of `folders` (the
 * editor's workspace folders, the CLI's current directory) that holds the file; else the file's
 * folder's parent (`instructions/x.medalign` beside `records/`). The server, the editor's runs and
 * every CLI command resolve it here.
 */
export async function resolveProjectRoot(
  fs: FileSystem,
  fileUri: string,
  folders: readonly string[] = [],
): Promise<{ root: string; hasConfig: boolean }> {
  const found = await findProjectRoot(fs, fileUri);
  if (found !== undefined) return { root: found, hasConfig: true };
  let best: string | undefined;
  for (const f of folders) if (isInside(f, fileUri) && (!best || f.length > best.length)) best = f;
  return { root: best ?? dirname(dirname(fileUri)), hasConfig: false };
}

/** Walks up from a file's folder to the nearest folder holding `medalign.config.json`. */
export async function findProjectRoot(fs: FileSystem, fileUri: string): Promise<string | undefined> {
  let dir = dirname(fileUri);
  for (let i = 0; i < 64; i++) {
    const stat = await fs.stat(joinPath(dir, CONFIG_FILE_NAME));
    if (stat?.type === 'file') return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
  return undefined;
}
