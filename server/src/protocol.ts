/* eslint-disable @typescript-eslint/no-namespace -- the LSP convention: `namespace X { method; type }` per message */
/**
 * Every custom request and notification between the extension and the language server, in one
 * place (both sides import this file).
 */
import { RequestType } from 'vscode-languageserver-protocol';

export interface PreviewPromptParams {
  uri: string;
  model?: string;
  context?: string | number;
  strategy?: 'recent' | 'bm25' | 'none';
}

export interface PreviewPromptResult {
  ok: boolean;
  error?: string;
  /** The read-only preview document's text. */
  text: string;
  /** The exact chat messages that would be sent. */
  messages: { role: string; content: string }[];
  model: string;
  context: number;
  strategy: string;
  promptTokens?: number;
  /** Files the preview depends on (instruction, template, record), so the view can refresh. */
  dependsOn: string[];
}

export namespace PreviewPromptRequest {
  export const method = 'medalign/previewPrompt';
  export const type = new RequestType<PreviewPromptParams, PreviewPromptResult, void>(method);
}

export interface ServerStatsParams {
  /** Start a new measurement window after answering. */
  reset?: boolean;
}

export interface ServerStatsResult {
  /** Event-loop delay of the server's main thread since the last reset (ms). */
  eventLoopDelayMaxMs: number;
  eventLoopDelayP99Ms: number;
  rssMB: number;
  /** Record-worker jobs queued or running (0 when idle; cancelled requests leave none behind). */
  recordJobs?: number;
}

/** Health figures of the server process (used by `npm run bench` and for diagnosing slowness). */
export namespace ServerStatsRequest {
  export const method = 'medalign/serverStats';
  export const type = new RequestType<ServerStatsParams, ServerStatsResult, void>(method);
}
