/**
 * `npm run test:desktop`: the same e2e suite (test/e2e/suite) in desktop VS Code through
 * @vscode/test-electron, for people working on a desktop.
 *
 * NOT for CI on the project's build machines: `runTests` downloads a VS Code build from
 * update.code.visualstudio.com, and those machines reach only the npm registry and Debian's
 * packages. There, use `npm run test:e2e` (VS Code served by code-server, driven by Chromium).
 *
 * The screenshot test is skipped here (no browser page to photograph); everything else runs.
 * Set VSCODE_VERSION (default 'stable') to pick the VS Code build, MEDALIGN_E2E_GREP to filter.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { REPO_ROOT, copyDir, makeTempDir } from '../../scripts/codeServer';
import type { SuiteResult } from './suite/protocol';
import { ARTIFACTS_ENV, GREP_ENV } from './suite/protocol';

async function main(): Promise<number> {
  const artifacts = path.join(REPO_ROOT, 'test-artifacts', 'e2e-desktop');
  fs.rmSync(artifacts, { recursive: true, force: true });
  fs.mkdirSync(artifacts, { recursive: true });
  const tmp = makeTempDir('desktop');
  const workspace = path.join(tmp, 'workspace');
  copyDir(path.join(REPO_ROOT, 'samples'), workspace);
  const env: Record<string, string> = { [ARTIFACTS_ENV]: artifacts };
  if (process.env[GREP_ENV]) env[GREP_ENV] = process.env[GREP_ENV];
  let code: number;
  try {
    code = await runTests({
      version: process.env.VSCODE_VERSION ?? 'stable',
      extensionDevelopmentPath: REPO_ROOT,
      extensionTestsPath: path.join(REPO_ROOT, 'out', 'test', 'e2e', 'suite', 'index.js'),
      extensionTestsEnv: env,
      launchArgs: [
        workspace,
        '--disable-extensions',
        '--disable-workspace-trust',
        '--skip-welcome',
        '--user-data-dir',
        path.join(tmp, 'user-data'),
      ],
    });
  } catch (err) {
    // runTests rejects when the tests failed (the suite printed why) or VS Code could not start.
    console.error(err instanceof Error ? err.message : String(err));
    code = 1;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  let result: SuiteResult | undefined;
  try {
    result = JSON.parse(fs.readFileSync(path.join(artifacts, 'result.json'), 'utf8')) as SuiteResult;
  } catch {
    result = undefined;
  }
  console.log(
    result
      ? `e2e (desktop): ${result.passed} passed, ${result.failed} failed` +
          (result.pending ? `, ${result.pending} pending` : '')
      : 'e2e (desktop): 0 passed, 0 failed (no result from the suite)',
  );
  return result && result.failed > 0 ? 1 : code || (result ? 0 : 1);
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
