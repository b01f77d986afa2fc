/**
 * What a chat API adds around the messages, counted exactly (plain data: crosses the worker boundary
 * inside a pack request).
 *
 * - `openai`: OpenAI's chat format: every message costs 3 tokens plus its role and content, and the
 *   reply is primed with 3 more (`<|start|>assistant<|message|>`), as in OpenAI's cookbook
 *   ("How to count tokens with tiktoken").
 * - `template`: a Hugging Face model's `chat_template` (from `tokenizer_config.json`), rendered with
 *   `@huggingface/jinja` with `bos_token`, `eos_token` and `add_generation_prompt: true`, as vLLM and
 *   text-generation servers do; the count is of the templated text, tokenized as the server does.
 * - `none`: the messages' contents only (`baseline` sends nothing; a model without a template).
 */
import type { ChatMessage } from '../template/template';

export type ChatFormat =
  | { kind: 'openai' }
  | { kind: 'none' }
  | { kind: 'template'; template: string; bosToken?: string; eosToken?: string };

/** Tokens OpenAI adds per message, and to prime the reply. */
export const OPENAI_TOKENS_PER_MESSAGE = 3;
export const OPENAI_REPLY_PRIMING = 3;

interface JinjaTemplate {
  render(items: Record<string, unknown>): string;
}
interface JinjaLib {
  Template: new (source: string) => JinjaTemplate;
}

const parsed = new Map<string, JinjaTemplate>();

function jinjaTemplate(source: string): JinjaTemplate {
  let t = parsed.get(source);
  if (t === undefined) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded lazily (ambient.d.ts)
    const lib = require('@huggingface/jinja') as JinjaLib;
    try {
      t = new lib.Template(source);
    } catch (err) {
      throw new Error(`The model's chat template cannot be read: ${(err as Error).message}`);
    }
    if (parsed.size >= 16) parsed.clear();
    parsed.set(source, t);
  }
  return t;
}

/**
 * The text a server builds from the messages with the model's chat template, ready to tokenize.
 * Throws with a clear message when the template fails (a `raise_exception` in it, a syntax error).
 */
export function renderChatTemplate(
  format: Extract<ChatFormat, { kind: 'template' }>,
  messages: readonly ChatMessage[],
): string {
  const t = jinjaTemplate(format.template);
  try {
    return t.render({
      messages: messages.map((m) => ({ role: m.role, content: m.content })),
      bos_token: format.bosToken ?? '',
      eos_token: format.eosToken ?? '',
      add_generation_prompt: true,
      // `raise_exception` is the library's own (it throws with the template's message).
    });
  } catch (err) {
    throw new Error(`The model's chat template failed: ${(err as Error).message}`);
  }
}

/** The templated text for the preview; `undefined` when the format adds no text of its own. */
export function templatedText(
  format: ChatFormat | undefined,
  messages: readonly ChatMessage[],
): string | undefined {
  return format?.kind === 'template' ? renderChatTemplate(format, messages) : undefined;
}

/**
 * Tokens of the messages as the API sees them. `count` counts a text exactly in the model's
 * tokenizer (the caller's cached counter).
 */
export function countChat(
  format: ChatFormat | undefined,
  messages: readonly ChatMessage[],
  count: (text: string) => number,
): number {
  switch (format?.kind) {
    case 'openai': {
      let n = OPENAI_REPLY_PRIMING;
      for (const m of messages) n += OPENAI_TOKENS_PER_MESSAGE + count(m.role) + count(m.content);
      return n;
    }
    case 'template':
      return count(renderChatTemplate(format, messages));
    default: {
      let n = 0;
      for (const m of messages) n += count(m.content);
      return n;
    }
  }
}
