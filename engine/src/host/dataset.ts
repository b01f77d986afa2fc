/**
 * `medalign import` / `medalign export` over the file system: reads MedAlign files as a stream
 * into the core's {@link DatasetImport}, writes one `.medalign` per instruction (never over a file a
 * curator edited, unless asked), copies or links records, and writes exports. Used by the CLI and
 * the editor (through the engine's public module). docs/datasets.md.
 */
import * as fs from 'node:fs';
import { constants, createReadStream, promises as fsp } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { DelimitedReader } from '../core/dataset/delimited';
import { DatasetImport, planFolder } from '../core/dataset/importer';
import type { FileSummary, ImportProblem } from '../core/dataset/importer';
import { isUnedited, renderInstruction } from '../core/dataset/model';
import type { DatasetInstruction } from '../core/dataset/model';
import { dialectOf } from '../core/dataset/release';
import { CONFIG_FILE_NAME } from '../core/workspace/config';

/** A problem that stops the whole import or export (bad input): its message says what to do. */
export class DatasetError extends Error {}

export type FileAction = 'created' | 'updated' | 'unchanged' | 'conflict' | 'overwritten';

export interface ImportOptions {
  /** A MedAlign file, or a folder (the release's, or one holding the public sample). */
  source: string;
  /** Folder the `.medalign` files go to. */
  into: string;
  /** The project's records folder (where `patient:` resolves). */
  recordsFolder: string;
  /** Folder of `<person_id>.xml` records to bring in (default: the release folder's EHR folder). */
  records?: string;
  recordsMode?: 'copy' | 'link';
  dryRun?: boolean;
  overwrite?: boolean;
  signal?: AbortSignal;
  /** What is happening, with the share done (0..1) when known. */
  onProgress?: (message: string, fraction?: number) => void;
}

export interface RecordsSummary {
  from?: string;
  copied: number;
  linked: number;
  unchanged: number;
  missing: string[];
  conflicts: string[];
}

export interface ImportSummary {
  source: string;
  into: string;
  dryRun: boolean;
  cancelled: boolean;
  files: FileSummary[];
  instructions: number;
  actions: Record<FileAction, number>;
  /** Files a curator edited since the import wrote them: left alone. */
  conflicts: string[];
  written: string[];
  noPatient: number;
  records: RecordsSummary;
  problems: ImportProblem[];
  notes: string[];
}

/** The instruction file extension (workspace.ts's INSTRUCTION_EXT, which this module does not import: it reaches the YAML parser). */
export const INSTRUCTION_EXT = '.medalign';

const CHUNK = 1 << 20;
/**
 * Small files are read and written with synchronous calls in batches, yielding between batches (for
 * progress and Cancel): on a busy machine an awaited call per file costs a thread-pool round trip,
 * and 10,000 files took seconds more than the 5 s budget (`npm run bench`, "Import").
 */
const BATCH = 250;

async function eachBatched<T>(
  items: readonly T[],
  fn: (item: T, index: number) => void,
  signal?: AbortSignal,
): Promise<boolean> {
  for (let i = 0; i < items.length; i++) {
    if (i % BATCH === 0 && i > 0) {
      await new Promise<void>((r) => setImmediate(r));
      if (signal?.aborted) return false;
    }
    fn(items[i], i);
  }
  return true;
}

/**
 * Writes `text` to `file` atomically without following a link: a temporary file created
 * exclusively (`wx`: never through an existing name), then renamed over `file` (a link there is
 * replaced, not followed).
 */
