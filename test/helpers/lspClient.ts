/**
 * Starts the bundled language server (`dist/server.js --stdio`) as a child process and speaks real
 * LSP JSON-RPC to it over its stdin/stdout.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import {
  createProtocolConnection,
  StreamMessageReader,
  StreamMessageWriter,
  InitializeRequest,
  InitializedNotification,
  PublishDiagnosticsNotification,
  DidOpenTextDocumentNotification,
  DidChangeTextDocumentNotification,
  ShutdownRequest,
  ExitNotification,
  RegistrationRequest,
} from 'vscode-languageserver-protocol/node';
import type {
  ProtocolConnection,
  PublishDiagnosticsParams,
  InitializeResult,
} from 'vscode-languageserver-protocol/node';
import { repoRoot } from './fixtures';

export interface LspSession {
  connection: ProtocolConnection;
  process: ChildProcess;
  initializeResult: InitializeResult;
  stderr: () => string;
  logs: string[];
  registrations: unknown[];
  /** The latest diagnostics published for a URI (waits for a publish that satisfies `until`). */
  diagnostics(
    uri: string,
    until?: (p: PublishDiagnosticsParams) => boolean,
    timeoutMs?: number,
  ): Promise<PublishDiagnosticsParams>;
  open(uri: string, text: string, languageId?: string): Promise<void>;
  change(uri: string, version: number, text: string): Promise<void>;
  close(): Promise<number | null>;
}

export async function startServer(
  rootUri: string,
  env: NodeJS.ProcessEnv = process.env,
  initializationOptions?: unknown,
): Promise<LspSession> {
  const serverPath = path.join(repoRoot, 'dist', 'server.js');
  const child = spawn(process.execPath, [serverPath, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'], env });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const connection = createProtocolConnection(
    new StreamMessageReader(child.stdout),
    new StreamMessageWriter(child.stdin),
  );
  const latest = new Map<string, PublishDiagnosticsParams>();
  const waiters: {
    uri: string;
    until: (p: PublishDiagnosticsParams) => boolean;
    resolve: (p: PublishDiagnosticsParams) => void;
  }[] = [];
  const logs: string[] = [];
  const registrations: unknown[] = [];
  connection.onNotification(PublishDiagnosticsNotification.type, (p) => {
    latest.set(p.uri, p);
    for (const w of [...waiters]) {
      if (w.uri === p.uri && w.until(p)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(p);
      }
    }
  });
  connection.onNotification('window/logMessage', (p: { message: string }) => {
    logs.push(p.message);
  });
  connection.onRequest(RegistrationRequest.method, (p: { registrations: unknown[] }) => {
    registrations.push(...p.registrations);
    return null;
  });
  connection.listen();
  const initializeResult = await connection.sendRequest(InitializeRequest.type, {
    processId: process.pid,
    rootUri,
    workspaceFolders: [{ uri: rootUri, name: 'ws' }],
    ...(initializationOptions !== undefined ? { initializationOptions } : {}),
    capabilities: {
      workspace: { didChangeWatchedFiles: { dynamicRegistration: true } },
      textDocument: { publishDiagnostics: { relatedInformation: true } },
    },
  });
  await connection.sendNotification(InitializedNotification.type, {});

  return {
    connection,
    process: child,
    initializeResult,
    stderr: () => stderr,
    logs,
    registrations,
    diagnostics(uri, until = () => true, timeoutMs = 10_000) {
      const have = latest.get(uri);
      if (have && until(have)) return Promise.resolve(have);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `no matching diagnostics for ${uri} within ${timeoutMs} ms; last: ${JSON.stringify(latest.get(uri))}`,
              ),
            ),
          timeoutMs,
        );
        waiters.push({
          uri,
          until,
          resolve: (p) => {
            clearTimeout(timer);
            resolve(p);
          },
        });
      });
    },
    open: (uri, text, languageId = 'medalign') =>
      connection.sendNotification(DidOpenTextDocumentNotification.type, {
        textDocument: { uri, languageId, version: 1, text },
      }),
    change: (uri, version, text) =>
      connection.sendNotification(DidChangeTextDocumentNotification.type, {
        textDocument: { uri, version },
        contentChanges: [{ text }],
      }),
    async close() {
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      await connection.sendRequest(ShutdownRequest.type);
      await connection.sendNotification(ExitNotification.type);
      const code = await exited;
      connection.dispose();
      return code;
    },
  };
}
