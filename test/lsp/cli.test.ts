import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { makeProjectDir, publicSampleXml, repoRoot, validInstruction } from '../helpers/fixtures';
import { generateRecord } from '../fixtures/recordGenerator';

const cli = path.join(repoRoot, 'dist', 'cli.js');

const project = () => makeProjectDir('cli');

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
        `${path.join('instructions', 'a.medalign')}:4:1 error Unknown key 'cateogry'. Did you mean 'category'? Known keys: id, patient, record, category, specialty, author, model, context, strategy, refine, template, tags, source, release, imported. [schema-unknown-key]`,
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

test('medalign count: exact tokens, checked against js-tiktoken; --json fields', async () => {
  const dir = project();
  try {
    const r = run(dir, 'count', 'records/1234555.xml', '--json');
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { encoding: string; tokens: number; visits: number; events: number };
    const { Tiktoken } = await import('js-tiktoken/lite');
    const ranks = (await import('js-tiktoken/ranks/cl100k_base')).default;
    assert.equal(j.tokens, new Tiktoken(ranks).encode(publicSampleXml).length);
    assert.deepEqual(
      { encoding: j.encoding, visits: j.visits, events: j.events },
      { encoding: 'cl100k_base', visits: 3, events: 30 },
    );
    const o = run(dir, 'count', 'records/1234555.xml', '--encoding', 'o200k_base');
    assert.match(
      o.stdout,
      /^records\/1234555\.xml: [\d,]+ tokens \(o200k_base\), 3 visits, 30 events, 5 notes, 2018-10-08 → 2022-05-15\n$/,
    );
    const bad = run(dir, 'count', 'records/1234555.xml', '--encoding', 'p50k');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown encoding 'p50k'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('medalign count on a big record (parsed by a worker): the text total is the whole text’s count, and --json’s, glued seams included', async () => {
  const dir = project();
  try {
    const text = generateRecord({ seed: 44, targetChars: 400_000 });
    // Visits with no line break between them: seams the tokenizer could merge across.
    assert.ok(text.includes('</visit><visit'));
    writeFileSync(path.join(dir, 'records/big.xml'), text);
    const { Tiktoken } = await import('js-tiktoken/lite');
    const ranks = (await import('js-tiktoken/ranks/cl100k_base')).default;
    const whole = new Tiktoken(ranks).encode(text).length;
    const plain = run(dir, 'count', 'records/big.xml');
    assert.equal(plain.status, 0, plain.stderr);
    const m = /^records\/big\.xml: ([\d,]+) tokens \(cl100k_base\), (\d+) visits/.exec(plain.stdout);
    assert.ok(m, plain.stdout);
    assert.equal(Number(m[1].replace(/,/g, '')), whole);
    const json = run(dir, 'count', 'records/big.xml', '--json');
    assert.equal(json.status, 0, json.stderr);
    const j = JSON.parse(json.stdout) as { tokens: number; visits: number; perVisit: number[] };
    assert.equal(j.tokens, whole);
    assert.equal(j.visits, Number(m[2]));
    assert.equal(j.perVisit.length, j.visits);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('medalign pack: the exact prompt on stdout, --json with tokens, kept and cut', () => {
  const dir = project();
  try {
    writeFileSync(path.join(dir, 'instructions/a.medalign'), validInstruction(1));
    const r = run(dir, 'pack', 'instructions/a.medalign', '--context', '2k');
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.startsWith('EHR: <record>'));
    assert.ok(r.stdout.endsWith('Question: Which antihypertensives were given in the ED?\n\nAnswer:\n'));
    assert.match(r.stderr, /Budget at 2k/);
    const j = JSON.parse(
      run(dir, 'pack', 'instructions/a.medalign', '--context', '2k', '--strategy', 'bm25', '--json').stdout,
    ) as {
      ok: boolean;
      strategy: string;
      prompt: { role: string; content: string }[];
      tokens: { total: number; limit: number; template: number; instruction: number; record: number };
      kept: { visits: number };
      cut: { visits: number };
    };
    assert.equal(j.ok, true);
    assert.equal(j.strategy, 'bm25');
    assert.equal(j.tokens.limit, 2048 - 256);
    assert.ok(j.tokens.total <= j.tokens.limit);
    assert.ok(j.kept.visits >= 1 && j.cut.visits >= 1);
    const none = run(dir, 'pack', 'instructions/a.medalign', '--context', '2k', '--strategy', 'none');
    assert.equal(none.status, 1);
    assert.match(none.stderr, /does not fit|too long/i);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('medalign check covers records and templates too', () => {
  const dir = project();
  try {
    writeFileSync(
      path.join(dir, 'records/broken.xml'),
      '<record>\n  <visit start="10/08/2018 20:00">\n</record>\n',
    );
    writeFileSync(
      path.join(dir, 'records/dates.xml'),
      '<record>\n  <visit start="someday">\n  </visit>\n</record>\n',
    );
    writeFileSync(path.join(dir, 'templates/bad.prompt'), '## user\nEHR: {{ehr}} {{instructoin}}\n');
    writeFileSync(path.join(dir, 'pom.xml'), '<project/>');
    const r = run(dir, 'check', '.');
    assert.equal(r.status, 1);
    assert.match(r.stdout, /records\/broken\.xml:\d+:\d+ error .*\[xml-malformed\]/);
    assert.match(r.stdout, /records\/dates\.xml:2:\d+ warning .*\[date-unparseable\]/);
    assert.match(r.stdout, /templates\/bad\.prompt:2:\d+ error .*\[template-unknown-placeholder\]/);
    assert.doesNotMatch(r.stdout, /pom\.xml/);
    assert.doesNotMatch(r.stdout, /1234555\.xml/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
