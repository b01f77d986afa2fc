/**
 * The token parts of hovers ("what fits"): on a record, on `context`, on the instruction. Counting
 * big records happens in the RecordEngine (a worker in the server); a hover waits for it up to
 * HOVER_WAIT_MS (the editor shows its own loading state meanwhile), and only past that says the
 * count is still running.
 */
import type { FitRow, FitTable, PackResult } from '../packing/pack';
import { isoDay } from '../record/dates';
import { formatTokenCount } from '../tokens/models';
import type { RecordInfo } from '../workspace/records';
import type { Workspace } from '../workspace/workspace';
import { HOVER_WAIT_MS } from '../workspace/recordEngine';
import type { Cancel } from '../workspace/recordEngine';
import { packRequest } from './runSettings';
import type { RunSettings } from './runSettings';
import { formatInt } from '../util/format';
import { codeSpan, escapeMarkdown } from '../util/markdown';
import { countWithServer, serverCountKey } from '../tokens/serverCounts';
import { serverCountWarning, withServerCounts } from './serverPack';

export const COUNTING = '*Counting tokens… hover again in a moment.*';

function sizeLabel(n: number): string {
  return n % 1024 === 0 ? `${n / 1024}k` : formatInt(n);
}

function tokenizerLabel(s: RunSettings): string {
  return `${s.tokenizer.label !== undefined ? escapeMarkdown(s.tokenizer.label) : s.tokenizer.encoding}${s.tokenizer.estimated ? ', estimated: the model’s tokenizer is unknown' : ''} · model ${escapeMarkdown(s.model)}`;
}

/** Markdown: total tokens and, for 2k…128k, how much of the record fits and back to which date. */
export async function recordTokenSection(
  info: RecordInfo,
  s: RunSettings,
  ws: Workspace,
  cancel?: Cancel,
): Promise<string> {
  if (!info.key || !info.record?.ok) return '';
  const req = packRequest(s);
  const fit = await ws.engine.fit(info.uri, info.key, req, HOVER_WAIT_MS, cancel);
  if (fit === 'pending') return COUNTING;
  if (!fit) return '';
  let table: string;
  if (fit.strategy !== 'helm') table = fitMarkdown(fit, s);
  else {
    // Under helm, what recent keeps at each size beside it, and how the two cut.
    const recent = await ws.engine.fit(
      info.uri,
      info.key,
      { ...req, strategy: 'recent' },
      HOVER_WAIT_MS,
      cancel,
    );
    table = fitMarkdown(fit, s, recent === 'pending' || recent === undefined ? undefined : recent);
  }
  if (!s.tokenizer.server) return table;
  const text = await ws.records.text(info.uri);
  if (text === undefined) return table;
  const server = await serverCountMarkdown(text, fit.total, s, ws, 'this record');
  // What fits, packed with the server's counts of the record's parts where it answers (cached by
  // content: asked once, then every hover is exact); else the local fallback's, and why.
  const key = info.key;
  const counted = await withServerCounts(ws, s, (s2) =>
    ws.engine.fit(info.uri, key, packRequest(s2), HOVER_WAIT_MS, cancel),
  );
  const exact = counted.status?.exact === true && counted.value !== undefined && counted.value !== 'pending';
  const shown =
    exact && typeof counted.value === 'object'
      ? fitMarkdown(counted.value, { ...s, tokenizer: counted.tokenizer })
      : table;
  // The server's count of the whole record replaces the first line.
  const rest = shown.split('\n').slice(1).join('\n');
  if (exact) return `${server}\n\n*What fits below is packed with the server's counts.*\n${rest}`;
  const why = serverCountWarning(counted.status, s.tokenizer.encoding);
  return `${server}\n\n*What fits below is estimated with ${s.tokenizer.encoding} (the local fallback)${why ? `: ${escapeMarkdown(why.replace(/^Token counts are estimates with [^:]+: /, '').replace(/\.$/, ''))}` : ''}.*\n${rest}`;
}

/** The command a hover offers to approve an endpoint for patient records (client/src/run/approvals.ts). */
export const APPROVE_ENDPOINT_COMMAND = 'medalign.approveEndpoint';

/**
 * `tokenizer: server`: the server's exact count of `text` (asked through the workspace's
 * `serverTokenize`, cached by content), or the local estimate with the fallback encoding and why:
 * not approved (with a link to approve it), or the request failed.
 */
