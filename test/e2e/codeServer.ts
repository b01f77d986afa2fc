/**
 * Shared by the real-VS-Code runners (runInCodeServer, serveSamples): start code-server (VS Code
 * 1.139.1 in a browser) on 127.0.0.1, launch Debian's Chromium through playwright-core, and build the
 * workbench URL whose `payload` loads the extension under development (and optionally a tests module).
 *
 * What this relies on was checked on these machines: /work/shared/notes/real-vscode-tests.md.
 * `test/e2e/install.sh` installs code-server (with its own Node 24) and Chromium.
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

/** The repository root (this file compiles to out/test/e2e/codeServer.js). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
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
    if (!fs.existsSync(p)) throw new Error(`${p} is missing: run \`bash test/e2e/install.sh\` first`);
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

/** Recursive copy (used for the throw-away workspace the tests may edit). */
export function copyDir(from: string, to: string): void {
  fs.cpSync(from, to, { recursive: true });
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

export function workbenchUrl(port: number, folder: string, payload: Payload): string {
  const entries: [string, string][] = [
    ['extensionDevelopmentPath', remoteUri(payload.extensionDevelopmentPath)],
  ];
  if (payload.extensionTestsPath) entries.push(['extensionTestsPath', remoteUri(payload.extensionTestsPath)]);
  entries.push(['skipWelcome', 'true']);
  const folderParam = encodeURIComponent(path.resolve(folder)).replace(/%2F/g, '/');
  return `http://127.0.0.1:${port}/?folder=${folderParam}&payload=${encodeURIComponent(JSON.stringify(entries))}`;
}

/** User settings that keep the workbench quiet and offline-friendly. */
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

export interface CodeServerOptions {
  /** The folder VS Code opens. */
  workspace: string;
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
  pid: number;
  /** Stops code-server and every process it started (its process group). Idempotent. */
  stop(): Promise<void>;
  /** Settles when the process exits. */
  exited: Promise<number | null>;
}

/** Starts code-server and resolves once it answers HTTP on its port. */
export async function startCodeServer(opts: CodeServerOptions): Promise<CodeServer> {
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

async function startOnce(opts: CodeServerOptions, port: number): Promise<CodeServer> {
  const { bin, nodeBinDir } = codeServerInstall();
  const stateDir = opts.stateDir;
  const userDataDir = path.join(stateDir, 'user-data');
  const extensionsDir = path.join(stateDir, 'extensions');
  const xdgConfig = path.join(stateDir, 'xdg-config');
  const xdgData = path.join(stateDir, 'xdg-data');
  for (const d of [userDataDir, extensionsDir, xdgConfig, xdgData]) fs.mkdirSync(d, { recursive: true });
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.writeFileSync(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify(USER_SETTINGS, null, 2));
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
    '--vscode-option',
    'enable-smoke-test-driver',
    path.resolve(opts.workspace),
  ];
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
    throw new Error(`${CHROMIUM} is missing: run \`bash test/e2e/install.sh\` first`);
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
  await page.goto(url);
  return page;
}

/** Formats one workbench log entry as a single line. */
export function formatLog(type: string, args: unknown[]): string {
  const text = args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
  return `[${type}] ${text}`;
}
