/**
 * A local OpenAI-compatible server for tests and benches, on 127.0.0.1 (port 0): `POST
 * …/chat/completions` (any prefix, so `/v1/chat/completions` and Azure's
 * `/openai/deployments/<d>/chat/completions?api-version=…` both work) with and without `stream: true`
 * (SSE chunks in order, then `[DONE]`), and `GET /v1/models`.
 *
 * Each request's behaviour is scripted: `script(...)` queues behaviours taken in order, `respond`
 * decides per request, otherwise the answer is `ok`. Behaviours: an answer (chunks, delays, finish
 * reason), any status with a body and headers, 429 with Retry-After, 500, dropping the connection
 * mid-stream (or before any response), stalling (before or after some chunks), Azure's content
 * filter error, a finish with `content_filter`, OpenAI's context-length error, a redirect (3xx with
 * a Location), and 401 (which, like OpenAI, echoes the key it was given: a test can check it never
 * reaches a file). It listens on 127.0.0.1, or on ::1 with `host: '::1'`.
 *
 * With `tokenizer` (a tokenizer.json, run by the Rust `tokenizers` package: an implementation
 * independent of ours), it also serves `POST /tokenize` as vLLM does (`{model, prompt}` →
 * `{count, tokens, max_model_len}`, and `{model, messages}` with the chat template) and as
 * llama.cpp's server does (`{content}` → `{tokens}`).
 *
 * `requests` logs every request received (headers and parsed body), so a test can assert what was
 * (not) sent. The log is in memory only.
 */
import * as http from 'node:http';
import { Tokenizer as RustTokenizer } from 'tokenizers';
import { renderChatTemplate } from '../../engine/src/core/tokens/chat';
import * as net from 'node:net';
import type { AddressInfo, Socket } from 'node:net';

export type Behaviour =
  | {
      kind: 'ok';
      /** The answer; default: `Answer <n>: <the question>`. */
      text?: string;
      /** Exact chunks (overrides `text`). */
      chunks?: string[];
      chunkDelayMs?: number;
      finishReason?: string;
      /** Send a `usage` chunk / field (default true). */
      usage?: boolean;
    }
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
  | { kind: 'rate-limit'; retryAfter?: string; retryAfterMs?: string }
  | { kind: 'server-error'; status?: number }
  | { kind: 'drop'; afterChunks: number; chunkDelayMs?: number }
  | { kind: 'drop-before-response' }
  | { kind: 'stall'; afterChunks?: number }
  | { kind: 'content-filter' }
  | { kind: 'content-filter-finish'; text?: string }
  | { kind: 'context-length'; limit?: number }
  | { kind: 'auth' }
  /** An HTTP redirect (301, 302, 303, 307, 308) to `location`, with no body. */
  | { kind: 'redirect'; status: number; location: string };

export interface LoggedRequest {
  n: number;
  method: string;
  path: string;
  query: Record<string, string>;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: unknown;
  rawBody: string;
  receivedAt: number;
  /** The client went away before the response ended. */
  aborted: boolean;
}

export interface FakeOpenAIOptions {
  /** Wait before answering each chat request (ms). */
  latencyMs?: number;
  /** Default delay between chunks (ms). */
  chunkDelayMs?: number;
  respond?: (req: LoggedRequest) => Behaviour | undefined;
  models?: string[];
  /** The loopback address to listen on: `127.0.0.1` (default) or `::1`. */
  host?: '127.0.0.1' | '::1';
  /** Serve `/tokenize` with this tokenizer (see the module comment). */
  tokenizer?: FakeTokenizerOptions;
}

export interface FakeTokenizerOptions {
  /** Path of a tokenizer.json. */
  file: string;
  /** For `{messages}` requests: the chat template, bos and eos tokens. */
  chatTemplate?: string;
  bosToken?: string;
  eosToken?: string;
  /** vLLM's `max_model_len` in answers. Default 8192. */
  maxModelLen?: number;
  /** Added to every count (a server whose tokenizer is not ours, for "disagree"). Default 0. */
  skew?: number;
}

interface ChatBody {
  model?: string;
  stream?: boolean;
  messages?: { role: string; content: string }[];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The URL of a fetch input. */
export function urlOf(input: string | URL | Request): string {
  return typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
}

/** Splits text into chunks of about `size` characters, at word boundaries when possible. */
export function chunkText(text: string, size = 12): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    let end = Math.min(text.length, i + size);
    const sp = text.lastIndexOf(' ', end);
    if (end < text.length && sp > i) end = sp + 1;
    out.push(text.slice(i, end));
    i = end;
  }
  return out;
}

