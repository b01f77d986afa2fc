/**
 * `medalign timeline <record-or-instruction> [--context 8k] [--strategy recent] [--model id] [--json]`:
 * the record timeline model the Record Timeline view draws (core/timeline), as JSON or as a text
 * table. `loadTimeline` returns the model, for other outputs of the same command.
 */
import * as path from 'node:path';
import { URI } from 'vscode-uri';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { getLanguageService, fileKind } from '../core/languageService';
import { Workspace } from '../core/workspace/workspace';
import type { ServerTokenize } from '../core/tokens/serverCounts';
import { cliServerTokenize } from './countVerify';
import { formatTokenCount } from '../core/tokens/models';
import { formatInt } from '../core/util/format';
import { formatContext } from '../core/packing/format';
import { checkContext, checkStrategy } from '../core/schema/schemas';
import type { RunOverrides } from '../core/features/runSettings';
import type { TimelineModel } from '../core/timeline/model';
import { nodeFileSystem } from '../host/nodeFileSystem';
import { projectRootOf } from '../host/projectRoot';
import type { CliIo } from './io';
import { writeTimelineHtml } from './timelineHtml';
import { allowedRootsOption, parseArgs, UsageError } from './args';
import type { ParsedArgs } from './args';

export const TIMELINE_USAGE =
  'usage: medalign timeline <record.xml|file.medalign> [--context 8k] [--strategy recent|bm25|none|helm|refine] [--model id] [--json] [--html <file>]';

/** The options `medalign timeline` reads (more may be added by its callers). */
export const TIMELINE_VALUED = [
  'context',
  'strategy',
  'model',
  'allow-root',
  'html',
  'allow-phi-endpoint',
] as const;
export const TIMELINE_FLAGS = ['json', 'trust'] as const;

/** `--context`, `--strategy`, `--model` as overrides, checked as every feature checks them. */
export function timelineOverrides(p: ParsedArgs): RunOverrides {
  const opt = (name: string) => p.values.get(name)?.at(-1);
  const overrides: RunOverrides = {};
  const context = opt('context');
  if (context !== undefined) {
    const c = checkContext(context);
    if (!c.ok) throw new UsageError(`--context ${c.message}`);
    overrides.context = context;
  }
  const strategy = opt('strategy');
  if (strategy !== undefined) {
    const st = checkStrategy(strategy);
    if (!st.ok) throw new UsageError(`--strategy ${st.message}`);
    overrides.strategy = strategy;
  }
  const model = opt('model');
  if (model !== undefined) overrides.model = model;
  return overrides;
}

/**
 * The timeline of a record file (the project config's defaults) or of an instruction (its record
 * and settings), with overrides. Throws only when the named file itself cannot be read.
 */
export async function loadTimeline(
  target: string,
  cwd: string,
  overrides: RunOverrides = {},
  allowedRoots: string[] = [],
  /** `tokenizer: server`: how this command asks an endpoint's /tokenize (cli/countVerify.ts). */
  serverTokenize?: (ws: Workspace) => ServerTokenize,
): Promise<TimelineModel> {
  const file = path.resolve(cwd, target);
  const uri = URI.file(file).toString();
  const kind = fileKind(uri);
  if (kind !== 'instruction' && kind !== 'record') {
    throw new UsageError(`${target}: not a .medalign instruction or a .xml record`);
  }
  const { root } = await projectRootOf(file, [cwd]);
  const ws = new Workspace(nodeFileSystem, URI.file(root).toString());
  ws.setAllowedRoots(allowedRoots.map((r) => URI.file(r).toString()));
  await ws.loadConfig();
  if (serverTokenize !== undefined) ws.serverTokenize = serverTokenize(ws);
  const service = getLanguageService(nodeFileSystem);
  if (kind === 'record') {
    // Read by the record store (size checked before reading), as the server reads a closed record.
    return service.timeline(TextDocument.create(uri, 'xml', 0, ''), ws, overrides, undefined, true);
  }
  const text = await nodeFileSystem.readFile(uri);
  if (text === undefined) throw new Error(`no such file: ${target}`);
  return service.timeline(TextDocument.create(uri, 'medalign', 0, text), ws, overrides);
}

