/** What the run-lens says instead of ▶ Run when a file cannot run, and where it points. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeWorkspace, validInstruction } from '../helpers/fixtures';

async function info(text: string) {
  const { ws, service, doc } = await makeWorkspace();
  const d = doc('instructions/a.medalign', text);
  return { d, info: await service.runInfo(d, ws) };
}

test('a file that can run has no blocker', async () => {
  const { info: i } = await info(validInstruction());
  assert.equal(i.blocker, undefined);
});

test('an invalid context blocks the run and points at its value', async () => {
  const { d, info: i } = await info(validInstruction().replace('context: 32k', 'context: 32x'));
  assert.ok(i.blocker);
  assert.match(i.blocker.message, /^Context /);
  assert.equal(d.getText().slice(i.blocker.span.start, i.blocker.span.end), '32x');
});

test('a broken front matter blocks the run first and points at the syntax error', async () => {
  const text = validInstruction().replace('tags: [stroke]', 'tags: [stroke');
  const { info: i } = await info(text);
  assert.ok(i.blocker);
  assert.match(i.blocker.message, /^The front matter is broken: /);
  assert.ok(i.blocker.span.start > 0 && i.blocker.span.start < text.indexOf('## Instruction'));
});

test('an unknown model blocks the run and points at the model value', async () => {
  const { d, info: i } = await info(validInstruction().replace('model: baseline', 'model: gpt-9'));
  assert.ok(i.blocker);
  assert.match(i.blocker.message, /Model 'gpt-9'/);
  assert.equal(d.getText().slice(i.blocker.span.start, i.blocker.span.end), 'gpt-9');
});
