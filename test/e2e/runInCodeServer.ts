/**
 * `npm run test:e2e`: runs the suite in test/e2e/suite inside a real VS Code (1.139.1, served by
 * code-server) driven by headless Chromium. The extension under development is this repository;
 * the workspace is a fresh copy of samples/ (tests may edit it).
 *
 * Channels between the suite (in the extension host) and this runner, all in
 * test-artifacts/e2e/ (passed to the suite as MEDALIGN_E2E_ARTIFACTS, inherited from code-server):
 *   output.log       the suite's mocha output, streamed here to stdout
 *   result.json      the suite's counts, for the summary line
 *   <name>.request   a screenshot request (keys to press and a mouse drag to do first, selectors to
 *                    wait for); this runner answers with <name>.png and <name>.done
 * Also written there: workbench.log (the browser-side log) and code-server.log.
 *
 * Environment: MEDALIGN_E2E_TIMEOUT_MS (overall, default 15 min; each test has its own mocha timeout), MEDALIGN_E2E_GREP (mocha grep), MEDALIGN_WORKBENCH_LOAD_MS (first page load, default 180 s),
 * MEDALIGN_E2E_SAMPLES (the folder copied as the workspace, default samples/),
 * MEDALIGN_E2E_KEEP=1 keeps the temp workspace and state for inspection.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, Frame, Page } from 'playwright-core';
import {
  REPO_ROOT,
  copyDir,
  formatLog,
  launchChromium,
  makeTempDir,
  openWorkbench,
  startCodeServer,
  workbenchUrl,
} from '../../scripts/codeServer';
import type { CodeServer } from '../../scripts/codeServer';
import type { ScreenshotDone, ScreenshotRequest, SuiteResult } from './suite/protocol';
import { ARTIFACTS_ENV, GREP_ENV, SCREENSHOTS_ENV } from './suite/protocol';

const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts', 'e2e');
const TIMEOUT_MS = Number(process.env.MEDALIGN_E2E_TIMEOUT_MS ?? 15 * 60_000);

let cleanup: (() => Promise<void>) | undefined;

async function main(): Promise<{ code: number; summary: string }> {
  const started = Date.now();
  const samples = path.resolve(process.env.MEDALIGN_E2E_SAMPLES ?? path.join(REPO_ROOT, 'samples'));
  const testsModule = path.join(REPO_ROOT, 'out', 'test', 'e2e', 'suite', 'index.js');
  for (const [p, hint] of [
    [samples, 'the samples workspace'],
    [testsModule, 'run `npx tsc -b` first'],
    [path.join(REPO_ROOT, 'dist', 'client.js'), 'run `node esbuild.mjs` first'],
  ]) {
    if (!fs.existsSync(p)) throw new Error(`${p} is missing (${hint})`);
  }

  fs.rmSync(ARTIFACTS, { recursive: true, force: true });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const tmp = makeTempDir('e2e');
  const workspace = path.join(tmp, 'workspace');
  copyDir(samples, workspace);

  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let pump: Pump | undefined;
  cleanup = async () => {
    cleanup = undefined;
    pump?.stop();
    await browser?.close().catch(() => undefined);
    await server?.stop();
    if (process.env.MEDALIGN_E2E_KEEP === '1') console.log(`e2e: kept ${tmp}`);
    else fs.rmSync(tmp, { recursive: true, force: true });
  };

  const codeServerLog = fs.createWriteStream(path.join(ARTIFACTS, 'code-server.log'));
  const workbenchLog = fs.createWriteStream(path.join(ARTIFACTS, 'workbench.log'));
  try {
    const env: Record<string, string> = { [ARTIFACTS_ENV]: ARTIFACTS, [SCREENSHOTS_ENV]: '1' };
    if (process.env[GREP_ENV]) env[GREP_ENV] = process.env[GREP_ENV];
    server = await startCodeServer({
      workspace,
      stateDir: path.join(tmp, 'state'),
      env,
      onOutput: (line) => codeServerLog.write(line + '\n'),
    });
    console.log(
      `e2e: code-server ${server.origin} ready after ${Date.now() - started} ms (workspace ${workspace})`,
    );
    browser = await launchChromium();

    let settle!: (outcome: string | number) => void;
    const outcome = new Promise<string | number>((resolve) => (settle = resolve));
    const page = await openWorkbench(
      browser,
      workbenchUrl(server.port, workspace, {
        extensionDevelopmentPath: REPO_ROOT,
        extensionTestsPath: testsModule,
      }),
      {
        onExit: (code) => settle(code),
        onLog: (type, args) => workbenchLog.write(formatLog(type, args) + '\n'),
      },
    );
    page.on('crash', () => settle('the page crashed'));
    pump = new Pump(page);
    pump.start();
    const timer = setTimeout(
      () => settle(`timed out after ${TIMEOUT_MS} ms`),
      TIMEOUT_MS - (Date.now() - started),
    );
    void server.exited.then((c) => settle(`code-server exited (${c}) during the run`));
    const result = await outcome;
    clearTimeout(timer);
    await pump.drain();

    const suite = readResult();
    const code = typeof result === 'number' ? result : 1;
    if (typeof result === 'string') console.error(`e2e: ${result}`);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (!suite) {
      console.error(
        `e2e: the suite reported no result (see ${path.relative(REPO_ROOT, ARTIFACTS)}/workbench.log)`,
      );
      return { code: code || 1, summary: `e2e: 0 passed, 0 failed (no result from the suite, ${seconds} s)` };
    }
    const failed = suite.failed;
    return {
      code: failed > 0 && code === 0 ? 1 : code,
      summary:
        `e2e: ${suite.passed} passed, ${failed} failed` + (suite.pending ? `, ${suite.pending} pending` : ''),
    };
  } finally {
    await cleanup?.();
    codeServerLog.end();
    workbenchLog.end();
  }
}

function readResult(): SuiteResult | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(ARTIFACTS, 'result.json'), 'utf8')) as SuiteResult;
  } catch {
    return undefined;
  }
}

/** Polls the artifacts folder: streams output.log to stdout and answers screenshot requests. */
class Pump {
  private timer: NodeJS.Timeout | undefined;
  private offset = 0;
  private busy = new Set<string>();
  private inFlight: Promise<void>[] = [];

