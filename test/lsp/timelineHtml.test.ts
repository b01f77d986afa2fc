/**
 * `medalign timeline … --html <file>` as a process: the page is written only where asked, with the
 * view's renderer and the model inlined (strict CSP, nothing remote), readable only by the user, and
 * the CLI warns that it holds patient data. A missing folder is a clear error, not a crash.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { runCliProcess } from '../helpers/cliProcess';
import { makeProjectDir, validInstruction } from '../helpers/fixtures';

const dir = makeProjectDir('timeline-html', { 'instructions/a.medalign': validInstruction(7222697931) });
after(() => rmSync(dir, { recursive: true, force: true }));

test('--html writes a self-contained page with the model and the renderer, and warns about patient data', async () => {
  const before = readdirSync(dir).sort();
  const r = await runCliProcess(dir, ['timeline', 'instructions/a.medalign', '--html', 'timeline.html']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /wrote timeline\.html\. It contains patient data from records\/1234555\.xml/);
  assert.deepEqual(readdirSync(dir).sort(), [...before, 'timeline.html'].sort(), 'nothing else written');
  const file = path.join(dir, 'timeline.html');
  assert.equal(statSync(file).mode & 0o777, 0o600, 'readable only by the user');
  const page = readFileSync(file, 'utf8');
  assert.match(page, /<meta http-equiv="Content-Security-Policy" content="default-src 'none';/);
  assert.ok(!/(src|href)=["']?(https?:)?\/\//i.test(page), 'no remote resource');
  const data = /<script type="application\/json" id="timeline-data">([\s\S]*?)<\/script>/.exec(page);
  assert.ok(data);
  const model = JSON.parse(data[1]) as { record: string; visits: unknown[]; cuts: { own: boolean }[] };
  assert.equal(model.record, 'records/1234555.xml');
  assert.equal(model.visits.length, 3);
  assert.ok(model.cuts.some((c) => c.own));
  const renderer = readFileSync(path.join(__dirname, '..', '..', '..', 'dist', 'timelineView.js'), 'utf8');
  assert.ok(page.includes(renderer.slice(0, 200)), 'the view’s own renderer bundle is inlined');
});

test('--html into a folder that does not exist is a clear error', async () => {
  const r = await runCliProcess(dir, ['timeline', 'instructions/a.medalign', '--html', 'nope/t.html']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /--html: the folder nope does not exist/);
  assert.equal(existsSync(path.join(dir, 'nope')), false);
});
