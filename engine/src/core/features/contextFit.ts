/**
 * "What fits" at each standard context size for an instruction, as the context picker shows it: the
 * same fit table and the same words as the hover on a record (tokenHover.ts), for the instruction's
 * record, model (tokenizer), template and strategy.
 */
import type { FileSystem } from '../host';
import type { InstructionFile } from '../format/parse';
import { formatTokenCount } from '../tokens/models';
import { formatInt } from '../util/format';
import type { Cancel } from '../workspace/recordEngine';
import type { Workspace } from '../workspace/workspace';
import { packRequest, resolveRunSettings } from './runSettings';
import type { RunOverrides } from './runSettings';
import { serverCountWarning, withServerCounts } from './serverPack';
import { fitRowCells } from './tokenHover';

export interface ContextFitRow {
  /** Context window in tokens (2,048 … 131,072). */
  context: number;
  /** As written in the front matter: `2k` … `128k`. */
  label: string;
  /** What the strategy keeps: `whole record`, `12,345 tokens · 40% · 3 visits`, `nothing`. */
  kept: string;
  /** The earliest day kept (`2019-04-02`), when anything is kept. */
  backTo?: string;
  fitsWhole: boolean;
  /** The instruction's context now. */
  current: boolean;
}

export interface ContextFit {
  /** False when there is no record to measure (the message says why); `rows` is then empty. */
  ok: boolean;
  message?: string;
  /** The record's label (`records/2000002.xml`) and its size in tokens, e.g. `41,203`. */
  record?: string;
  totalTokens?: string;
  strategy: string;
  model: string;
  rows: ContextFitRow[];
  /** `tokenizer: server` when the endpoint's counts were not available: the rows are estimates, and why. */
  warning?: string;
}

function sizeLabel(n: number): string {
  return n % 1024 === 0 ? `${n / 1024}k` : formatInt(n);
}

export async function contextFit(
  file: InstructionFile,
  uri: string,
  workspace: Workspace,
  fs: FileSystem,
  overrides: RunOverrides = {},
  cancel?: Cancel,
): Promise<ContextFit> {
  const s = await resolveRunSettings(file, uri, workspace, fs, overrides);
  const base = { strategy: s.strategy, model: s.model, rows: [] as ContextFitRow[] };
  const fail = (message: string): ContextFit => ({ ok: false, message, ...base });
  if (!file.data) return fail('the front matter could not be read.');
  const resolved = await workspace.resolveRecord(uri, file.data);
  if (!resolved) return fail('no record: add `patient:` or `record:` to the front matter.');
  if (resolved.outside) return fail(resolved.outside.message);
  const info = await workspace.records.get(resolved.uri, cancel);
  const label = workspace.label(resolved.uri);
  if (!info.exists || !info.key) return fail(`record not found: ${label}.`);
  if (!info.record?.ok) return fail(`${label} is not a valid MedAlign record.`);
  const key = info.key;
  // tokenizer: server → the endpoint's counts where allowed, as the context hover (serverPack.ts).
  const counted = await withServerCounts(workspace, s, (s2) =>
    workspace.engine.fit(resolved.uri, key, packRequest(s2), true, cancel),
  );
  const fit = counted.value;
  if (fit === 'pending' || fit === undefined) return fail(`${label} could not be counted.`);
  const estimated = counted.status !== undefined ? counted.tokenizer.estimated === true : fit.estimated;
  const warning = serverCountWarning(counted.status, s.tokenizer.encoding);
  return {
    ok: true,
    record: label,
    totalTokens: formatTokenCount(fit.total, estimated),
    ...(warning !== undefined ? { warning } : {}),
    ...base,
    strategy: fit.strategy,
    rows: fit.rows.map((r) => {
      const cells = fitRowCells(r, fit);
      const row: ContextFitRow = {
        context: r.context,
        label: sizeLabel(r.context),
        kept: cells.kept,
        fitsWhole: r.fitsWhole,
        current: r.context === s.context,
      };
      if (cells.backTo !== undefined) row.backTo = cells.backTo;
      return row;
    }),
  };
}
