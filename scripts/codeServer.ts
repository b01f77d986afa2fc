/**
 * VS Code in a browser, shared by `npm start` (scripts/start.ts) and the real-VS-Code test runner
 * (test/e2e/runInCodeServer.ts): start code-server (VS Code 1.139.1) on 127.0.0.1, launch Debian's
 * Chromium through playwright-core, and build the workbench URL.
 *
 * Two modes, because VS Code's test mode is not what a user gets:
 *  - `test`: `--vscode-option enable-smoke-test-driver`, and the URL's `payload` loads the extension
 *    under development (and a tests module). In this mode VS Code suppresses notification toasts and
 *    dialogs and titles the window "[Extension Development Host]": for automated tests only.
 *  - `user`: the packaged extension (.vsix) is installed into the served VS Code as
 *    `code --install-extension` does, no test driver, a normal window.
 *
 * What this relies on was checked on these machines: /work/shared/notes/real-vscode-tests.md.
 * `scripts/install-vscode.sh` installs code-server (with its own Node 24) and Chromium.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';

/** The repository root (this file compiles to out/scripts/codeServer.js). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const CODE_SERVER_VERSION = '4.139.1';
export const CHROMIUM = process.env.MEDALIGN_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Webviews (the response panel, walkthrough media) are nested iframes of another origin; with site
  // isolation they render out of process and headless screenshots show them blank. This browser only
  // ever loads the loopback workbench, so keep them in process.
  '--disable-site-isolation-trials',
  '--disable-features=IsolateOrigins,site-per-process',
];

/** Where install.sh put code-server and Node 24 (same default and override as the script). */
export function e2eHome(): string {
  return process.env.MEDALIGN_E2E_HOME ?? path.join(os.homedir(), '.cache', 'medalign-studio', 'e2e');
}

export function codeServerInstall(): { bin: string; nodeBinDir: string } {
  const home = e2eHome();
  const bin = path.join(home, `code-server-${CODE_SERVER_VERSION}`, 'node_modules', '.bin', 'code-server');
  const nodeBinDir = path.join(home, 'node24', 'node_modules', '.bin');
  for (const p of [bin, path.join(nodeBinDir, 'node')]) {
    if (!fs.existsSync(p)) throw new Error(`${p} is missing: run \`bash scripts/install-vscode.sh\` first`);
  }
  return { bin, nodeBinDir };
}

/** A port that was free on 127.0.0.1 a moment ago (code-server retries on a clash, see below). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('no port'))));
    });
  });
}

export function makeTempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `medalign-${prefix}-`));
}

/**
 * Recursive copy of a workspace (the throw-away copy of samples/ that the tests and `npm start` may
 * edit), without any `.medalign` folder: runs saved in the source (they hold patient data) are not
 * part of the workspace and would change what the copy shows.
 */
export function copyDir(from: string, to: string): void {
  fs.cpSync(from, to, { recursive: true, filter: (src) => path.basename(src) !== '.medalign' });
}

/** `vscode-remote://remote/<abs path>`: the authority is the literal word `remote`. */
export function remoteUri(absPath: string): string {
  const p = path.resolve(absPath).split(path.sep).map(encodeURIComponent).join('/');
  return `vscode-remote://remote${p.startsWith('/') ? '' : '/'}${p}`;
}

export interface Payload {
  /** The extension to load (a folder with package.json). */
  extensionDevelopmentPath: string;
  /** A module exporting `run(): Promise<void>`; when given, the window runs it and then exits. */
  extensionTestsPath?: string;
}

/** The test-mode URL: its `payload` is honoured only with the smoke-test driver (mode `test`). */
export function workbenchUrl(port: number, folder: string, payload: Payload): string {
  const entries: [string, string][] = [
    ['extensionDevelopmentPath', remoteUri(payload.extensionDevelopmentPath)],
  ];
  if (payload.extensionTestsPath) entries.push(['extensionTestsPath', remoteUri(payload.extensionTestsPath)]);
  entries.push(['skipWelcome', 'true']);
  const folderParam = encodeURIComponent(path.resolve(folder)).replace(/%2F/g, '/');
  return `http://127.0.0.1:${port}/?folder=${folderParam}&payload=${encodeURIComponent(JSON.stringify(entries))}`;
}