  constructor(private readonly page: Page) {}

  start(): void {
    this.timer = setInterval(() => this.tick(), 100);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One last read of the output after the suite finished. */
  async drain(): Promise<void> {
    this.stop();
    await Promise.allSettled(this.inFlight);
    this.readOutput();
  }

  private tick(): void {
    this.readOutput();
    let names: string[];
    try {
      names = fs.readdirSync(ARTIFACTS).filter((f) => f.endsWith('.request'));
    } catch {
      return;
    }
    for (const file of names) {
      const name = file.slice(0, -'.request'.length);
      if (this.busy.has(name)) continue;
      this.busy.add(name);
      const job = this.screenshot(name).finally(() => this.busy.delete(name));
      this.inFlight.push(job);
    }
  }

  private readOutput(): void {
    const file = path.join(ARTIFACTS, 'output.log');
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch {
      return;
    }
    try {
      const size = fs.fstatSync(fd).size;
      if (size <= this.offset) return;
      const buf = Buffer.alloc(size - this.offset);
      fs.readSync(fd, buf, 0, buf.length, this.offset);
      this.offset = size;
      process.stdout.write(buf);
    } finally {
      fs.closeSync(fd);
    }
  }

  /**
   * A real mouse drag in a webview: Chromium's own pointer events (and HTML drag and drop) from the
   * centre of `from` to the centre of `to`, both found in the first frame that shows `from`.
   */
  private async drag(from: string, to: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // page.frames() includes the webviews' inner frames (nested iframes).
      for (const frame of this.page.frames()) {
        const source = frame.locator(from).first();
        const target = frame.locator(to).first();
        try {
          if (!(await source.isVisible()) || !(await target.isVisible())) continue;
          // A webview kept while hidden (retainContextWhenHidden) is visible inside its own frame.
          if (!(await this.frameShown(frame))) continue;
        } catch {
          continue; // a frame that went away meanwhile
        }
        await source.scrollIntoViewIfNeeded();
        const a = await source.boundingBox();
        const b = await target.boundingBox();
        if (!a || !b) continue;
        const mouse = this.page.mouse;
        await mouse.move(a.x + a.width / 2, a.y + a.height / 2);
        await mouse.down();
        await mouse.move(a.x + a.width / 2 + 5, a.y + a.height / 2 + 5, { steps: 2 });
        await mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 10 });
        await mouse.up();
        return;
      }
      if (Date.now() > deadline) throw new Error(`drag: no frame shows both ${from} and ${to}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Whether every iframe element that holds `frame`, up to the page, is visible. */
  private async frameShown(frame: Frame): Promise<boolean> {
    for (let f: Frame | null = frame; f?.parentFrame(); f = f.parentFrame()) {
      const element = await f.frameElement();
      try {
        if (!(await element.isVisible())) return false;
      } finally {
        await element.dispose();
      }
    }
    return true;
  }

  private async screenshot(name: string): Promise<void> {
    const requestFile = path.join(ARTIFACTS, `${name}.request`);
    let request: ScreenshotRequest = {};
    try {
      request = JSON.parse(fs.readFileSync(requestFile, 'utf8') || '{}') as ScreenshotRequest;
    } catch {
      // an empty or partial request means "just take it"
    }
    fs.rmSync(requestFile, { force: true });
    const done: ScreenshotDone = { ok: false };
    try {
      if (!/^[\w.-]+$/.test(name)) throw new Error(`bad screenshot name '${name}'`);
      for (const key of request.press ?? []) await this.page.keyboard.press(key);
      if (request.drag) await this.drag(request.drag.from, request.drag.to, request.timeoutMs ?? 10_000);
      for (const selector of request.waitFor ?? []) {
        // Any visible match: a webview kept while hidden (retainContextWhenHidden) stays in the page, hidden.
        await this.page
          .locator(selector)
          .filter({ visible: true })
          .first()
          .waitFor({ state: 'visible', timeout: request.timeoutMs ?? 10_000 });
      }
      const file = path.join(ARTIFACTS, `${name}.png`);
      await this.page.screenshot({ path: file });
      Object.assign(done, { ok: true, path: file, bytes: fs.statSync(file).size });
    } catch (err) {
      done.error = err instanceof Error ? err.message : String(err);
      // What the page showed when the step failed, for the one reading the log.
      const failed = path.join(ARTIFACTS, `${name}.failed.png`);
      await this.page.content().then(
        (html) => fs.writeFileSync(path.join(ARTIFACTS, `${name}.failed.html`), html),
        () => undefined,
      );
      if (
        await this.page.screenshot({ path: failed }).then(
          () => true,
          () => false,
        )
      )
        done.error += ` (the page then: ${path.relative(REPO_ROOT, failed)})`;
    }
    const doneFile = path.join(ARTIFACTS, `${name}.done`);
    fs.writeFileSync(doneFile + '.tmp', JSON.stringify(done));
    fs.renameSync(doneFile + '.tmp', doneFile);
  }
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    console.error(`e2e: ${sig}, cleaning up`);
    void (cleanup?.() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

main().then(
  ({ code, summary }) => {
    console.log(summary);
    process.exitCode = code;
  },
  async (err: unknown) => {
    await cleanup?.();
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    console.log('e2e: 0 passed, 0 failed (the runner failed before the suite ran)');
    process.exitCode = 1;
  },
);