function writeFileAtomicSync(file: string, text: string): void {
  const tmp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  try {
    fs.writeFileSync(tmp, text, { flag: 'wx' });
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

async function statOrUndefined(p: string) {
  return fsp.stat(p).catch(() => undefined);
}

/**
 * Where an import goes by default: the project's `instructionsFolder` (default `instructions/`) and
 * `recordsFolder` (default `records/`), read as `parseConfig` reads them. Only these two keys are read
 * here, so the extension host does not load the config schema's validator for an import.
 */
export async function importTargets(root: string): Promise<{ into: string; recordsFolder: string }> {
  let raw: unknown;
  try {
    raw = JSON.parse(await fsp.readFile(path.join(root, CONFIG_FILE_NAME), 'utf8'));
  } catch {
    raw = undefined;
  }
  const r = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const records =
    typeof r['recordsFolder'] === 'string' && r['recordsFolder'].trim() !== ''
      ? r['recordsFolder']
      : 'records';
  const instructions = typeof r['instructionsFolder'] === 'string' ? r['instructionsFolder'] : 'instructions';
  return { into: path.resolve(root, instructions), recordsFolder: path.resolve(root, records) };
}

async function readRows(
  file: string,
  imp: DatasetImport,
  o: ImportOptions,
  share: [number, number],
): Promise<void> {
  const name = path.basename(file);
  const size = (await fsp.stat(file)).size;
  let reader: DelimitedReader | undefined;
  let sink: ReturnType<DatasetImport['file']> | undefined;
  let read = 0;
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: CHUNK });
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      if (o.signal?.aborted) return;
      if (!reader) {
        const dialect = dialectOf(name, chunk.slice(0, chunk.indexOf('\n') >>> 0));
        sink = imp.file(name, dialect);
        reader = new DelimitedReader(dialect, sink);
      }
      reader.push(chunk);
      if (sink?.fatal !== undefined) throw new DatasetError(sink.fatal);
      read += Buffer.byteLength(chunk);
      o.onProgress?.(`Reading ${name}`, share[0] + (share[1] * read) / Math.max(1, size));
    }
    if (!reader) throw new DatasetError(`${name} is empty: a MedAlign file starts with a header row`);
    reader.end();
    if (sink?.fatal !== undefined) throw new DatasetError(sink.fatal);
    if (!sink?.summary.shape) throw new DatasetError(`${name} has no header row`);
  } finally {
    stream.destroy();
  }
}

/** Ids of the `.medalign` files already in `dir` (and below), from their front matter. */
interface Existing {
  file: string;
  /** The file's text, when it is small enough to keep (the import compares it with what it would write). */
  text?: string;
}

const ID_LINE = /^id:[ \t]*["']?([A-Za-z0-9][A-Za-z0-9_.-]*)["']?[ \t]*(?:#.*)?$/m;
const KEEP_CHARS = 1 << 16;

async function existingIds(dir: string): Promise<Map<string, Existing>> {
  const files: string[] = [];
  const walk = async (d: string): Promise<void> => {
    const entries = await fsp.readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules') await walk(p);
      else if (e.isFile() && e.name.endsWith(INSTRUCTION_EXT)) files.push(p);
    }
  };
  await walk(dir);
  files.sort();
  const out = new Map<string, Existing>();
  await eachBatched(files, (file) => {
    let text: string;
    try {
      // Instruction files are small; a big one is read for its id only and again when compared.
      const size = fs.statSync(file).size;
      if (size > KEEP_CHARS) {
        const fd = fs.openSync(file, 'r');
        try {
          const buf = Buffer.alloc(4096);
          text = buf.toString('utf8', 0, fs.readSync(fd, buf, 0, 4096, 0));
        } finally {
          fs.closeSync(fd);
        }
        const m = ID_LINE.exec(text);
        if (m && !out.has(m[1])) out.set(m[1], { file });
        return;
      }
      text = fs.readFileSync(file, 'utf8');
    } catch {
      return;
    }
    const m = ID_LINE.exec(text.slice(0, 4096));
    if (m && !out.has(m[1])) out.set(m[1], { file, text });
  });
  return out;
}

