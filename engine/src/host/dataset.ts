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
import { exportHelm, exportRelease } from '../core/dataset/exporter';
import type { ExportFile, ExportProblem, RunRow } from '../core/dataset/exporter';
import { DatasetImport, planFolder } from '../core/dataset/importer';
import type { FileSummary, ImportProblem } from '../core/dataset/importer';
import { isUnedited, readInstructionText, renderInstruction } from '../core/dataset/model';
import type { DatasetInstruction } from '../core/dataset/model';
import { HELM_EHR_FOLDER, dialectOf } from '../core/dataset/release';
import { CONFIG_FILE_NAME, parseConfig } from '../core/workspace/config';
import { INSTRUCTION_EXT } from '../core/workspace/workspace';
import { RunStore, writeFileAtomic } from '../run/store';

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

const CHUNK = 1 << 16;
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

/** Where an import goes by default: the project's instructions folder and records folder. */
export async function importTargets(root: string): Promise<{ into: string; recordsFolder: string }> {
  const text = await fsp.readFile(path.join(root, CONFIG_FILE_NAME), 'utf8').catch(() => undefined);
  const config = parseConfig(text).config;
  return {
    into: path.resolve(root, config.instructionsFolder ?? 'instructions'),
    recordsFolder: path.resolve(root, config.recordsFolder),
  };
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
async function existingIds(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string): Promise<void> => {
    const entries = await fsp.readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules') await walk(p);
      else if (e.isFile() && e.name.endsWith(INSTRUCTION_EXT)) {
        const fh = await fsp.open(p, 'r').catch(() => undefined);
        if (!fh) continue;
        try {
          const buf = Buffer.alloc(4096);
          const { bytesRead } = await fh.read(buf, 0, 4096, 0);
          const m = /^id:[ \t]*["']?([A-Za-z0-9][A-Za-z0-9_.-]*)["']?[ \t]*(?:#.*)?$/m.exec(
            buf.toString('utf8', 0, bytesRead),
          );
          if (m && !out.has(m[1])) out.set(m[1], p);
        } finally {
          await fh.close();
        }
      }
    }
  };
  await walk(dir);
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
    const target = ids.get(inst.id) ?? path.join(into, `${inst.id}${INSTRUCTION_EXT}`);
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
      const existing = fs.readFileSync(target, 'utf8');
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

export interface ExportOptions {
  /** Folders or `.medalign` files to export. */
  paths: string[];
  out: string;
  target: 'medalign' | 'helm';
  /** The project's records folder (HELM export copies `<person_id>.xml` from it). */
  recordsFolder: string;
  /** With the project folder: add each instruction's latest complete run per model and context (`--with-runs`). */
  runsRoot?: string;
}

export interface ExportSummary {
  out: string;
  files: { name: string; rows: number }[];
  instructions: number;
  records: number;
  problems: (ExportProblem & { file?: string })[];
}

async function collect(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  const walk = async (p: string): Promise<void> => {
    const st = await statOrUndefined(p);
    if (!st) throw new DatasetError(`no such file or folder: ${p}`);
    if (st.isFile()) {
      out.push(p);
      return;
    }
    for (const e of await fsp.readdir(p, { withFileTypes: true })) {
      if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules')
        await walk(path.join(p, e.name));
      else if (e.isFile() && e.name.endsWith(INSTRUCTION_EXT)) out.push(path.join(p, e.name));
    }
  };
  for (const p of paths) await walk(path.resolve(p));
  return [...new Set(out)].sort();
}

/** Reads the instruction files under `paths` (unreadable ones reported). */
export async function readInstructions(
  paths: readonly string[],
): Promise<{ insts: DatasetInstruction[]; problems: ExportSummary['problems'] }> {
  const insts: DatasetInstruction[] = [];
  const problems: ExportSummary['problems'] = [];
  const ids = new Map<string, string>();
  for (const f of await collect(paths)) {
    const inst = readInstructionText(await fsp.readFile(f, 'utf8'));
    if (!inst) {
      problems.push({
        file: f,
        severity: 'warning',
        message: `${f} left out: no id or no ## Instruction (medalign check says why)`,
      });
      continue;
    }
    const prev = ids.get(inst.id);
    if (prev !== undefined) {
      problems.push({
        file: f,
        severity: 'warning',
        message: `${f} left out: id ${inst.id} is also ${prev}'s`,
      });
      continue;
    }
    ids.set(inst.id, f);
    insts.push(inst);
  }
  return { insts, problems };
}