/** Nothing to show: the record is missing, refused or broken (the problems say why). */
export function timelineFailed(m: TimelineModel): boolean {
  return m.tokens === 0 && m.visits.length === 0 && m.problems.length > 0;
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

function when(iso: string | null): string {
  return iso === null ? '—' : iso.replace('T', ' ');
}

/** The readable form: a summary line, the visits, the cut table, the question terms and problems. */
export function formatTimelineText(m: TimelineModel): string {
  const est = m.estimated === true;
  const tok = (n: number) => formatTokenCount(n, est);
  const out: string[] = [];
  const span =
    m.first !== null && m.last !== null ? `, ${m.first.slice(0, 10)} → ${m.last.slice(0, 10)}` : '';
  out.push(
    `${m.record}: ${tok(m.tokens)} tokens (${m.encoding}${est ? ', estimated' : ''}), ` +
      `${formatInt(m.visits.length)} visits, ${formatInt(m.events)} events${span}`,
  );
  out.push(
    `model ${m.model ?? '—'} · strategy ${m.strategy} · context ${m.cuts.find((c) => c.own)?.label ?? formatContext(m.context)}`,
  );
  if (m.visits.length > 0) {
    const typeWidth = Math.min(28, Math.max(4, ...m.visits.map((v) => (v.type ?? '').length)));
    out.push('');
    out.push(
      `${pad('visit', 6, true)}  ${pad('type', typeWidth)}  ${pad('start', 16)}  ${pad('end', 16)}  ` +
        `${pad('tokens', 9, true)}  ${pad('events', 6, true)}  kept` +
        (m.strategy === 'bm25' ? '     score  matched' : ''),
    );
    for (const v of m.visits) {
      const type =
        (v.type ?? '').length > typeWidth ? `${(v.type ?? '').slice(0, typeWidth - 1)}…` : (v.type ?? '');
      const events = v.events.filter((e) => e.kind !== 'demographics').length;
      let line =
        `${pad(String(v.index), 6, true)}  ${pad(type, typeWidth)}  ${pad(when(v.start), 16)}  ${pad(when(v.end), 16)}  ` +
        `${pad(tok(v.tokens), 9, true)}  ${pad(formatInt(events), 6, true)}  ${pad(v.state, 7)}`;
      if (m.strategy === 'bm25')
        line += `  ${pad((v.score ?? 0).toFixed(2), 6, true)}  ${(v.matched ?? []).join(' ')}`;
      out.push(line.trimEnd());
    }
  }
  if (m.cuts.length > 0) {
    out.push('');
    out.push(
      `  ${pad('context', 7, true)}  ${pad('kept tokens', 11, true)}  ${pad('visits', 6, true)}  ${pad('events', 6, true)}  back to`,
    );
    for (const c of m.cuts) {
      const from = !c.ok ? 'does not fit' : c.fits ? 'whole record' : when(c.keptFrom);
      out.push(
        `${c.own ? '*' : ' '} ${pad(c.label, 7, true)}  ${pad(tok(c.keptTokens), 11, true)}  ` +
          `${pad(formatInt(c.keptVisits), 6, true)}  ${pad(formatInt(c.keptEvents), 6, true)}  ${from}`,
      );
    }
    out.push("  (* the instruction's own context)");
  }
  if (m.query !== undefined && m.query.terms.length > 0) {
    out.push('');
    out.push('question terms (BM25): hits in the record, kept at the own context');
    for (const t of m.query.terms) {
      out.push(
        `  ${t.term}: ${formatInt(t.hits)} in ${formatInt(t.visits)} visits, ${formatInt(t.keptHits)} kept`,
      );
    }
  }
  if (m.refine !== undefined && m.refine.length > 0) {
    out.push('');
    out.push(`refine · ${m.refine.length} step${m.refine.length === 1 ? '' : 's'}, in the order sent`);
    for (const st of m.refine) {
      const visits =
        st.firstVisit < 0
          ? 'no visits'
          : st.firstVisit === st.lastVisit
            ? `visit ${st.firstVisit}`
            : `visits ${st.firstVisit}–${st.lastVisit}`;
      out.push(
        `  step ${st.step}: ${visits}, ${formatInt(st.events)} events, ${formatInt(st.recordTokens)} record tokens` +
          (st.from !== null && st.to !== null ? `, ${st.from.slice(0, 10)} → ${st.to.slice(0, 10)}` : ''),
      );
    }
  }
  if (m.problems.length > 0) {
    out.push('');
    for (const p of m.problems) out.push(`problem: ${p}`);
  }
  return out.join('\n') + '\n';
}

export async function runTimeline(args: string[], io: CliIo): Promise<number> {
  const p = parseArgs(args, TIMELINE_VALUED, TIMELINE_FLAGS);
  if (p.positional.length !== 1) throw new UsageError(TIMELINE_USAGE);
  const model = await loadTimeline(
    p.positional[0],
    io.cwd,
    timelineOverrides(p),
    allowedRootsOption(p, io.cwd),
    // tokenizer: server → counted by the endpoint under the same trust and PHI rule as pack and run.
    (ws) => cliServerTokenize(ws, p, io, 'timeline'),
  );
  const html = p.values.get('html')?.at(-1);
  if (html !== undefined && !timelineFailed(model)) {
    await writeTimelineHtml(model, html, io);
  }
  if (p.flags.has('json')) io.out(JSON.stringify(model) + '\n');
  else io.out(formatTimelineText(model));
  if (timelineFailed(model)) {
    for (const problem of model.problems) io.err(`medalign timeline: ${problem}\n`);
    return 1;
  }
  return 0;
}
