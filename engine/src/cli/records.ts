/**
 * `medalign count <record.xml> --model|--verify <endpoint>` (count.ts counts in an encoding) and
 * `medalign pack <file.medalign>`: token counts and the exact prompt, from the same core as the
 * editor (in-process RecordEngine).
 */
import * as path from 'node:path';
import { URI } from 'vscode-uri';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { getLanguageService } from '../core/languageService';
import { Workspace } from '../core/workspace/workspace';
import { formatTokenCount } from '../core/tokens/models';
import { checkContext, checkStrategy } from '../core/schema/schemas';
import type { PreviewOverrides } from '../core/features/preview';
import { displayMessages, formatStepLine } from '../core/packing/refine';
import { nodeFileSystem } from '../host/nodeFileSystem';
import { projectRootOf } from '../host/projectRoot';
import type { CliIo } from './io';
import { allowedRootsOption, parseArgs } from './args';
import type { ParsedArgs } from './args';
import { runEncodingCount } from './count';
import { countTarget, parseCountArgs } from './countArgs';
import { cliServerTokenize, countWithEndpoint, verifyLine, verifyWithServer } from './countVerify';
import { knownKeys } from './files';
import { redactingIo } from './io';

async function workspaceFor(file: string, cwd: string, allowedRoots: string[] = []): Promise<Workspace> {
  const { root } = await projectRootOf(file, [cwd]);
  const ws = new Workspace(nodeFileSystem, URI.file(root).toString());
  ws.setAllowedRoots(allowedRoots.map((r) => URI.file(r).toString()));
  await ws.loadConfig();
  return ws;
}

/**
 * `medalign count` from the whole CLI's bundle: in an encoding (count.ts; the `medalign` entry
 * normally runs that from its own bundle), or in an endpoint's tokenizer.
 */
export async function runCount(args: string[], io: CliIo): Promise<number> {
  const p = parseCountArgs(args);
  const target = countTarget(p);
  return target.kind === 'endpoint'
    ? countForEndpoint(target.file, target.endpointId, p, io)
    : runEncodingCount(target, p, io);
}

/** `count --model <endpoint>` / `--verify <endpoint>` (countVerify.ts): the project's config names the endpoint. */
async function countForEndpoint(file: string, id: string, p: ParsedArgs, io: CliIo): Promise<number> {
  const abs = path.resolve(io.cwd, file);
  const ws = await workspaceFor(abs, io.cwd, allowedRootsOption(p, io.cwd));
  const uri = URI.file(abs).toString();
  const outside = await ws.checkBounds(uri, 'record');
  if (outside) throw new Error(outside.message);
  const text = await nodeFileSystem.readFile(uri);
  if (text === undefined) throw new Error(`no such record: ${file}`);
  const json = p.flags.has('json');
  const serverTokenizer = ws.config.endpoints.find((e) => e.id === id)?.tokenizer === 'server';
  if (!p.values.has('verify') && !serverTokenizer) {
    const c = await countWithEndpoint(ws, id, text);
    if (json) io.out(JSON.stringify({ file, ...c }, null, 2) + '\n');
    else
      io.out(`${file}: ${formatTokenCount(c.tokens, c.estimated)} tokens (${c.tokenizer}, endpoint ${id})\n`);
    return 0;
  }
  const secrets = await knownKeys([URI.parse(ws.root).fsPath], io.env);
  const rio = redactingIo(io, secrets);
  const v = await verifyWithServer(ws, id, text, p, rio);
  if (v === undefined) return 1;
  if (!p.values.has('verify')) {
    // `tokenizer: server`: the count is the server's own (sent as --verify sends it).
    const c = { file, endpoint: id, tokenizer: `server (${v.url})`, estimated: false, tokens: v.server };
    if (json) rio.out(JSON.stringify(c, null, 2) + '\n');
    else rio.out(`${file}: ${formatTokenCount(v.server, false)} tokens (${c.tokenizer}, endpoint ${id})\n`);
    return 0;
  }
  if (json) rio.out(JSON.stringify({ file, ...v }, null, 2) + '\n');
  else rio.out(verifyLine(file, v));
  return v.agree ? 0 : 1;
}

