/**
 * The exact prompt an instruction would send, with its budget: for the "Preview prompt" view, the
 * `medalign pack` CLI and (later) the run-lens. Packing runs in the workspace's RecordEngine.
 */
import type { FileSystem } from '../host';
import type { InstructionFile } from '../format/parse';
import type { PackResult } from '../packing/pack';
import type { ChatMessage } from '../template/template';
import { formatTokenCount } from '../tokens/models';
import type { Workspace } from '../workspace/workspace';
import { serverCountWarning, withServerCounts } from './serverPack';
import { packRequest, resolveRunSettings, settingsError } from './runSettings';
import type { RunOverrides, RunSettings } from './runSettings';
import { packMarkdown } from './tokenHover';
import { displayMessages, formatStepLine, refineLabel } from '../packing/refine';

export type PreviewOverrides = RunOverrides;

export interface PromptPreview {
  ok: boolean;
  /** Why there is no prompt (no record, the record does not fit with `none`, ...). */
  error?: string;
  settings: RunSettings;
  recordUri?: string;
  pack?: PackResult;
  messages: ChatMessage[];
  /** The budget header's lines (file, record and settings, budget, kept and cut, prompt size). */
  header: string[];
  /** The whole preview as a read-only text document: budget header, then each message verbatim. */
  text: string;
  /**
   * The messages in the model's chat template (an `hf:` tokenizer with a `chat_template`): the text
   * the server tokenizes, which the prompt's count is of. Shown after the messages.
   */
  templated?: string;
}

/** The title of the templated text's block, in the preview document and the webview. */
export const TEMPLATED_TITLE = 'templated: the text the server tokenizes';

/** The hover's markdown as plain text: no bold markers, no backslash escapes, no entities. */
function plainText(markdown: string): string {
  return markdown
    .replace(/\*\*/g, '')
    .replace(/\\([\\`*_~[\]()|])/g, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

export async function buildPreview(
  file: InstructionFile,
  uri: string,
  workspace: Workspace,
  fs: FileSystem,
  overrides: PreviewOverrides = {},
): Promise<PromptPreview> {
  let settings = await resolveRunSettings(file, uri, workspace, fs, overrides);
  const fail = (error: string): PromptPreview => ({
    ok: false,
    error,
    settings,
    messages: [],
    header: [`MedAlign prompt preview — ${error}`],
    text: `MedAlign prompt preview — ${error}\n`,
  });
  if (!file.data) return fail('the front matter could not be read; fix its errors first.');
  const problem = settingsError(settings);
  if (problem !== undefined) return fail(problem);
  const resolved = await workspace.resolveRecord(uri, file.data);
  if (!resolved) return fail('no record: add `patient:` or `record:` to the front matter.');
  if (resolved.outside) return fail(resolved.outside.message);
  const info = await workspace.records.get(resolved.uri);
  if (!info.exists || !info.key) return fail(`record not found: ${workspace.label(resolved.uri)}.`);
  if (info.record?.diagnostics[0]?.code === 'record-too-large') {
    return fail(info.record.diagnostics[0].message.replace(/^The record/, workspace.label(resolved.uri)));
  }
  if (!info.record?.ok) return fail(`${workspace.label(resolved.uri)} is not a valid MedAlign record.`);
  const key = info.key;
  // tokenizer: server → the server's counts where allowed (serverPack.ts), else the estimate and why.
  const counted = await withServerCounts(workspace, settings, (s) =>
    workspace.engine.pack(resolved.uri, key, packRequest(s)),
  );
  if (!counted.value) return fail('the record could not be packed.');
  const warning = serverCountWarning(counted.status, settings.tokenizer.encoding);
  const pack = warning ? { ...counted.value, warnings: [...counted.value.warnings, warning] } : counted.value;
  if (counted.status !== undefined) settings = { ...settings, tokenizer: counted.tokenizer };
  const header = [
    `MedAlign prompt preview — ${workspace.label(uri)}`,
    `record ${workspace.label(resolved.uri)} · model ${settings.model} · context ${settings.contextLabel} · strategy ${settings.strategy}`,
    '',
    plainText(packMarkdown(pack, settings)),
    '',
    `prompt: ${formatTokenCount(pack.budget.prompt, pack.estimated)} tokens, limit ${formatTokenCount(pack.budget.limit, false)} (context − reserve)`,
  ];
  const steps = pack.refine?.steps ?? [];
  if (steps.length > 0) header.push(`${refineLabel(steps.length)} (${pack.refine?.order ?? 'oldest-first'})`);
  let body =
    steps.length > 0
      ? steps
          .map(
            (st) =>
              `════════ ${formatStepLine(st, steps.length)} ════════\n` +
              displayMessages(st)
                .map((m) => `──────── ${m.role} ────────\n${m.content}`)
                .join('\n'),
          )
          .join('\n')
      : pack.messages.map((m) => `════════ ${m.role} ════════\n${m.content}`).join('\n');
  if (pack.templated !== undefined) body += `\n════════ ${TEMPLATED_TITLE} ════════\n${pack.templated}`;
  const preview: PromptPreview = {
    ok: pack.ok,
    settings,
    recordUri: resolved.uri,
    pack,
    messages: pack.messages,
    header: header.join('\n').split('\n'),
    text: `${header.join('\n')}\n\n${body}\n`,
  };
  if (!pack.ok) preview.error = pack.error ?? 'the prompt does not fit';
  if (pack.templated !== undefined) preview.templated = pack.templated;
  return preview;
}