/**
 * The user-mode URL: opens `folder`, and `openFile` in the editor (the one `payload` entry VS Code
 * honours without the test driver, as `code folder file` would).
 */
export function userUrl(port: number, folder: string, openFile?: string): string {
  const folderParam = encodeURIComponent(path.resolve(folder)).replace(/%2F/g, '/');
  const url = `http://127.0.0.1:${port}/?folder=${folderParam}`;
  if (!openFile) return url;
  const payload = [['openFile', remoteUri(openFile)]];
  return `${url}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

/** User settings that keep the workbench quiet and offline-friendly (both modes). */
const USER_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'security.workspace.trust.enabled': false,
  'chat.disableAIFeatures': true,
  'git.enabled': false,
  'editor.hover.delay': 100,
};

export type CodeServerMode = 'test' | 'user';

export interface CodeServerOptions {
  /** The folder VS Code opens. */
  workspace: string;
  /** `test` (default): the smoke-test driver, for the test runner. `user`: what a person uses. */
  mode?: CodeServerMode;
  /** Packaged extensions (.vsix) installed into the served VS Code before it starts. */
  install?: string[];
  /** User settings added to (or overriding) the quiet defaults. */
  settings?: Record<string, unknown>;
  /** Fixed port; otherwise a free one is picked (and re-picked if it was taken meanwhile). */
  port?: number;
  /** Scratch directory for user data, extensions, config and logs (created if needed). */
  stateDir: string;
  /** Extra environment for code-server; its extension host (and our test suite) inherits it. */
  env?: Record<string, string>;
  /** Called with each line code-server prints (stdout and stderr). */
  onOutput?: (line: string) => void;
  readyTimeoutMs?: number;
}

export interface CodeServer {
  port: number;
  /** `http://127.0.0.1:PORT/` */
  origin: string;
  workspace: string;
  stateDir: string;
  userDataDir: string;
  extensionsDir: string;
  mode: CodeServerMode;
  pid: number;
  /** Stops code-server and every process it started (its process group). Idempotent. */
  stop(): Promise<void>;
  /** Settles when the process exits. */
  exited: Promise<number | null>;
}

/** Starts code-server and resolves once it answers HTTP on its port. */
export async function startCodeServer(opts: CodeServerOptions): Promise<CodeServer> {
  for (const vsix of opts.install ?? []) await installExtension(opts, vsix);
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = opts.port ?? (await freePort());
    try {
      return await startOnce(opts, port);
    } catch (err) {
      lastError = err;
      // Only a port taken between freePort() and code-server's bind is worth a retry.
      if (opts.port !== undefined || !/EADDRINUSE/.test(String(err))) throw err;
    }
  }
  throw lastError;
}

/** The folders under the state dir and the environment every code-server process gets. */
function serverLayout(opts: CodeServerOptions): {
  userDataDir: string;
  extensionsDir: string;
  env: NodeJS.ProcessEnv;
} {
  const { nodeBinDir } = codeServerInstall();
  const stateDir = opts.stateDir;
  const userDataDir = path.join(stateDir, 'user-data');
  const extensionsDir = path.join(stateDir, 'extensions');
  const xdgConfig = path.join(stateDir, 'xdg-config');
  const xdgData = path.join(stateDir, 'xdg-data');
  for (const d of [userDataDir, extensionsDir, xdgConfig, xdgData]) fs.mkdirSync(d, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...opts.env,
    // code-server needs Node 24; the machine's Node stays for everything else.
    PATH: `${nodeBinDir}${path.delimiter}${process.env.PATH ?? ''}`,
    // Keep code-server's own config/logs/heartbeat out of the user's home.
    XDG_CONFIG_HOME: xdgConfig,
    XDG_DATA_HOME: xdgData,
  };
  delete env.NODE_OPTIONS;
  delete env.VSCODE_IPC_HOOK_CLI;
  // Started from `npm start`/`npm test`, the outer npm's settings (npm_config_*, npm_lifecycle_*)
  // are not code-server's: drop them (see install-vscode.sh).
  for (const k of Object.keys(env)) if (k.startsWith('npm_')) delete env[k];
  return { userDataDir, extensionsDir, env };
}