export async function importDataset(o: ImportOptions): Promise<ImportSummary> {
  const source = path.resolve(o.source);
  const st = await statOrUndefined(source);
  if (!st) throw new DatasetError(`no such file or folder: ${o.source}`);
  const notes: string[] = [];
  let files: string[];
  let recordsFrom = o.records !== undefined ? path.resolve(o.records) : undefined;
  if (st.isDirectory()) {
    const entries = await fsp.readdir(source, { withFileTypes: true });
    const plan = planFolder(
      entries.filter((e) => e.isFile()).map((e) => e.name),
      entries.filter((e) => e.isDirectory()).map((e) => e.name),
    );
    if ('error' in plan) throw new DatasetError(`${o.source}: ${plan.error}`);
    files = plan.files.map((f) => path.join(source, f));
    notes.push(...plan.notes);
    if (!recordsFrom && plan.records) recordsFrom = path.join(source, plan.records);
  } else {
    files = [source];
  }
  const imp = new DatasetImport();
  for (let i = 0; i < files.length; i++) {
    await readRows(files[i], imp, o, [(0.5 * i) / files.length, 0.5 / files.length]);
    if (o.signal?.aborted) break;
  }
  const summary: ImportSummary = {
    source,
    into: path.resolve(o.into),
    dryRun: o.dryRun === true,
    cancelled: false,
    files: imp.files,
    instructions: 0,
    actions: { created: 0, updated: 0, unchanged: 0, conflict: 0, overwritten: 0 },
    conflicts: [],
    written: [],
    noPatient: 0,
    records: { copied: 0, linked: 0, unchanged: 0, missing: [], conflicts: [] },
    problems: imp.problems,
    notes,
  };
  if (recordsFrom) summary.records.from = recordsFrom;
  if (o.signal?.aborted) {
    summary.cancelled = true;
    return summary;
  }
  if (imp.files.length && imp.files.every((f) => f.shape === 'responses')) {
    throw new DatasetError(
      `${path.basename(files[0])} holds clinicians' responses only: import the release folder (with clinician-reviewed-model-responses.tsv) instead`,
    );
  }
  const insts = imp.finish();
  summary.instructions = insts.length;
  summary.noPatient = insts.filter((i) => i.patient === undefined).length;
  if (summary.noPatient > 0) {
    summary.notes.push(
      `${summary.noPatient} instruction${summary.noPatient === 1 ? ' has' : 's have'} no patient (the source has no person_id): set \`patient:\` in each before running it (until then the file shows "schema-required")`,
    );
  }
  await writeInstructions(insts, o, summary);
  if (!summary.cancelled && recordsFrom) await bringRecords(insts, recordsFrom, o, summary);
  return summary;
}

async function writeInstructions(
  insts: DatasetInstruction[],
  o: ImportOptions,
  s: ImportSummary,
): Promise<void> {
  const into = path.resolve(o.into);
  const ids = await existingIds(into);
  if (!o.dryRun) await fsp.mkdir(into, { recursive: true });
  const finished = await eachBatched(
    insts,
    (inst, n) => {
      if (n % BATCH === 0)
        o.onProgress?.(`Writing instructions (${n} of ${insts.length})`, 0.5 + (0.45 * n) / insts.length);
      writeOne(inst);
    },
    o.signal,
  );
  if (!finished) s.cancelled = true;
  s.conflicts.sort();
  s.written.sort();
  o.onProgress?.('Instructions written', 0.95);

  function writeOne(inst: DatasetInstruction): void {
    const text = renderInstruction(inst);
    const known = ids.get(inst.id);
    const target = known?.file ?? path.join(into, `${inst.id}${INSTRUCTION_EXT}`);
    const lst = fs.lstatSync(target, { throwIfNoEntry: false });
    let action: FileAction;
    if (!lst) action = 'created';
    else if (lst.isSymbolicLink() || !lst.isFile()) {
      s.actions.conflict++;
      s.conflicts.push(target);
      s.problems.push({
        file: path.basename(target),
        severity: 'error',
        message: `${target} is not a regular file (a link?): instruction ${inst.id} not written`,
      });
      return;
    } else {
      const existing = known?.text ?? fs.readFileSync(target, 'utf8');
      if (existing.replace(/\r\n/g, '\n') === text) action = 'unchanged';
      else if (isUnedited(existing)) action = 'updated';
      else if (o.overwrite) action = 'overwritten';
      else {
        s.actions.conflict++;
        s.conflicts.push(target);
        return;
      }
    }
    s.actions[action]++;
    if (action === 'unchanged') return;
    if (!o.dryRun) {
      // A new file is created exclusively (never through a link); a replaced one atomically.
      if (action === 'created') fs.writeFileSync(target, text, { flag: 'wx' });
      else writeFileAtomicSync(target, text);
    }
    s.written.push(target);
  }
}

async function sameFile(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([fsp.readFile(a), fsp.readFile(b)]);
  return x.equals(y);
}

