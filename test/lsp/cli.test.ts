import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CONFIG, TEMPLATE, publicSampleXml, repoRoot, validInstruction } from '../helpers/fixtures';

const cli = path.join(repoRoot, 'dist', 'cli.js');

function project(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'medalign-cli-'));
  mkdirSync(path.join(dir, 'records'));
  mkdirSync(path.join(dir, 'templates'));
  mkdirSync(path.join(dir, 'instructions'));
  writeFileSync(path.join(dir, 'medalign.config.json'), CONFIG);
  writeFileSync(path.join(dir, 'records/1234555.xml'), publicSampleXml);
  writeFileSync(path.join(dir, 'templates/medalign.prompt'), TEMPLATE);
  return dir;
}

const run = (cwd: string, ...args: string[]) =>
  spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8' });

test('medalign check: clean files exit 0', () => {
  const dir = project();
  try {
    writeFileSync(path.join(dir, 'instructions/a.medalign'), validInstruction(1));
    const r = run(dir, 'check', 'instructions');
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /0 error\(s\), 0 warning\(s\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('medalign check: file:line:col severity message [code], exit 1 on errors', () => {
  const dir = project();
  try {
    writeFileSync(
      path.join(dir, 'instructions/a.medalign'),
      validInstruction(1).replace('category:', 'cateogry:'),
    );
    writeFileSync(path.join(dir, 'instructions/b.medalign'), validInstruction(1));
    const r = run(dir, 'check', 'instructions');
    assert.equal(r.status, 1);
    const lines = r.stdout.trim().split('\n');
    assert.ok(
      lines.includes(
        `${path.join('instructions', 'a.medalign')}:4:1 error Unknown key 'cateogry'. Did you mean 'category'? Known keys: id, patient, record, category, specialty, author, model, context, strategy, template, tags. [schema-unknown-key]`,
      ),
      r.stdout,
    );
    assert.ok(
      lines.some((l) => /b\.medalign:2:5 error Id 1 is also used by instructions\/a\.medalign/.test(l)),
      r.stdout,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('medalign check --json: LSP diagnostics with their file', () => {
  const dir = project();
  try {
    writeFileSync(
      path.join(dir, 'instructions/a.medalign'),
      validInstruction(1).replace('strategy: recent', 'strategy: recnt'),
    );
    const r = run(dir, 'check', '--json', 'instructions/a.medalign');
    assert.equal(r.status, 1);
    const diags = JSON.parse(r.stdout) as {
      file: string;
      range: { start: { line: number; character: number } };
      severity: number;
      code: string;
      message: string;
    }[];
    assert.equal(diags.length, 1);
    assert.deepEqual(
      {
        file: diags[0].file,
        line: diags[0].range.start.line,
        ch: diags[0].range.start.character,
        severity: diags[0].severity,
        code: diags[0].code,
      },
      { file: path.join('instructions', 'a.medalign'), line: 6, ch: 10, severity: 1, code: 'schema-enum' },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('medalign: a missing path is a clear error, unknown commands print usage', () => {
  const dir = project();
  try {
    const missing = run(dir, 'check', 'nope.medalign');
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /no such file or folder: .*nope\.medalign/);
    const unknown = run(dir, 'frobnicate');
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown command 'frobnicate'/);
    assert.match(run(dir, '--help').stdout, /medalign check/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('medalign-language-server --version and --help', () => {
  const server = path.join(repoRoot, 'dist', 'server.js');
  const v = spawnSync(process.execPath, [server, '--version'], { encoding: 'utf8' });
  assert.match(v.stdout, /^medalign-language-server \d+\.\d+\.\d+/);
  const h = spawnSync(process.execPath, [server, '--help'], { encoding: 'utf8' });
  assert.match(h.stdout, /--stdio/);
});
