/**
 * `npm start`: serves VS Code (code-server, on 127.0.0.1) with this extension loaded and the
 * samples/ folder open, prints the address to open in a browser, and runs until Ctrl-C.
 * Edits made in the browser are saved to samples/ itself.
 *
 *   npm start                      port from MEDALIGN_PORT, else a free one
 *   npm start -- --check           start, load the page once in headless Chromium, verify that the
 *                                  extension activated, print the address, stop, exit 0 (1 on failure)
 *
 * The editor state (settings, logs) lives in a temporary folder removed on exit.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import {
  REPO_ROOT,
  delay,
  launchChromium,
  makeTempDir,
  openWorkbench,
  startCodeServer,
  workbenchUrl,
} from './codeServer';
import type { CodeServer } from './codeServer';

const EXTENSION_ID = 'medalign-studio.medalign-studio';
const CHECK_TIMEOUT_MS = 90_000;

async function main(): Promise<number> {
  const check = process.argv.includes('--check');
  const samples = path.join(REPO_ROOT, 'samples');
  if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'client.js'))) {
    throw new Error('dist/client.js is missing: run `npm run compile` first');
  }
  const port = process.env.MEDALIGN_PORT ? Number(process.env.MEDALIGN_PORT) : undefined;
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
    throw new Error(`MEDALIGN_PORT must be a port number, got '${process.env.MEDALIGN_PORT}'`);
  }

  const stateDir = makeTempDir('serve');
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let cleaned = false;
  const cleanup = async (): Promise<void> => {
    if (cleaned) return;
    cleaned = true;
    await browser?.close().catch(() => undefined);
    await server?.stop();
    fs.rmSync(stateDir, { recursive: true, force: true });
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      console.log('\nmedalign: stopping code-server');
      void cleanup().finally(() => process.exit(0));
    });
  }

  try {
    server = await startCodeServer({
      workspace: samples,
      stateDir,
      ...(port !== undefined ? { port } : {}),
      onOutput: (line) => {
        if (!check && /\berror\b/i.test(line)) console.error(`code-server: ${line}`);
      },
    });
    const url = workbenchUrl(server.port, samples, { extensionDevelopmentPath: REPO_ROOT });

    if (check) {
      const started = Date.now();
      browser = await launchChromium();
      const page = await openWorkbench(browser, url, {});
      const activation = await waitForActivation(server, Date.now() + CHECK_TIMEOUT_MS);
      const shots = path.join(REPO_ROOT, 'test-artifacts', 'serve');
      fs.mkdirSync(shots, { recursive: true });
      const shot = path.join(shots, 'check.png');
      await page.screenshot({ path: shot });
      console.log(`medalign: ${activation}`);
      console.log(`medalign: page loaded and extension active in ${Date.now() - started} ms`);
      console.log(`medalign: screenshot ${path.relative(REPO_ROOT, shot)}`);
      console.log(`medalign: check passed; \`npm start\` serves VS Code at ${url}`);
      return 0;
    }

    console.log('');
    console.log(`MedAlign Studio is running in VS Code (code-server) on ${server.origin}`);
    console.log(`Open this address in a browser (it loads the extension and opens samples/):`);
    console.log('');
    console.log(`  ${url}`);
    console.log('');
    console.log('Press Ctrl-C to stop.');
    const code = await server.exited;
    if (!cleaned) console.error(`medalign: code-server exited (${code})`);
    return cleaned ? 0 : 1;
  } finally {
    await cleanup();
  }
}

/**
 * Reads the remote extension host's log (in code-server's user-data dir) until it shows that this
 * extension was activated and the eager activations finished, and fails if activation failed.
 */
async function waitForActivation(server: CodeServer, deadline: number): Promise<string> {
  const logsRoot = path.join(server.userDataDir, 'logs');
  const escaped = EXTENSION_ID.replace(/\./g, '\\.');
  const activated = new RegExp(`_doActivateExtension ${escaped}\\b[^\\n]*`);
  const failed = new RegExp(`Activating extension '?${escaped}'? failed[^\\n]*`, 'i');
  for (;;) {
    const log = readExtHostLogs(logsRoot);
    const fail = failed.exec(log);
    if (fail) throw new Error(`the extension failed to activate: ${fail[0]}`);
    const ok = activated.exec(log);
    if (ok && /Eager extensions activated/.test(log))
      return ok[0].replace(/^_doActivateExtension /, 'activated ');
    if (Date.now() > deadline) {
      throw new Error(
        `the extension did not activate in time (extension host log under ${logsRoot}):\n${log}`,
      );
    }
    await delay(250);
  }
}

function readExtHostLogs(logsRoot: string): string {
  let text = '';
  const walk = (dir: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/exthost\.log$/i.test(e.name)) text += fs.readFileSync(p, 'utf8');
    }
  };
  walk(logsRoot);
  return text;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`medalign: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