/**
 * `code-server --install-extension <vsix> --extensions-dir DIR`: what `code --install-extension`
 * does for a desktop user, into this server's extensions folder.
 */
export async function installExtension(opts: CodeServerOptions, vsix: string): Promise<string> {
  const { bin } = codeServerInstall();
  const { userDataDir, extensionsDir, env } = serverLayout(opts);
  if (!fs.existsSync(vsix)) throw new Error(`${vsix} is missing: run \`npm run package\` first`);
  const args = [
    '--user-data-dir',
    userDataDir,
    '--extensions-dir',
    extensionsDir,
    '--install-extension',
    path.resolve(vsix),
    '--force',
  ];
  const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  pipeLines(child, (line) => lines.push(line));
  const code = await new Promise<number | null>((resolve) => {
    child.once('exit', resolve);
    child.once('error', (err) => {
      lines.push(`spawn error: ${err.message}`);
      resolve(-1);
    });
  });
  const output = lines.join('\n');
  if (code !== 0 || !/successfully installed/i.test(output)) {
    throw new Error(`code-server --install-extension ${vsix} failed (${code}):\n${output}`);
  }
  return output;
}

async function startOnce(opts: CodeServerOptions, port: number): Promise<CodeServer> {
  const { bin } = codeServerInstall();
  const stateDir = opts.stateDir;
  const mode = opts.mode ?? 'test';
  const { userDataDir, extensionsDir, env } = serverLayout(opts);
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.writeFileSync(
    path.join(userDataDir, 'User', 'settings.json'),
    JSON.stringify({ ...USER_SETTINGS, ...opts.settings }, null, 2),
  );
  const configFile = path.join(stateDir, 'config.yaml');
  fs.writeFileSync(configFile, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);

  const args = [
    '--config',
    configFile,
    '--auth',
    'none',
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--user-data-dir',
    userDataDir,
    '--extensions-dir',
    extensionsDir,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    ...(mode === 'test' ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
    path.resolve(opts.workspace),
  ];
  // detached: own process group, so stop() can end the extension host and language server too.
  const child = spawn(bin, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const onLine = (line: string): void => {
    output.push(line);
    if (output.length > 200) output.shift();
    opts.onOutput?.(line);
  };
  pipeLines(child, onLine);

  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', (err) => {
      onLine(`spawn error: ${err.message}`);
      resolve(-1);
    });
  });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopping ??= killGroup(child, exited));
  const server: CodeServer = {
    port,
    origin: `http://127.0.0.1:${port}/`,
    workspace: path.resolve(opts.workspace),
    stateDir,
    userDataDir,
    extensionsDir,
    mode,
    pid: child.pid ?? -1,
    stop,
    exited,
  };

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  let exitCode: number | null | undefined;
  void exited.then((c) => (exitCode = c));
  for (;;) {
    if (exitCode !== undefined) {
      throw new Error(`code-server exited (${exitCode}) before it was ready:\n${output.join('\n')}`);
    }
    if (await answers(`${server.origin}healthz`)) return server;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`code-server did not answer on port ${port} in time:\n${output.join('\n')}`);
    }
    await delay(150);
  }
}

/**
 * Opens `files` in the browser window that shows this server's workspace, once a window is connected,
 * as `code <file>` in its integrated terminal would: code-server's session socket names the window's
 * CLI socket, which takes VS Code's `open` request. Polls until a window connects or `stopped()`.
 */
