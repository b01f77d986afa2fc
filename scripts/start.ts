/**
 * `npm start`, the main job: VS Code as a user gets it, in a browser, on a throw-away copy of
 * samples/.
 *
 *  1. copies samples/ (without any `.medalign` runs folder) to a new temporary folder, the tour
 *     workspace: edits, quick fixes and runs made during the tour land there, never in git;
 *  2. runs a sample instruction against the built-in baseline with the CLI, in that copy, so the
 *     Runs view and "Compare with gold" have something to show;
 *  3. installs the packaged extension (dist/medalign-studio.vsix, `npm run package`) into the served
 *     VS Code as `code --install-extension` does, and starts code-server on 127.0.0.1 in user mode
 *     (no test driver: notifications, dialogs and the window title are the real ones);
 *  4. prints the address; the page opens the copy with a sample instruction in the editor and the
 *     README in a tab beside it. Ctrl-C stops it and deletes the copy (`--keep` keeps it).
 *
 *   npm start                   port from MEDALIGN_PORT, else a free one
 *   npm start -- --keep         keep the tour workspace after stopping (its path is printed)
 *   npm start -- --check        start as above, open the page once in headless Chromium and check
 *                               what a user gets: the extension installed from the .vsix and active,
 *                               a normal window title (no "Extension Development Host"), the sample
 *                               and the README open, and a notification toast really shown (a run
 *                               on an endpoint nobody approved: "Endpoint 'gpt-4o' … you have not approved it…", with Approve…); screenshots in
 *                               test-artifacts/serve/; stop, exit 0 (1 on failure)
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import {
  REPO_ROOT,
  copyDir,
  delay,
  launchChromium,
  makeTempDir,
  openWorkbench,
  openWhenConnected,
  startCodeServer,
  userUrl,
} from './codeServer';
import type { CodeServer } from './codeServer';

const EXTENSION_ID = 'medalign-studio.medalign-studio';
const VSIX = path.join(REPO_ROOT, 'dist', 'medalign-studio.vsix');
/** The instruction the tour opens first and runs against the baseline. */
const SAMPLE = 'instructions/1234555-ed-antihypertensives.medalign';
/** An instruction whose model (gpt-4o, a remote endpoint) nobody approved: its run is refused. */
const UNAPPROVED_SAMPLE = 'instructions/1234555-chads-vasc.medalign';
const CHECK_TIMEOUT_MS = 120_000;
const SHOTS = path.join(REPO_ROOT, 'test-artifacts', 'serve');

async function main(): Promise<number> {
  const check = process.argv.includes('--check');
  const keep = process.argv.includes('--keep');
  if (!fs.existsSync(VSIX)) throw new Error(`${VSIX} is missing: run \`npm run package\` first`);
  const port = process.env.MEDALIGN_PORT ? Number(process.env.MEDALIGN_PORT) : undefined;
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
    throw new Error(`MEDALIGN_PORT must be a port number, got '${process.env.MEDALIGN_PORT}'`);
  }

  // The tour workspace: named `samples` so the window title reads like the repository's folder.
  const tourDir = makeTempDir('tour');
  const workspace = path.join(tourDir, 'samples');
  const stateDir = path.join(tourDir, 'vscode-state');
  copyDir(path.join(REPO_ROOT, 'samples'), workspace);
  runBaseline(workspace, check);
  if (check) {
    fs.rmSync(SHOTS, { recursive: true, force: true });
    fs.mkdirSync(SHOTS, { recursive: true });
  }

  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let cleaned = false;
  const cleanup = async (): Promise<void> => {
    if (cleaned) return;
    cleaned = true;
    await browser?.close().catch(() => undefined);
    await server?.stop();
    if (keep) console.log(`medalign: kept the tour workspace ${workspace}`);
    else fs.rmSync(tourDir, { recursive: true, force: true });
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      console.log('\nmedalign: stopping VS Code');
      void cleanup().finally(() => process.exit(0));
    });
  }

  try {
    server = await startCodeServer({
      mode: 'user',
      install: [VSIX],
      workspace,
      stateDir,
      ...(port !== undefined ? { port } : {}),
      // Undo the tests' faster hover: a user gets VS Code's default.
      settings: { 'editor.hover.delay': undefined },
      onOutput: (line) => {
        if (!check && /\berror\b/i.test(line)) console.error(`code-server: ${line}`);
      },
    });
    // The page opens the README; once the window is connected, the sample instruction opens beside
    // it, in front (as `code <file>` in its terminal would).
    const url = userUrl(server.port, workspace, path.join(workspace, 'README.md'));
    const opening = [path.join(workspace, SAMPLE)];
    void openWhenConnected(server, opening, () => cleaned).then((opened) => {
      if (!opened && !cleaned) console.error('medalign: could not open the README in the window');
    });

    if (check) {
      browser = await launchChromium();
      const page = await openWorkbench(browser, url, {});
      try {
        return await checkUserMode(page, server, url, workspace);
      } catch (err) {
        const shot = path.join(SHOTS, 'failure.png');
        await page.screenshot({ path: shot }).catch(() => undefined);
        throw new Error(`${err instanceof Error ? err.message : String(err)}\n(screenshot: ${shot})`);
      }
    }

    console.log('');
    console.log(`MedAlign Studio is running in VS Code (code-server) on ${server.origin}`);
    console.log(
      `The tour workspace is a throw-away copy of samples/ (edit freely; git's samples/ is untouched):`,
    );
    console.log(`  ${workspace}`);
    console.log(
      keep ? '  (kept when you stop)' : '  (deleted when you stop; `npm start -- --keep` keeps it)',
    );
    console.log('');
    console.log('Open this address in a browser:');
    console.log('');
    console.log(`  ${url}`);
    console.log('');
    console.log(
      'Getting started: run "MedAlign: Get Started" (F1), or open the MedAlign icon in the activity bar. Ctrl-C stops.',
    );
    const code = await server.exited;
    if (!cleaned) console.error(`medalign: code-server exited (${code})`);
    return cleaned ? 0 : 1;
  } finally {
    await cleanup();
  }
}