/** The default answer: names the request number and echoes the prompt's question line. */
export function defaultAnswer(n: number, body: ChatBody): string {
  const last = body.messages?.[body.messages.length - 1]?.content ?? '';
  const q = /Question:\s*(.*)/.exec(last)?.[1]?.trim() ?? last.slice(-60);
  return `Answer ${n}: you asked "${q}". The record shows what was asked about.`;
}

export class FakeOpenAI {
  readonly requests: LoggedRequest[] = [];
  private readonly queue: Behaviour[] = [];
  private readonly sockets = new Set<Socket>();
  private counter = 0;
  options: FakeOpenAIOptions;

  private constructor(
    private readonly server: http.Server,
    options: FakeOpenAIOptions,
  ) {
    this.options = options;
  }

  static async start(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
    const holder: { self?: FakeOpenAI } = {};
    const server = http.createServer((req, res) => {
      void holder.self?.handle(req, res);
    });
    const self = new FakeOpenAI(server, options);
    holder.self = self;
    server.on('connection', (s) => {
      self.sockets.add(s);
      s.on('close', () => self.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return self;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get origin(): string {
    return this.options.host === '::1' ? `http://[::1]:${this.port}` : `http://127.0.0.1:${this.port}`;
  }

  /** `http://127.0.0.1:<port>/v1` (`http://[::1]:<port>/v1` on ::1) */
  get baseUrl(): string {
    return `${this.origin}/v1`;
  }

  /** Queues behaviours for the next chat requests, in order. */
  script(...b: Behaviour[]): this {
    this.queue.push(...b);
    return this;
  }

  /** Chat requests only. */
  get chatRequests(): LoggedRequest[] {
    return this.requests.filter((r) => r.path.endsWith('/chat/completions'));
  }

  /** Forgets the log and the script; request numbers start at 1 again. */
  reset(): void {
    this.requests.length = 0;
    this.queue.length = 0;
    this.counter = 0;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : (v ?? '');
    let body: unknown;
    try {
      body = rawBody === '' ? undefined : JSON.parse(rawBody);
    } catch {
      body = undefined;
    }
    const logged: LoggedRequest = {
      n: ++this.counter,
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams.entries()),
      headers,
      body,
      rawBody,
      receivedAt: Date.now(),
      aborted: false,
    };
    this.requests.push(logged);
    res.on('close', () => {
      if (!res.writableFinished) logged.aborted = true;
    });

    if (req.method === 'GET' && url.pathname.endsWith('/models')) {
      const models = this.options.models ?? ['fake-model'];
      this.json(res, 200, {
        object: 'list',
        data: models.map((id) => ({ id, object: 'model', created: 0, owned_by: 'fake' })),
      });
      return;
    }
    if (req.method === 'POST' && url.pathname === '/tokenize' && this.options.tokenizer !== undefined) {
      await this.tokenize(this.options.tokenizer, body, res);
      return;
    }
    if (req.method !== 'POST' || !url.pathname.endsWith('/chat/completions')) {
      this.json(res, 404, {
        error: {
          message: `No route ${req.method} ${url.pathname}`,
          type: 'invalid_request_error',
          code: null,
        },
      });
      return;
    }
    const b = (body ?? {}) as ChatBody;
    const behaviour = this.queue.shift() ?? this.options.respond?.(logged) ?? { kind: 'ok' };
    if (this.options.latencyMs) await sleep(this.options.latencyMs);
    await this.behave(behaviour, logged, b, req, res);
  }

  private rust: RustTokenizer | undefined;

  /** vLLM's and llama.cpp's `/tokenize`, with the Rust implementation of the tokenizer. */
  private async tokenize(o: FakeTokenizerOptions, body: unknown, res: http.ServerResponse): Promise<void> {
    this.rust ??= RustTokenizer.fromFile(o.file);
    const b = (body ?? {}) as {
      prompt?: unknown;
      content?: unknown;
      messages?: { role: string; content: string }[];
      add_special_tokens?: unknown;
      add_special?: unknown;
    };
    let text: string;
    let addSpecial: boolean;
    if (typeof b.content === 'string') {
      text = b.content;
      addSpecial = b.add_special === true;
    } else if (typeof b.prompt === 'string') {
      text = b.prompt;
      addSpecial = b.add_special_tokens !== false;
    } else if (Array.isArray(b.messages) && o.chatTemplate !== undefined) {
      const chat = { kind: 'template' as const, template: o.chatTemplate };
      text = renderChatTemplate(
        {
          ...chat,
          ...(o.bosToken !== undefined ? { bosToken: o.bosToken } : {}),
          ...(o.eosToken !== undefined ? { eosToken: o.eosToken } : {}),
        },
        b.messages.map((m) => ({ role: m.role as 'user', content: m.content })),
      );
      addSpecial = false;
    } else {
      this.json(res, 400, { object: 'error', message: 'give prompt, content or messages', code: 400 });
      return;
    }
    const ids = (await this.rust.encode(text, null, { addSpecialTokens: addSpecial })).getIds();
    const tokens = [...ids, ...new Array<number>(Math.max(0, o.skew ?? 0)).fill(0)];
    if (typeof b.content === 'string') this.json(res, 200, { tokens });
    else this.json(res, 200, { count: tokens.length, max_model_len: o.maxModelLen ?? 8192, tokens });
  }

  private json(
    res: http.ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  }

  private completionId(n: number): string {
    return `chatcmpl-fake-${n}`;
  }

  private async behave(
    b: Behaviour,
    logged: LoggedRequest,
    body: ChatBody,
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): Promise<void> {
    const model = body.model ?? 'fake-model';
    const stream = body.stream === true;
    switch (b.kind) {
      case 'status':
        this.json(
          res,
          b.status,
          b.body ?? { error: { message: `HTTP ${b.status}`, type: 'server_error', code: null } },
          b.headers,
        );
        return;
      case 'redirect':
        res.writeHead(b.status, { location: b.location, 'content-length': 0 });
        res.end();
        return;
      case 'rate-limit': {
        const h: Record<string, string> = {};
        if (b.retryAfter !== undefined) h['retry-after'] = b.retryAfter;
        if (b.retryAfterMs !== undefined) h['retry-after-ms'] = b.retryAfterMs;
        this.json(
          res,
          429,
          {
            error: {
              message: 'Rate limit reached for requests',
              type: 'requests',
              code: 'rate_limit_exceeded',
            },
          },
          h,
        );
        return;
      }
      case 'server-error':
        this.json(res, b.status ?? 500, {
          error: {
            message: 'The server had an error while processing your request.',
            type: 'server_error',
            code: null,
          },
        });
        return;
      case 'auth': {
        const presented =
          (logged.headers['authorization'] ?? '').replace(/^Bearer\s+/i, '') ||
          logged.headers['api-key'] ||
          '';
        this.json(res, 401, {
          error: {
            message: `Incorrect API key provided: ${presented}. You can find your API key at https://platform.openai.com/account/api-keys.`,
            type: 'invalid_request_error',
            param: null,
            code: 'invalid_api_key',
          },
        });
        return;
      }
      case 'context-length': {
        const limit = b.limit ?? 8192;
        this.json(res, 400, {
          error: {
            message: `This model's maximum context length is ${limit} tokens. However, your messages resulted in ${limit + 1234} tokens. Please reduce the length of the messages.`,
            type: 'invalid_request_error',
            param: 'messages',
            code: 'context_length_exceeded',
          },
        });
        return;
      }
      case 'content-filter':
        // Azure OpenAI's shape when the prompt trips its filter.
        this.json(res, 400, {
          error: {
            message:
              "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
            type: null,
            param: 'prompt',
            code: 'content_filter',
            status: 400,
            innererror: {
              code: 'ResponsibleAIPolicyViolation',
              content_filter_result: {
                hate: { filtered: false, severity: 'safe' },
                jailbreak: { filtered: false, detected: false },
                self_harm: { filtered: false, severity: 'safe' },
                sexual: { filtered: true, severity: 'medium' },
                violence: { filtered: false, severity: 'safe' },
              },
            },
          },
        });
        return;
      case 'drop-before-response':
        req.socket.destroy();
        return;
      case 'stall': {
        if (stream && b.afterChunks !== undefined) {
          this.sseHead(res);
          const chunks = chunkText(defaultAnswer(logged.n, body));
          for (let i = 0; i < Math.min(b.afterChunks, chunks.length); i++) {
            this.sse(res, this.chunk(logged.n, model, { content: chunks[i] }, null));
          }
        }
        // Then nothing, until the client gives up.
        await new Promise<void>((resolve) => res.on('close', () => resolve()));
        return;
      }
      case 'drop': {
        if (!stream) {
          req.socket.destroy();
          return;
        }
        this.sseHead(res);
        const chunks = chunkText(defaultAnswer(logged.n, body));
        for (let i = 0; i < Math.min(b.afterChunks, chunks.length); i++) {
          this.sse(res, this.chunk(logged.n, model, { content: chunks[i] }, null));
          if (b.chunkDelayMs) await sleep(b.chunkDelayMs);
        }
        await sleep(20);
        req.socket.destroy();
        return;
      }
      case 'content-filter-finish': {
        const text = b.text ?? 'The patient has a history of ';
        if (!stream) {
          this.json(res, 200, this.completion(logged.n, model, text, 'content_filter'));
          return;
        }
        this.sseHead(res);
        for (const c of chunkText(text)) this.sse(res, this.chunk(logged.n, model, { content: c }, null));
        this.sse(res, this.chunk(logged.n, model, {}, 'content_filter'));
        res.end('data: [DONE]\n\n');
        return;
      }
      case 'ok': {
        const chunks = b.chunks ?? chunkText(b.text ?? defaultAnswer(logged.n, body));
        const text = chunks.join('');
        const finish = b.finishReason ?? 'stop';
        if (!stream) {
          this.json(res, 200, this.completion(logged.n, model, text, finish, b.usage !== false));
          return;
        }
        this.sseHead(res);
        this.sse(res, this.chunk(logged.n, model, { role: 'assistant', content: '' }, null));
        const delay = b.chunkDelayMs ?? this.options.chunkDelayMs ?? 0;
        for (const c of chunks) {
          if (res.destroyed) return;
          this.sse(res, this.chunk(logged.n, model, { content: c }, null));
          if (delay) await sleep(delay);
        }
        if (res.destroyed) return;
        this.sse(res, this.chunk(logged.n, model, {}, finish));
        const opts = (logged.body as { stream_options?: { include_usage?: boolean } } | undefined)
          ?.stream_options;
        if (b.usage !== false && opts?.include_usage) {
          this.sse(res, {
            id: this.completionId(logged.n),
            object: 'chat.completion.chunk',
            created: 0,
            model,
            choices: [],
            usage: {
              prompt_tokens: 100,
              completion_tokens: chunks.length,
              total_tokens: 100 + chunks.length,
            },
          });
        }
        res.end('data: [DONE]\n\n');
        return;
      }
    }
  }

  private sseHead(res: http.ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
  }

  private sse(res: http.ServerResponse, data: unknown): void {
    res.write(`data: ${JSON.stringify(data)}\n\n`);
  }

  private chunk(n: number, model: string, delta: Record<string, unknown>, finish: string | null): unknown {
    return {
      id: this.completionId(n),
      object: 'chat.completion.chunk',
      created: 0,
      model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    };
  }

  private completion(n: number, model: string, text: string, finish: string, usage = true): unknown {
    return {
      id: this.completionId(n),
      object: 'chat.completion',
      created: 0,
      model,
      choices: [
        { index: 0, message: { role: 'assistant', content: text }, logprobs: null, finish_reason: finish },
      ],
      ...(usage ? { usage: { prompt_tokens: 100, completion_tokens: 7, total_tokens: 107 } } : {}),
    };
  }
}

/**
 * Run as a child process (`fork(thisFile)`), e.g. so a benchmark's server does not share the
 * engine's event loop: sends `{ baseUrl }` when listening; answers `{ type: 'set', latencyMs }`
 * with `{ ok: true }` and `{ type: 'stats' }` with `{ chatRequests }`.
 */
if (require.main === module && process.send !== undefined) {
  void FakeOpenAI.start().then((fake) => {
    process.on('message', (m: { type?: string; latencyMs?: number }) => {
      if (m.type === 'set') {
        fake.options.latencyMs = m.latencyMs ?? 0;
        fake.reset();
        process.send!({ ok: true });
      } else if (m.type === 'stats') {
        process.send!({ chatRequests: fake.chatRequests.length });
      }
    });
    process.on('disconnect', () => void fake.close().then(() => process.exit(0)));
    process.send!({ baseUrl: fake.baseUrl });
  });
}

/** A port on 127.0.0.1 that nothing listens on (bound, then closed): a server that refuses. */
export async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const p = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return p;
}
