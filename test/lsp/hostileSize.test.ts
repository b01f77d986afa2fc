/**
 * Issue 7 items 9-11, as an attacker would make the workspace, against the real server (JSON-RPC)
 * and the real CLI: a front matter with 20,000 keys, a 300,000-character note and a
 * 200,000-character instruction line, a record beyond the size limit. Each must end in a clear
 * error or an exact result, never a hang: the test timeouts are only a guard against a hang.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { HoverRequest } from 'vscode-languageserver-protocol/node';
import type { MarkupContent } from 'vscode-languageserver-protocol/node';
import { startServer } from '../helpers/lspClient';
import type { LspSession } from '../helpers/lspClient';
import { makeProjectDir, repoRoot, validInstruction } from '../helpers/fixtures';
import { getTokenizer } from '../../engine/src/core/tokens/encodings';
import { RECORD_LIMITS } from '../../engine/src/core/record/parse';

const cli = path.join(repoRoot, 'dist', 'cli.js');
/** A guard against a hang (before the fix each of these took over a minute), not a measurement. */
const GUARD = { timeout: 60_000 };

/** One visit, one day, one note whose text is `note`. */
const recordWithNote = (note: string): string =>
  '<record>\n    <visit type="Office Visit" start="01/02/2020 10:00">\n' +
  '        <day start="01/02/2020 10:00">\n' +
  `            <note type="Progress Note" start="01/02/2020 10:00">${note}</note>\n` +
  '        </day>\n    </visit>\n</record>\n';

/** Just over RECORD_LIMITS.bytes of small measurement events. */
function oversizedRecord(): string {
  const event =
    '            <measurement start="01/02/2020 10:00">[LOINC/8480-6] Systolic blood pressure 120 mm Hg</measurement>\n';
  const n = Math.ceil(RECORD_LIMITS.bytes / event.length) + 10;
  return recordWithNote('n').replace('        </day>', event.repeat(n) + '        </day>');
}

const longLine = 'x'.repeat(200_000);
let dir: string;
let session: LspSession;
const uriOf = (rel: string) => pathToFileURL(path.join(dir, rel)).toString();

before(async () => {
  dir = makeProjectDir('hostile', {
    'records/long-note.xml': recordWithNote('a'.repeat(300_000)),
    'records/huge.xml': oversizedRecord(),
    'instructions/long-line.medalign': validInstruction(11).replace(
      'Which antihypertensives were given in the ED?',
      longLine,
    ),
    'instructions/huge-record.medalign': validInstruction(12).replace(
      'patient: 1234555',
      'record: ../records/huge.xml',
    ),
  });
  session = await startServer(pathToFileURL(dir).toString());
});

after(async () => {
  assert.equal(await session.close(), 0);
  rmSync(dir, { recursive: true, force: true });
});

function runCli(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: dir });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

test(
  'server: a front matter with 20,000 keys gets front-matter-too-large, and the server still answers',
  GUARD,
  async () => {
    const keys = Array.from({ length: 20_000 }, (_, i) => `k${i}: ${i}`).join('\n');
    const uri = uriOf('instructions/keys.medalign');
    await session.open(uri, validInstruction(13).replace('tags: [stroke]\n', `tags: [stroke]\n${keys}\n`));
    const d = await session.diagnostics(uri, (p) => p.diagnostics.length > 0, 60_000);
    const big = d.diagnostics.find((x) => x.code === 'front-matter-too-large');
    assert.ok(big, JSON.stringify(d.diagnostics.slice(0, 3)));
    assert.match(big.message as string, /too large \(\d+ characters; at most 4096\)/);
    assert.deepEqual(big.range.start, { line: 0, character: 0 });
    assert.equal(d.diagnostics.length, 1, 'nothing else is read from it');
    // The editor stays usable: a hover on a normal file is answered.
    const ok = uriOf('instructions/ok.medalign');
    await session.open(ok, validInstruction(14));
    const h = await session.connection.sendRequest(HoverRequest.type, {
      textDocument: { uri: ok },
      position: { line: 4, character: 2 },
    });
    assert.match((h?.contents as MarkupContent).value, /strategy|context|model|category/i);
  },
);

test('server: a record over the size limit is refused (record-too-large), also on hover', GUARD, async () => {
  const uri = uriOf('instructions/huge-record.medalign');
  await session.open(uri, readFileSync(path.join(dir, 'instructions/huge-record.medalign'), 'utf8'));
  const d = await session.diagnostics(uri, (p) => p.diagnostics.length > 0, 60_000);
  const big = d.diagnostics.find((x) => x.code === 'record-too-large');
  assert.ok(big, JSON.stringify(d.diagnostics));
  assert.match(
    big.message as string,
    /records\/huge\.xml is too large to read \(\d+ bytes; at most 8388608\)/,
  );
  const h = await session.connection.sendRequest(HoverRequest.type, {
    textDocument: { uri },
    position: { line: 2, character: 12 },
  });
  assert.match((h?.contents as MarkupContent).value, /too large to read/);
});

test('CLI count: a 300,000-character note finishes with the exact count', GUARD, async () => {
  const r = await runCli('count', 'records/long-note.xml', '--json');
  assert.equal(r.status, 0, r.stderr);
  const text = readFileSync(path.join(dir, 'records/long-note.xml'), 'utf8');
  // The whole text counted at once in this process equals the CLI's per-visit total; the
  // long-piece BPE is checked against js-tiktoken in test/fuzz/bpeParity.test.ts.
  assert.equal((JSON.parse(r.stdout) as { tokens: number }).tokens, getTokenizer('cl100k_base').count(text));
});

test('CLI pack: a 200,000-character instruction line finishes, counted exactly', GUARD, async () => {
  const r = await runCli('pack', 'instructions/long-line.medalign', '--json');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { tokens: { instruction: number } };
  assert.equal(out.tokens.instruction, getTokenizer('cl100k_base').count(longLine));
});

test('CLI count, pack and run: a record over the size limit is a clear error', GUARD, async () => {
  const count = await runCli('count', 'records/huge.xml');
  assert.equal(count.status, 1);
  assert.match(
    count.stderr,
    /records\/huge\.xml: The record is too large to read \(\d+ bytes; at most 8388608\)/,
  );
  const pack = await runCli('pack', 'instructions/huge-record.medalign');
  assert.notEqual(pack.status, 0);
  assert.match(pack.stdout + pack.stderr, /huge\.xml is too large to read/);
  const run = await runCli('run', 'instructions/huge-record.medalign', '--model', 'baseline', '--trust');
  assert.notEqual(run.status, 0);
  assert.match(run.stdout + run.stderr, /huge\.xml is too large to read/);
});

test(
  'a record file open in the editor beyond the tag limit: record-too-large, not parsed',
  GUARD,
  async () => {
    const uri = uriOf('records/tags.xml');
    const text = `<record>\n${'<x/>'.repeat(RECORD_LIMITS.tags)}\n</record>\n`;
    writeFileSync(path.join(dir, 'records/tags.xml'), text);
    await session.open(uri, text, 'xml');
    const d = await session.diagnostics(uri, (p) => p.diagnostics.length > 0, 60_000);
    assert.ok(
      d.diagnostics.some(
        (x) => x.code === 'record-too-large' && /more than 400000 tags/.test(x.message as string),
      ),
      JSON.stringify(d.diagnostics.slice(0, 3)),
    );
  },
);
