/**
 * The one redaction of keys (core/run/redact.ts): whole keys and any fragment of 8+ characters, in
 * plain text, in nested run data, and in a stream split anywhere; and the message that lists a
 * config's schema violations.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MIN_FRAGMENT,
  REDACTED,
  StreamRedactor,
  redactDeep,
  redactSecrets,
  secretRanges,
} from '../../engine/src/core/run/redact';
import { redactSecrets as fromErrors } from '../../engine/src/core/run/errors';
import { configProblemsMessage, parseConfig } from '../../engine/src/core/workspace/config';

const KEY = '5f1c9a7e3b2d4c6a8e0f1a2b3c4d5e6f';

function fragmentsIn(text: string, key = KEY): string[] {
  const out: string[] = [];
  for (let i = 0; i + MIN_FRAGMENT <= key.length; i++) {
    const f = key.slice(i, i + MIN_FRAGMENT);
    if (text.includes(f)) out.push(f);
  }
  return out;
}

const collapse = (s: string) => s.replace(/(\[redacted\])+/g, REDACTED);

test('a key is redacted whole and in every fragment of 8+ characters; shorter pieces and other text stay', () => {
  const text = `key ${KEY}; part ${KEY.slice(3, 11)}; long part ${KEY.slice(9, 30)}; short ${KEY.slice(0, 7)}.`;
  const out = redactSecrets(text, [KEY]);
  assert.deepEqual(fragmentsIn(out), []);
  assert.equal(out, `key ${REDACTED}; part ${REDACTED}; long part ${REDACTED}; short ${KEY.slice(0, 7)}.`);
  assert.equal(fromErrors, redactSecrets, 'errors.ts re-exports the same function');
  // A secret shorter than a fragment is only redacted whole.
  assert.equal(redactSecrets('pw abcde and abcd', ['abcde']), `pw ${REDACTED} and abcd`);
  assert.deepEqual(secretRanges('no secrets here', [KEY]), []);
});

test('key shapes are cleared from messages, not from answers', () => {
  const msg = 'Authorization: sometoken123 and sk-abcdefgh123';
  assert.equal(redactSecrets(msg, []), `Authorization: ${REDACTED} and ${REDACTED}`);
  const answer = 'Prior authorization: pending since 10/08.';
  assert.equal(redactSecrets(answer, [KEY], { shapes: false }), answer);
});

test('redactDeep redacts every string of nested run data and leaves the rest', () => {
  const run = {
    response: `echo ${KEY}`,
    error: { kind: 'server', message: `bad ${KEY.slice(4, 20)}` },
    prompt: [{ role: 'user', content: 'Question: BP?' }],
    tokens: { prompt: 12 },
    partial: false,
    finishReason: null,
  };
  const out = redactDeep(run, [KEY]);
  assert.deepEqual(out, {
    ...run,
    response: `echo ${REDACTED}`,
    error: { kind: 'server', message: `bad ${REDACTED}` },
  });
  assert.equal(redactDeep(run, []), run, 'no secrets: the same object');
});

test('a stream split at any point never gives out a key or a fragment, and loses no other text', () => {
  const text = `Your key is ${KEY} and again ${KEY.slice(2, 14)}, ${KEY.slice(20)}${KEY.slice(0, 9)} end.`;
  const whole = collapse(redactSecrets(text, [KEY], { shapes: false }));
  // Every way of cutting the text into three pieces.
  for (let i = 0; i <= text.length; i += 3) {
    for (let j = i; j <= text.length; j += 2) {
      const r = new StreamRedactor([KEY]);
      const pieces = [text.slice(0, i), text.slice(i, j), text.slice(j)].map((p) => r.push(p));
      pieces.push(r.flush());
      for (const p of pieces) assert.deepEqual(fragmentsIn(p), [], `cut at ${i},${j}`);
      assert.equal(collapse(pieces.join('')), whole, `cut at ${i},${j}`);
    }
  }
  // One character at a time.
  const r = new StreamRedactor([KEY]);
  const out = [...text].map((c) => r.push(c)).join('') + r.flush();
  assert.equal(collapse(out), whole);
});

test('a stream holds back only what could still become part of a key', () => {
  const r = new StreamRedactor([KEY]);
  assert.equal(r.push('Labetalol 5 mg IV '), 'Labetalol 5 mg IV ');
  // "5f1" could be the start of the key: held until the next piece shows it is not.
  assert.equal(r.push('dose 5f1'), 'dose ');
  assert.equal(r.push('x given.'), '5f1x given.');
  assert.equal(r.flush(), '');
  const none = new StreamRedactor([]);
  assert.equal(none.active, false);
  assert.equal(none.push('5f1c9a7e'), '5f1c9a7e');
});

test('a config that breaks its schema gives a message listing every violation', () => {
  const loaded = parseConfig(
    JSON.stringify({
      endpoints: [{ id: 'x$(touch /tmp/pwned)', kind: 'openai-compatible', model: 'm' }],
      defaults: { strategy: 'everything' },
    }),
  );
  const msg = configProblemsMessage(loaded.problems);
  assert.match(msg, /^medalign\.config\.json does not match its schema/);
  assert.match(msg, /Nothing was run; nothing was sent/);
  assert.match(msg, /\n {2}- medalign\.config\.json \/endpoints\/0\/id: must match pattern/);
  assert.match(
    msg,
    /\n {2}- medalign\.config\.json \/defaults\/strategy: must be equal to one of the allowed values/,
  );
});
