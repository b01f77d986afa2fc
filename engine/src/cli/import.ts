/** `medalign import` and `medalign export`: MedAlign release files and HELM in and out (docs/datasets.md). */
import * as path from 'node:path';
import { exportDataset, formatExportSummary } from '../host/datasetExport';
import { DatasetError, formatImportSummary, importDataset, importTargets } from '../host/dataset';
import { projectRootOf } from '../host/projectRoot';
import { UsageError, parseArgs } from './args';
import { display } from './io';
import type { CliIo } from './io';

/** The project folder the CLI works in: the nearest folder with medalign.config.json, else the current one. */
async function projectFolder(cwd: string): Promise<string> {
  const r = await projectRootOf(path.join(cwd, '.medalign-probe'), [cwd]);
  return r.root;
}

export async function runImport(args: string[], io: CliIo): Promise<number> {
  try {
    const p = parseArgs(args, ['into', 'records'], ['dry-run', 'overwrite', 'link-records', 'copy-records']);
    if (p.positional.length !== 1) throw new UsageError('give one file or folder to import');
    if (p.flags.has('link-records') && p.flags.has('copy-records'))
      throw new UsageError('--link-records and --copy-records exclude each other');
    const root = await projectFolder(io.cwd);
    const targets = await importTargets(root);
    const into = p.values.get('into')?.[0];
    const records = p.values.get('records')?.[0];
    const summary = await importDataset({
      source: path.resolve(io.cwd, p.positional[0]),
      into: into !== undefined ? path.resolve(io.cwd, into) : targets.into,
      recordsFolder: targets.recordsFolder,
      ...(records !== undefined ? { records: path.resolve(io.cwd, records) } : {}),
      recordsMode: p.flags.has('link-records') ? 'link' : 'copy',
      dryRun: p.flags.has('dry-run'),
      overwrite: p.flags.has('overwrite'),
    });
    const text = formatImportSummary(summary, (f) => display(io.cwd, f));
    const [head, ...rest] = text.split('\n');
    io.out(`${summary.dryRun ? 'Dry run: ' : ''}${head}\n`);
    if (rest.join('\n').trim() !== '') io.err(rest.join('\n'));
    const hardProblems = summary.problems.some((x) => x.severity === 'error') || summary.actions.conflict > 0;
    return hardProblems ? 1 : 0;
  } catch (err) {
    if (err instanceof UsageError || err instanceof DatasetError) {
      io.err(`medalign import: ${err.message}\n`);
      return err instanceof UsageError ? 2 : 1;
    }
    throw err;
  }
}

export async function runExport(args: string[], io: CliIo): Promise<number> {
  try {
    const p = parseArgs(args, ['out'], ['with-runs', 'with-reviews']);
    const [target, ...paths] = p.positional;
    if (target !== 'medalign' && target !== 'helm') throw new UsageError("export what: 'medalign' or 'helm'");
    if (target === 'helm' && p.flags.has('with-runs'))
      throw new UsageError('--with-runs is for `export medalign` (HELM runs the models itself)');
    if (target === 'helm' && p.flags.has('with-reviews'))
      throw new UsageError('--with-reviews is for `export medalign` (HELM does not read clinician labels)');
    if (paths.length === 0) throw new UsageError('give the folder (or files) of instructions to export');
    const out = p.values.get('out')?.[0];
    if (out === undefined) throw new UsageError('--out <dir> is required');
    const root = await projectFolder(io.cwd);
    const targets = await importTargets(root);
    const summary = await exportDataset({
      paths: paths.map((x) => path.resolve(io.cwd, x)),
      out: path.resolve(io.cwd, out),
      target,
      recordsFolder: targets.recordsFolder,
      ...(p.flags.has('with-runs') || p.flags.has('with-reviews') ? { runsRoot: root } : {}),
      ...(p.flags.has('with-reviews') ? { withReviews: true } : {}),
    });
    const [head, ...rest] = formatExportSummary(summary).split('\n');
    io.out(`${head}\n`);
    if (rest.join('\n').trim() !== '') io.err(rest.join('\n'));
    return 0;
  } catch (err) {
    if (err instanceof UsageError || err instanceof DatasetError) {
      io.err(`medalign export: ${err.message}\n`);
      return err instanceof UsageError ? 2 : 1;
    }
    throw err;
  }
}