/** `medalign run <sample> --model baseline` in the tour workspace (its runs folder is the copy's). */
function runBaseline(workspace: string, quiet: boolean): void {
  const cli = path.join(REPO_ROOT, 'dist', 'cli.js');
  const r = spawnSync(process.execPath, [cli, 'run', SAMPLE, '--model', 'baseline', '--trust', '--quiet'], {
    cwd: workspace,
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    throw new Error(`the baseline run failed (${r.status}):\n${r.stdout}${r.stderr}`);
  }
  if (!quiet)
    console.log(
      `medalign: ran ${SAMPLE} against the baseline (saved in the tour workspace's .medalign/runs/)`,
    );
}

/** The `--check`: what a user sees, checked in headless Chromium. */
async function checkUserMode(
  page: Page,
  server: CodeServer,
  url: string,
  workspace: string,
): Promise<number> {
  const started = Date.now();
  const deadline = started + CHECK_TIMEOUT_MS;
  const installed = installedExtension(server.extensionsDir);
  const activation = await waitForActivation(server, deadline);
  const sample = path.basename(SAMPLE);
  const title = await waitForValue('a window title naming the sample', deadline, async () => {
    const t = await page.title();
    return t.includes(sample) ? t : undefined;
  });
  if (/Extension Development Host/i.test(title)) {
    throw new Error(`the window is titled like a test window: '${title}'`);
  }
  await page.waitForSelector('.monaco-workbench .editor-instance', { state: 'visible' });
  // The README is open too, in a tab beside the instruction.
  await page.locator('.tabs-container .tab', { hasText: 'README.md' }).first().waitFor({ state: 'visible' });
  const tabs = (await page.locator('.tabs-container .tab').allInnerTexts()).map((t) =>
    t.replace(/\s+/g, ' ').trim(),
  );
  await page.screenshot({ path: path.join(SHOTS, 'start.png') });

  // A toast a user must see: run an instruction whose endpoint (gpt-4o) nobody approved.
  await runCommand(page, 'workbench.action.quickOpen', path.basename(UNAPPROVED_SAMPLE));
  await waitForValue('the unapproved sample in the title', deadline, async () =>
    (await page.title()).includes(path.basename(UNAPPROVED_SAMPLE)),
  );
  // From the keyboard, as a user does: Ctrl+Alt+R in the instruction (package.json keybindings).
  await page.locator('.monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+Alt+r');
  const toast = page
    .locator('.notifications-toasts .notification-toast', {
      hasText: "'gpt-4o' (api.openai.com) is not on this machine and you have not approved it",
    })
    .first();
  await toast.waitFor({ state: 'visible', timeout: Math.max(1000, deadline - Date.now()) });
  const toastText = (await toast.innerText()).replace(/\s+/g, ' ').trim();
  const shot = path.join(SHOTS, 'notification.png');
  await page.screenshot({ path: shot });

  const fromGit = spawnSync('git', ['status', '--porcelain', '--', 'samples'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  if (fromGit.status === 0 && fromGit.stdout.trim()) {
    throw new Error(`samples/ in git changed during the check:\n${fromGit.stdout}`);
  }
  console.log(`medalign: ${installed}`);
  console.log(`medalign: ${activation}`);
  console.log(`medalign: window title '${title}'; tabs: ${tabs.join(' | ')}`);
  console.log(`medalign: notification shown: '${toastText}'`);
  console.log(`medalign: tour workspace ${workspace}`);
  console.log(`medalign: screenshots ${path.relative(REPO_ROOT, SHOTS)}/start.png, notification.png`);
  console.log(`medalign: check passed in ${Date.now() - started} ms; \`npm start\` serves VS Code at ${url}`);
  return 0;
}

/** Runs a workbench command from the keyboard (F1) and answers its quick input with `text`. */
async function runCommand(
  page: Page,
  command: 'workbench.action.quickOpen' | 'workbench.action.showCommands',
  text: string,
): Promise<void> {
  await page
    .locator('.monaco-workbench')
    .first()
    .click({ position: { x: 700, y: 400 } });
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  // F1 opens the command palette ('>'); Quick Open is the same box without the '>'.
  await input.fill(command === 'workbench.action.quickOpen' ? text : `>${text}`);
  await page.locator('.quick-input-list .monaco-list-row.focused', { hasText: text }).first().waitFor();
  await page.keyboard.press('Enter');
}

/** The extension folder `--install-extension` created (not a development path). */
function installedExtension(extensionsDir: string): string {
  const dir = fs.readdirSync(extensionsDir).find((d) => d.toLowerCase().startsWith(`${EXTENSION_ID}-`));
  if (!dir || !fs.existsSync(path.join(extensionsDir, dir, 'dist', 'client.js'))) {
    throw new Error(`${EXTENSION_ID} is not installed in ${extensionsDir}`);
  }
  return `installed from ${path.relative(REPO_ROOT, VSIX)} into ${path.join(extensionsDir, dir)}`;
}

async function waitForValue<T>(
  what: string,
  deadline: number,
  probe: () => Promise<T | undefined | false>,
): Promise<T> {
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(200);
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