async function writeExport(out: string, files: readonly ExportFile[]): Promise<void> {
  await fsp.mkdir(out, { recursive: true });
  for (const f of files) await writeFileAtomic(path.join(out, f.name), f.text);
}

export async function exportDataset(o: ExportOptions): Promise<ExportSummary> {
  const { insts, problems } = await readInstructions(o.paths);
  const out = path.resolve(o.out);
  if (o.target === 'medalign') {
    const runs = o.runsRoot !== undefined ? await latestRuns(o.runsRoot, insts) : undefined;
    const r = exportRelease(insts, runs);
    await writeExport(out, r.files);
    return {
      out,
      files: r.files.map((f) => ({ name: f.name, rows: f.rows })),
      instructions: insts.length,
      records: 0,
      problems: [...problems, ...r.problems],
    };
  }
  const recordsFolder = path.resolve(o.recordsFolder);
  const present = new Set(
    (await fsp.readdir(recordsFolder).catch(() => [] as string[]))
      .filter((n) => n.endsWith('.xml'))
      .map((n) => n.slice(0, -4)),
  );
  const h = exportHelm(insts, (p) => present.has(p));
  await writeExport(out, h.files);
  const ehr = path.join(out, HELM_EHR_FOLDER);
  await fsp.mkdir(ehr, { recursive: true });
  for (const p of h.patients) {
    const src = path.join(recordsFolder, `${p}.xml`);
    // A record is copied as its bytes; a linked one is followed only inside the records folder.
    const real = await fsp.realpath(src);
    const realFolder = await fsp.realpath(recordsFolder);
    if (real !== path.join(realFolder, `${p}.xml`) && !real.startsWith(realFolder + path.sep)) {
      problems.push({ severity: 'warning', message: `${src} links outside the records folder: not copied` });
      continue;
    }
    await fsp.copyFile(real, path.join(ehr, `${p}.xml`));
  }
  return {
    out,
    files: [
      ...h.files.map((f) => ({ name: f.name, rows: f.rows })),
      { name: `${HELM_EHR_FOLDER}/`, rows: h.patients.length },
    ],
    instructions: h.ids.length,
    records: h.patients.length,
    problems: [...problems, ...h.problems],
  };
}

/** Each instruction's newest complete, non-empty answer per endpoint, model and context. */
async function latestRuns(
  root: string,
  insts: readonly DatasetInstruction[],
): Promise<Map<string, RunRow[]>> {
  const store = new RunStore(root);
  const out = new Map<string, RunRow[]>();
  for (const inst of insts) {
    const seen = new Set<string>();
    const rows: RunRow[] = [];
    for (const s of await store.list({ instructionId: inst.id })) {
      if (s.status !== 'complete' || s.partial) continue;
      const key = `${s.endpointId}\u0000${s.model}\u0000${s.contextLabel}`;
      if (seen.has(key)) continue;
      const run = await store.read(s.file);
      if (!run || run.response.trim() === '') continue;
      seen.add(key);
      rows.push({
        model: s.endpointId === s.model ? s.model : `${s.endpointId} (${s.model})`,
        context: s.contextLabel,
        response: run.response,
      });
    }
    // Oldest first, so a later run adds rows after the earlier ones.
    if (rows.length) out.set(inst.id, rows.reverse());
  }
  return out;
}

export function formatExportSummary(s: ExportSummary): string {
  const lines = [
    `Exported ${s.instructions} instruction${s.instructions === 1 ? '' : 's'} to ${s.out}: ${s.files.map((f) => `${f.name} (${f.rows} row${f.rows === 1 ? '' : 's'})`).join(', ')}.`,
  ];
  for (const p of s.problems) lines.push(`${p.severity}: ${p.message}`);
  return lines.join('\n') + '\n';
}
