/**
 * The tests module VS Code loads in the extension host (`extensionTestsPath`): the same
 * `run(): Promise<void>` contract for @vscode/test-electron (runInDesktop) and the code-server
 * runner (runInCodeServer). Runs mocha (BDD) over the compiled `*.test.js` files beside it.
 *
 * Output goes to the console (test-electron shows it) and, when MEDALIGN_E2E_ARTIFACTS is set,
 * to output.log there (the code-server runner streams it); the counts go to result.json.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';
import Mocha from 'mocha';
import type { SuiteResult } from './protocol';
import { ARTIFACTS_ENV, GREP_ENV } from './protocol';

export function run(): Promise<void> {
  const artifacts = process.env[ARTIFACTS_ENV];
  const outputFile = artifacts ? path.join(artifacts, 'output.log') : undefined;
  if (artifacts) fs.mkdirSync(artifacts, { recursive: true });

  // Mocha's reporters print through Base.consoleLog; send each line to both sinks.
  Mocha.reporters.Base.consoleLog = (...args: unknown[]): void => {
    const line = format(...args);
    console.log(line);
    if (outputFile) fs.appendFileSync(outputFile, line + '\n');
  };

  const mocha = new Mocha({ ui: 'bdd', reporter: 'spec', color: false, timeout: 60_000, slow: 5_000 });
  const grep = process.env[GREP_ENV];
  if (grep) mocha.grep(grep);
  const files = fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.test.js'))
    .sort();
  for (const f of files) mocha.addFile(path.join(__dirname, f));

  const started = Date.now();
  return new Promise<void>((resolve, reject) => {
    const failures: SuiteResult['failures'] = [];
    let runner: Mocha.Runner;
    try {
      runner = mocha.run((failed) => {
        const result: SuiteResult = {
          passed: runner.stats?.passes ?? 0,
          failed,
          pending: runner.stats?.pending ?? 0,
          durationMs: Date.now() - started,
          failures,
        };
        if (artifacts) fs.writeFileSync(path.join(artifacts, 'result.json'), JSON.stringify(result, null, 2));
        if (files.length === 0) reject(new Error(`no *.test.js files in ${__dirname}`));
        else if (failed > 0) reject(new Error(`${failed} e2e test(s) failed`));
        else resolve();
      });
      runner.on('fail', (test, err: unknown) =>
        failures.push({ title: test.fullTitle(), error: err instanceof Error ? err.message : String(err) }),
      );
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err)));
    }
  });
}