async function bringRecords(
  insts: DatasetInstruction[],
  from: string,
  o: ImportOptions,
  s: ImportSummary,
): Promise<void> {
  const st = await statOrUndefined(from);
  if (!st?.isDirectory()) throw new DatasetError(`records folder not found: ${from}`);
  const patients = [...new Set(insts.map((i) => i.patient).filter((p): p is string => p !== undefined))];
  const dest = path.resolve(o.recordsFolder);
  if (!o.dryRun && patients.length) await fsp.mkdir(dest, { recursive: true });
  const link = o.recordsMode === 'link';
  for (const p of patients) {
    if (o.signal?.aborted) {
      s.cancelled = true;
      return;
    }
    let src = path.join(from, `${p}.xml`);
    if (!(await statOrUndefined(src))?.isFile()) {
      const alt = path.join(from, `EHR_${p}.xml`);
      if ((await statOrUndefined(alt))?.isFile()) src = alt;
      else {
        s.records.missing.push(p);
        continue;
      }
    }
    const target = path.join(dest, `${p}.xml`);
    const lst = await fsp.lstat(target).catch(() => undefined);
    if (lst) {
      const same = link
        ? lst.isSymbolicLink() && path.resolve(dest, await fsp.readlink(target)) === src
        : lst.isFile() && (await sameFile(src, target));
      if (same) {
        s.records.unchanged++;
        continue;
      }
      if (!o.overwrite) {
        s.records.conflicts.push(target);
        continue;
      }
      if (!o.dryRun) await fsp.rm(target);
    }
    if (!o.dryRun) {
      if (link) await fsp.symlink(src, target);
      else await fsp.copyFile(src, target, constants.COPYFILE_EXCL);
    }
    if (link) s.records.linked++;
    else s.records.copied++;
  }
  if (s.records.missing.length) {
    s.problems.push({
      file: path.basename(from),
      severity: 'warning',
      message: `no record for ${s.records.missing.length} patient${s.records.missing.length === 1 ? '' : 's'} in ${from} (${s.records.missing.slice(0, 5).join(', ')}${s.records.missing.length > 5 ? ', …' : ''})`,
    });
  }
  for (const c of s.records.conflicts) {
    s.problems.push({
      file: path.basename(c),
      severity: 'error',
      message: `${c} exists and differs: not replaced (--overwrite replaces it)`,
    });
  }
  if (link && s.records.linked > 0) {
    s.notes.push(
      `records are linked to ${from}: the editor and the CLI read a linked record only when that folder is inside the project or an allowed root (medalign.allowedRoots, --allow-root)`,
    );
  }
}

/** The summary in a few lines (the CLI prints it; the editor shows the first line). */
export function formatImportSummary(s: ImportSummary, rel: (p: string) => string = (p) => p): string {
  const a = s.actions;
  const skipped = s.files.reduce((n, f) => n + f.skipped, 0);
  const verb = s.dryRun ? 'would be ' : '';
  const head =
    `${s.cancelled ? 'Cancelled: ' : ''}${s.instructions} instruction${s.instructions === 1 ? '' : 's'} from ${s.files.map((f) => f.file).join(' + ')}: ` +
    `${a.created} ${verb}created, ${a.updated + a.overwritten} ${verb}updated, ${a.unchanged} unchanged` +
    `${a.conflict ? `, ${a.conflict} conflict${a.conflict === 1 ? '' : 's'} (edited since import: kept)` : ''}` +
    `${skipped ? `, ${skipped} row${skipped === 1 ? '' : 's'} skipped` : ''}.`;
  const lines = [head];
  const r = s.records;
  if (r.from !== undefined) {
    lines.push(
      `Records: ${r.copied} ${verb}copied, ${r.linked} ${verb}linked, ${r.unchanged} unchanged${r.missing.length ? `, ${r.missing.length} missing` : ''}${r.conflicts.length ? `, ${r.conflicts.length} conflicts` : ''}.`,
    );
  }
  for (const c of s.conflicts)
    lines.push(`conflict: ${rel(c)} was edited since it was imported: kept (--overwrite replaces it)`);
  for (const p of s.problems)
    lines.push(`${p.file}${p.line !== undefined ? `:${p.line}` : ''}: ${p.severity}: ${p.message}`);
  for (const n of s.notes) lines.push(`note: ${n}`);
  return lines.join('\n') + '\n';
}