export async function serverCountMarkdown(
  text: string,
  /** The local count with the fallback encoding. */
  localCount: number,
  s: RunSettings,
  ws: Workspace,
  what: string,
): Promise<string> {
  const endpoint = s.endpoint;
  const estimate = () =>
    `**${formatTokenCount(localCount, true)} tokens** (estimate with ${s.tokenizer.encoding} · model ${escapeMarkdown(s.model)})`;
  if (endpoint === undefined || ws.serverTokenize === undefined) {
    return `${estimate()}\n\nThe exact count is the server's /tokenize; this program does not ask it.`;
  }
  const answer = await countWithServer(
    ws.serverCounts,
    serverCountKey(endpoint),
    endpoint.id,
    [text],
    ws.serverTokenize,
  );
  if (answer.ok) {
    return `**${formatTokenCount(answer.counts[0], false)} tokens** (the server's /tokenize · endpoint ${escapeMarkdown(endpoint.id)} · model ${escapeMarkdown(s.model)})`;
  }
  if (answer.reason === 'not-approved' && answer.approval !== undefined) {
    const args = encodeURIComponent(JSON.stringify([answer.approval]));
    return (
      `${estimate()}\n\nThe exact count is endpoint ${codeSpan(endpoint.id)}'s /tokenize, which needs ${what} sent to ${escapeMarkdown(answer.approval.origin)}: ` +
      `not approved for patient records, so nothing was sent. [Approve ${escapeMarkdown(endpoint.id)} for patient records…](command:${APPROVE_ENDPOINT_COMMAND}?${args})`
    );
  }
  return `${estimate()}\n\nThe server's count is not available: ${escapeMarkdown(answer.message)}`;
}

/** Under `helm`, in plain words: where it differs from `recent` (the record hover says it below its table). */
export const HELM_VS_RECENT =
  '**helm differs from recent:** helm keeps the last tokens of the record counted in cl100k_base ' +
  '(as HELM does, whatever the model) and cuts wherever that count falls, mid-element, so what it sends ' +
  'is not well-formed XML unless the whole record fits; recent cuts between visits, days and events ' +
  '(well-formed XML), counted in the model’s tokenizer.';

/**
 * What fits, as a three-column table with short cells so it reads at a hover's usual width
 * (~500 px): context, what the instruction's strategy keeps, and back to which date.
 */
export function fitMarkdown(fit: FitTable, s: RunSettings, recent?: FitTable): string {
  const t = (n: number) => formatTokenCount(n, fit.estimated);
  const helm = fit.strategy === 'helm';
  const lines = [
    `**${t(fit.total)} tokens** (${helm ? `cl100k_base, as HELM counts · model ${escapeMarkdown(s.model)}` : tokenizerLabel(s)})`,
    '',
    `Kept by **${fit.strategy}** after template ${t(fit.template)} + instruction ${t(fit.instruction)} + reserve ${fit.reserve}:`,
    '',
    recent
      ? `| context | kept (${fit.strategy}) | recent keeps, back to |`
      : `| context | kept (${fit.strategy}) | back to |`,
    '|---|---|---|',
  ];
  for (const r of fit.rows) {
    const mark = r.context === s.context ? ' ◀' : '';
    const other = recent?.rows.find((x) => x.context === r.context);
    if (recent) {
      // Short cells, so three columns still fit a hover's width.
      const theirs = other ? shortCell(other, recent) : '—';
      const back = other?.keptFrom && other.keptTokens > 0 ? ` · ${isoDay(other.keptFrom)}` : '';
      lines.push(`| ${sizeLabel(r.context)}${mark} | ${shortCell(r, fit)} | ${theirs}${back} |`);
      continue;
    }
    const cells = fitRowCells(r, fit);
    lines.push(`| ${sizeLabel(r.context)}${mark} | ${cells.kept} | ${cells.backTo ?? '—'} |`);
  }
  if (helm) lines.push('', HELM_VS_RECENT);
  return lines.join('\n');
}

/** A row's kept part in a few characters: `whole`, `nothing`, `1,754 · 59%`. */
function shortCell(r: FitRow, fit: Pick<FitTable, 'estimated'>): string {
  if (r.fitsWhole) return 'whole';
  if (r.keptTokens === 0) return 'nothing';
  return `${formatTokenCount(r.keptTokens, fit.estimated)} · ${(r.fraction * 100).toFixed(r.fraction < 0.1 ? 1 : 0)}%`;
}

