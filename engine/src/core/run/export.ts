/**
 * Run results as JSONL or CSV (`medalign run --export`): one row per run with what a comparison
 * needs — which instruction, model, context and strategy, how it ended, tokens, timings, the
 * response and the gold response. The prompt is not exported.
 */
import type { RunRecord } from './runRecord';

export interface ExportRow {
  instruction_id: string;
  instruction_file: string;
  model: string;
  endpoint_model: string;
  context: number;
  strategy: string;
  status: string;
  partial: boolean;
  finish_reason: string;
  error_kind: string;
  error: string;
  prompt_tokens: number;
  completion_tokens: number;
  record_kept_tokens: number;
  record_cut_tokens: number;
  estimated: boolean;
  first_token_ms: number | null;
  total_ms: number;
  attempts: number;
  created_at: string;
  run_id: string;
  run_file: string;
  response: string;
  gold: string;
}

export const EXPORT_COLUMNS: readonly (keyof ExportRow)[] = [
  'instruction_id',
  'instruction_file',
  'model',
  'endpoint_model',
  'context',
  'strategy',
  'status',
  'partial',
  'finish_reason',
  'error_kind',
  'error',
  'prompt_tokens',
  'completion_tokens',
  'record_kept_tokens',
  'record_cut_tokens',
  'estimated',
  'first_token_ms',
  'total_ms',
  'attempts',
  'created_at',
  'run_id',
  'run_file',
  'response',
  'gold',
];

export function exportRow(run: RunRecord, runFile: string, gold = ''): ExportRow {
  return {
    instruction_id: run.instruction.id,
    instruction_file: run.instruction.file,
    model: run.endpoint.id,
    endpoint_model: run.endpoint.model,
    context: run.context,
    strategy: run.strategy,
    status: run.status,
    partial: run.partial,
    finish_reason: run.finishReason ?? '',
    error_kind: run.error?.kind ?? '',
    error: run.error?.message ?? '',
    prompt_tokens: run.tokens.prompt,
    completion_tokens: run.tokens.completion,
    record_kept_tokens: run.tokens.recordKept,
    record_cut_tokens: run.tokens.recordCut,
    estimated: run.estimated,
    first_token_ms: run.timings.firstTokenMs ?? null,
    total_ms: run.timings.totalMs,
    attempts: run.timings.attempts,
    created_at: run.createdAt,
    run_id: run.id,
    run_file: runFile,
    response: run.response,
    gold,
  };
}

export function rowsToJsonl(rows: readonly ExportRow[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length > 0 ? '\n' : '');
}

/** One CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF; quotes doubled. */
export function csvField(v: string | number | boolean | null): string {
  const s = v === null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180 CSV with a header row and CRLF line ends. */
export function rowsToCsv(rows: readonly ExportRow[]): string {
  const lines = [EXPORT_COLUMNS.join(',')];
  for (const r of rows) lines.push(EXPORT_COLUMNS.map((c) => csvField(r[c])).join(','));
  return lines.join('\r\n') + '\r\n';
}

/** Parses CSV text written by `rowsToCsv` (or any RFC 4180 CSV) into rows of fields. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      field += c;
      i++;
      continue;
    }
    if (c === '"') {
      quoted = true;
      i++;
    } else if (c === ',') {
      row.push(field);
      field = '';
      i++;
    } else if (c === '\r' || c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
    } else {
      field += c;
      i++;
    }
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
