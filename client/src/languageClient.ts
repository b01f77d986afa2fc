import * as vscode from 'vscode';
import { LanguageClient, TransportKind } from 'vscode-languageclient/node';
import type { LanguageClientOptions, ServerOptions } from 'vscode-languageclient/node';
import { AllowedRootsNotification, TokenizeRequest } from '../../server/src/protocol';
import type { TokenizeParams } from '../../server/src/protocol';
import type { ServerTokenizeAnswer } from '../../engine/src';
import { ALLOWED_ROOTS_SETTING, allowedRootsSetting } from './allowedRoots';

/** Owns the connection to the bundled language server (dist/server.js). */
export class MedAlignLanguageClient {
  private client: LanguageClient | undefined;
  readonly output: vscode.LogOutputChannel;

  constructor(private readonly context: vscode.ExtensionContext) {
    this.output = vscode.window.createOutputChannel('MedAlign Language Server', { log: true });
    const sendRoots = () => {
      if (this.client?.isRunning()) {
        void this.client.sendNotification(AllowedRootsNotification.type, { roots: allowedRootsSetting() });
      }
    };
    context.subscriptions.push(
      this.output,
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(ALLOWED_ROOTS_SETTING)) sendRoots();
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(sendRoots),
    );
  }

  private started: Promise<void> = Promise.resolve();
  private tokenize: ((p: TokenizeParams) => Promise<ServerTokenizeAnswer>) | undefined;

  /** Answers the server's `medalign/tokenize` (run/tokenize.ts); set before `start`. */
  answerTokenize(handler: (p: TokenizeParams) => Promise<ServerTokenizeAnswer>): void {
    this.tokenize = handler;
  }

  /** Settles when the current start has finished. */
  get ready(): Promise<void> {
    return this.started;
  }

  start(): Promise<void> {
    this.started = this.doStart();
    return this.started;
  }

  private async doStart(): Promise<void> {
    const module = vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'server.js').fsPath;
    const serverOptions: ServerOptions = {
      run: { module, transport: TransportKind.ipc },
      debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6010'] } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [
        { scheme: 'file', language: 'medalign' },
        { scheme: 'file', language: 'medalign-prompt' },
        { scheme: 'file', pattern: '**/*.xml' },
        { scheme: 'file', pattern: '**/*.experiment.json' },
      ],
      synchronize: {
        fileEvents: [
          vscode.workspace.createFileSystemWatcher('**/{*.medalign,*.prompt,*.xml,medalign.config.json}'),
          // A deleted folder is one event for the folder itself: the server clears what was inside.
          vscode.workspace.createFileSystemWatcher('**/*', true, true, false),
        ],
      },
      outputChannel: this.output,
      // The user's extra roots (user settings only; none in Restricted Mode). `watchesFiles`: the
      // watcher above sends the file events, so the server registers no second one.
      // `serverTokenize`: this client answers `medalign/tokenize` (tokenizer: server).
      initializationOptions: {
        allowedRoots: allowedRootsSetting(),
        watchesFiles: true,
        serverTokenize: this.tokenize !== undefined,
      },
      // Hovers may offer to approve an endpoint (tokenizer: server); no other command link runs.
      markdown: { isTrusted: { enabledCommands: ['medalign.approveEndpoint'] } },
    };
    this.client = new LanguageClient('medalign', 'MedAlign Language Server', serverOptions, clientOptions);
    const tokenize = this.tokenize;
    if (tokenize !== undefined) this.client.onRequest(TokenizeRequest.type, (p) => tokenize(p));
    await this.client.start();
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async stop(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (c?.isRunning()) await c.stop();
  }

  get languageClient(): LanguageClient | undefined {
    return this.client;
  }
}