/**
 * One row of "what fits" in words: what the strategy keeps at that size (`whole record`,
 * `12,345 tokens · 40% · 3 visits`, `nothing`) and the earliest day kept. The hover's table and
 * the context picker (`medalign/contextFit`) both say it this way.
 */
export function fitRowCells(r: FitRow, fit: Pick<FitTable, 'estimated'>): { kept: string; backTo?: string } {
  const t = (n: number) => formatTokenCount(n, fit.estimated);
  const kept = r.fitsWhole
    ? 'whole record'
    : r.recordBudget <= 0
      ? 'nothing (prompt too long)'
      : r.keptTokens === 0
        ? 'nothing'
        : `${t(r.keptTokens)} · ${(r.fraction * 100).toFixed(r.fraction < 0.1 ? 1 : 0)}% · ${r.keptVisits} visit${r.keptVisits === 1 ? '' : 's'}${r.partial ? ', one cut' : ''}`;
  const out: { kept: string; backTo?: string } = { kept };
  if (r.keptFrom && r.keptTokens > 0) out.backTo = isoDay(r.keptFrom);
  return out;
}

/** Markdown: the budget of the instruction's own context and strategy, and what is cut. */
export async function contextTokenSection(
  info: RecordInfo | undefined,
  s: RunSettings,
  ws: Workspace,
  cancel?: Cancel,
): Promise<string> {
  if (!info?.key || !info.record?.ok) return '';
  const counts = await ws.engine.counts(info.uri, info.key, s.tokenizer.encoding, HOVER_WAIT_MS, cancel);
  if (counts === 'pending') return COUNTING;
  const key = info.key;
  // tokenizer: server → the budget in the server's counts where allowed (serverPack.ts).
  const counted = await withServerCounts(ws, s, (s2) =>
    ws.engine.pack(info.uri, key, packRequest(s2), cancel),
  );
  if (!counted.value) return '';
  const warning = serverCountWarning(counted.status, s.tokenizer.encoding);
  const pack = warning ? { ...counted.value, warnings: [...counted.value.warnings, warning] } : counted.value;
  return packMarkdown(pack, { ...s, tokenizer: counted.tokenizer });
}

export function packMarkdown(p: PackResult, s: RunSettings): string {
  const t = (n: number) => formatTokenCount(n, p.estimated);
  const b = p.budget;
  const used = b.template + b.instruction + b.record + b.reserve;
  const lines = [
    `**Budget at ${sizeLabel(b.context)}** (${p.strategy}; ${p.strategy === 'helm' ? 'cl100k_base, as HELM counts' : tokenizerLabel(s)})`,
    '',
    `template ${t(b.template)} + instruction ${t(b.instruction)} + record ${t(b.record)} + reserve ${b.reserve} = ${t(used)} of ${t(b.context)}`,
    '',
  ];
  if (!p.ok) lines.push(`**Does not fit:** ${escapeMarkdown(p.error ?? 'the prompt is too long')}`, '');
  const range = (a?: { iso: string }, z?: { iso: string }) =>
    a && z ? ` (${a.iso.slice(0, 10)} → ${z.iso.slice(0, 10)})` : '';
  lines.push(
    `- kept: ${p.kept.visits} visits, ${p.kept.events} events, ${p.kept.notes} notes, ${t(p.kept.tokens)} tokens${range(p.kept.firstDate, p.kept.lastDate)}`,
  );
  if (p.cut.tokens > 0 || p.cut.visits > 0) {
    lines.push(
      `- cut: ${p.cut.visits} visits, ${p.cut.events} events, ${p.cut.notes} notes, ${t(p.cut.tokens)} tokens${range(p.cut.firstDate, p.cut.lastDate)}`,
    );
  } else {
    lines.push('- cut: nothing');
  }
  for (const w of p.warnings) lines.push(`- ${escapeMarkdown(w)}`);
  if (p.helm !== undefined && p.helm.differences.length > 0) {
    lines.push('', '**Compared with recent:**', '');
    for (const d of p.helm.differences) lines.push(`- ${escapeMarkdown(d)}`);
  }
  return lines.join('\n');
}

export async function instructionTokenSection(s: RunSettings, ws: Workspace): Promise<string> {
  const n = await ws.engine.countText(s.instruction, s.tokenizer.encoding);
  if (s.tokenizer.server) return serverCountMarkdown(s.instruction, n, s, ws, 'the instruction');
  return `**${formatTokenCount(n, s.tokenizer.estimated)} tokens** (${tokenizerLabel(s)})`;
}