export async function runPack(args: string[], io: CliIo): Promise<number> {
  const p = parseArgs(
    args,
    ['context', 'strategy', 'model', 'allow-root', 'allow-phi-endpoint'],
    ['json', 'trust'],
  );
  const rest = p.positional;
  const opt = (name: string) => p.values.get(name)?.at(-1);
  if (rest.length !== 1) {
    throw new Error(
      'usage: medalign pack <file.medalign> [--context 32k] [--strategy recent|bm25|none|helm|refine] [--model id] [--json] [--trust] [--allow-phi-endpoint id@origin]',
    );
  }
  const overrides: PreviewOverrides = {};
  const context = opt('context');
  if (context !== undefined) {
    const c = checkContext(context);
    if (!c.ok) throw new Error(`--context ${c.message}`);
    overrides.context = context;
  }
  const strategy = opt('strategy');
  if (strategy !== undefined) {
    const st = checkStrategy(strategy);
    if (!st.ok) throw new Error(`--strategy ${st.message}`);
    overrides.strategy = strategy;
  }
  const model = opt('model');
  if (model !== undefined) overrides.model = model;

  const file = path.resolve(io.cwd, rest[0]);
  const uri = URI.file(file).toString();
  const text = await nodeFileSystem.readFile(uri);
  if (text === undefined) throw new Error(`no such file: ${rest[0]}`);
  const ws = await workspaceFor(file, io.cwd, allowedRootsOption(p, io.cwd));
  // tokenizer: server → packed with the server's counts, under the same trust and PHI rule as a run.
  ws.serverTokenize = cliServerTokenize(ws, p, io, 'pack');
  const service = getLanguageService(nodeFileSystem);
  const pv = await service.buildPreview(TextDocument.create(uri, 'medalign', 0, text), ws, overrides);
  if (p.flags.has('json')) {
    const pk = pv.pack;
    io.out(
      JSON.stringify(
        {
          ok: pv.ok,
          error: pv.error ?? null,
          model: pv.settings.model,
          encoding: pv.settings.tokenizer.encoding,
          estimated: pv.settings.tokenizer.estimated,
          context: pv.settings.context,
          strategy: pv.settings.strategy,
          // `helm` sends text (HELM's request), the other strategies chat messages.
          prompt: pk?.helm !== undefined ? pk.helm.text : pv.messages,
          tokens: pk
            ? {
                template: pk.budget.template,
                instruction: pk.budget.instruction,
                record: pk.budget.record,
                reserve: pk.budget.reserve,
                total: pk.budget.prompt,
                limit: pk.budget.limit,
              }
            : null,
          ...(pk?.helm !== undefined
            ? {
                budget: pk.budget,
                helm: {
                  ehrBudget: pk.helm.ehrBudget,
                  recordTokens: pk.helm.recordTokens,
                  wellFormed: pk.helm.wellFormed,
                  cutLine: pk.helm.cutLine ?? null,
                  cutColumn: pk.helm.cutColumn ?? null,
                  cutInside: pk.helm.cutInside ?? null,
                  recent: pk.helm.recent ?? null,
                  differences: pk.helm.differences,
                },
              }
            : {}),
          kept: pk?.kept ?? null,
          cut: pk?.cut ?? null,
          visits: pk?.visits ?? null,
          warnings: pk?.warnings ?? [],
          // strategy refine: one step per chunk, in the order they are sent.
          ...(pk?.refine !== undefined
            ? {
                order: pk.refine.order,
                maxSteps: pk.refine.maxSteps,
                steps: pk.refine.steps.map((st) => ({
                  step: st.index + 1,
                  prompt: displayMessages(st),
                  tokens: st.tokens,
                  answerReserve: st.index > 0 ? pk.budget.reserve * st.answerSlots.length : 0,
                  recordTokens: st.recordTokens,
                  visits: st.firstVisit < 0 ? [] : [st.firstVisit, st.lastVisit],
                  events: st.events,
                  from: st.firstDate?.iso.slice(0, 10) ?? null,
                  to: st.lastDate?.iso.slice(0, 10) ?? null,
                })),
              }
            : {}),
        },
        null,
        2,
      ) + '\n',
    );
  } else if (pv.pack?.refine !== undefined && pv.pack.refine.steps.length > 0) {
    const steps = pv.pack.refine.steps;
    io.out(
      steps
        .map(
          (st) =>
            `════════ ${formatStepLine(st, steps.length)} ════════\n` +
            displayMessages(st)
              .map((m) => `[${m.role}]\n${m.content}`)
              .join('\n\n'),
        )
        .join('\n\n') + '\n',
    );
    io.err(pv.text.split('\n════════')[0].trimEnd() + '\n');
  } else if (pv.pack) {
    io.out(
      pv.messages
        .map((m) => (pv.messages.length > 1 ? `[${m.role}]\n${m.content}` : m.content))
        .join('\n\n') + '\n',
    );
    io.err(pv.text.split('\n════════')[0].trimEnd() + '\n');
  } else {
    io.err(`medalign pack: ${pv.error ?? 'no prompt'}\n`);
  }
  return pv.ok ? 0 : 1;
}