export async function openWhenConnected(
  server: CodeServer,
  files: string[],
  stopped: () => boolean,
): Promise<boolean> {
  const sessionSocket = path.join(server.userDataDir, 'code-server-ipc.sock');
  const probe = path.join(server.workspace, path.basename(files[0] ?? ''));
  while (!stopped()) {
    const socketPath = await unixJson(sessionSocket, 'GET', `/session?filePath=${encodeURIComponent(probe)}`)
      .then((r) => (r as { socketPath?: string } | undefined)?.socketPath)
      .catch(() => undefined);
    if (socketPath) {
      const open = {
        type: 'open',
        fileURIs: files,
        folderURIs: [],
        forceReuseWindow: true,
        gotoLineMode: true,
      };
      return unixJson(socketPath, 'POST', '/', open).then(
        () => true,
        () => false,
      );
    }
    await delay(500);
  }
  return false;
}

/** One HTTP request over a unix socket; resolves with the parsed JSON answer (or undefined). */
function unixJson(socketPath: string, method: string, urlPath: string, body?: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path: urlPath, method, timeout: 5000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        if ((res.statusCode ?? 500) >= 400) return reject(new Error(`${res.statusCode}: ${text}`));
        try {
          resolve(text ? JSON.parse(text) : undefined);
        } catch {
          resolve(undefined);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    if (body !== undefined) {
      req.setHeader('Content-Type', 'application/json');
      req.write(JSON.stringify(body));
    }
    req.end();
  });
}

function pipeLines(child: ChildProcess, onLine: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    let buf = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        onLine(buf.slice(0, nl).replace(/\r$/, ''));
        buf = buf.slice(nl + 1);
      }
    });
    stream?.on('end', () => buf && onLine(buf));
  }
}

function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

/** SIGTERM to the whole process group, SIGKILL after a grace period; waits until the group is gone. */
async function killGroup(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  const pgid = child.pid;
  if (pgid === undefined) return;
  const signal = (sig: NodeJS.Signals): boolean => {
    try {
      process.kill(-pgid, sig);
      return true;
    } catch {
      return false; // ESRCH: the group is already gone
    }
  };
  if (!signal('SIGTERM')) return;
  const groupAlive = (): boolean => {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const deadline = Date.now() + 5000;
  while (groupAlive() && Date.now() < deadline) await delay(100);
  if (groupAlive()) {
    signal('SIGKILL');
    const hard = Date.now() + 3000;
    while (groupAlive() && Date.now() < hard) await delay(100);
  }
  await Promise.race([exited, delay(1000)]);
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: run \`bash scripts/install-vscode.sh\` first`);
  // Chromium writes crash-report folders under XDG_CONFIG_HOME; keep them out of the home folder.
  const configDir = makeTempDir('chromium-config');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    env: { ...process.env, XDG_CONFIG_HOME: configDir },
  });
  browser.on('disconnected', () => fs.rmSync(configDir, { recursive: true, force: true }));
  return browser;
}

export interface WorkbenchHooks {
  /** The extension host's exit code when a tests module finished (0 passed, otherwise failed). */
  onExit?: (code: number) => void;
  /** Every workbench log entry (the smoke-test driver's `codeAutomationLog`). */
  onLog?: (type: string, args: unknown[]) => void;
}

/** Opens the workbench in a new page; the automation hooks are exposed before navigation. */
export async function openWorkbench(browser: Browser, url: string, hooks: WorkbenchHooks): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.exposeFunction('codeAutomationExit', (code: unknown) => hooks.onExit?.(Number(code)));
  await page.exposeFunction('codeAutomationLog', (type: unknown, args: unknown) =>
    hooks.onLog?.(String(type), Array.isArray(args) ? (args as unknown[]) : [args]),
  );
  // Playwright's default of 30 s is too short for a first load on a busy machine (2 cores, other jobs).
  await page.goto(url, { timeout: Number(process.env.MEDALIGN_WORKBENCH_LOAD_MS ?? 180_000) });
  return page;
}

/** Formats one workbench log entry as a single line. */
export function formatLog(type: string, args: unknown[]): string {
  const text = args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
  return `[${type}] ${text}`;
}
