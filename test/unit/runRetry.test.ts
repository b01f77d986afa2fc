import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RETRY_POLICY, parseRetryAfter, retryDecision } from '../../engine/src/core/run/retry';
import type { RunErrorKind } from '../../engine/src/core/run/errors';

const NOW = Date.UTC(2025, 0, 1, 12, 0, 0);

test('parseRetryAfter: seconds, decimals, retry-after-ms first, HTTP dates, Headers objects; junk is ignored', () => {
  assert.equal(parseRetryAfter({ 'Retry-After': '2' }, NOW), 2000);
  assert.equal(parseRetryAfter({ 'retry-after': '1.5' }, NOW), 1500);
  assert.equal(parseRetryAfter({ 'retry-after': '0' }, NOW), 0);
  assert.equal(parseRetryAfter({ 'retry-after-ms': '250', 'retry-after': '9' }, NOW), 250);
  assert.equal(parseRetryAfter({ 'retry-after': 'Wed, 01 Jan 2025 12:00:30 GMT' }, NOW), 30_000);
  assert.equal(
    parseRetryAfter({ 'retry-after': 'Wed, 01 Jan 2025 11:00:00 GMT' }, NOW),
    0,
    'a date in the past: now',
  );
  assert.equal(parseRetryAfter(new Headers({ 'retry-after': '3' }), NOW), 3000);
  assert.equal(parseRetryAfter({ 'retry-after': 'soon' }, NOW), undefined);
  assert.equal(parseRetryAfter({ 'retry-after': '-1' }, NOW), undefined);
  assert.equal(parseRetryAfter({ 'retry-after-ms': 'x', 'retry-after': '1' }, NOW), 1000);
  assert.equal(parseRetryAfter({}, NOW), undefined);
  assert.equal(parseRetryAfter(undefined, NOW), undefined);
});

test('retryDecision: Retry-After is honoured exactly; too long a wait is not retried', () => {
  const d = retryDecision(DEFAULT_RETRY_POLICY, 1, {
    kind: 'rate-limited',
    retryAfterMs: 1234,
    receivedText: false,
  });
  assert.deepEqual(d, { retry: true, delayMs: 1234, reason: 'Retry-After' });
  const long = retryDecision(DEFAULT_RETRY_POLICY, 1, {
    kind: 'rate-limited',
    retryAfterMs: 600_000,
    receivedText: false,
  });
  assert.equal(long.retry, false);
  assert.match(long.reason, /600 s/);
});

test('retryDecision: exponential backoff with jitter in [½, 1] of nominal, capped', () => {
  const p = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 100, maxDelayMs: 1000, maxAttempts: 10 };
  const at = (attempt: number, r: number) => {
    const d = retryDecision(p, attempt, { kind: 'server', receivedText: false }, () => r);
    assert.ok(d.retry);
    return d.delayMs;
  };
  assert.equal(at(1, 0), 50);
  assert.equal(at(1, 0.999999), 100);
  assert.equal(at(2, 0), 100);
  assert.equal(at(3, 0.999999), 400);
  assert.equal(at(8, 0.999999), 1000, 'capped at maxDelayMs');
});

test('retryDecision: what is and is not retried', () => {
  const p = { ...DEFAULT_RETRY_POLICY, maxAttempts: 3 };
  const retried: RunErrorKind[] = ['rate-limited', 'server', 'network', 'timeout'];
  const never: RunErrorKind[] = [
    'auth',
    'context-overflow',
    'content-filter',
    'bad-request',
    'not-found',
    'cancelled',
    'refused',
    'no-key',
    'config',
    'pack',
    'internal',
  ];
  for (const kind of retried)
    assert.equal(retryDecision(p, 1, { kind, receivedText: false }).retry, true, kind);
  for (const kind of never)
    assert.equal(retryDecision(p, 1, { kind, receivedText: false }).retry, false, kind);
  // Once answer text arrived, the partial is kept rather than re-asked.
  const partial = retryDecision(p, 1, { kind: 'network', receivedText: true });
  assert.equal(partial.retry, false);
  assert.match(partial.reason, /partial/);
  // Attempts run out.
  assert.equal(retryDecision(p, 2, { kind: 'server', receivedText: false }).retry, true);
  assert.equal(retryDecision(p, 3, { kind: 'server', receivedText: false }).retry, false);
  // A server on this machine that refuses the connection is not waited for.
  const local = retryDecision(p, 1, { kind: 'network', receivedText: false, refusedLocally: true });
  assert.equal(local.retry, false);
  assert.match(local.reason, /local port/);
  // Timeouts can be switched off.
  assert.equal(
    retryDecision({ ...p, retryTimeouts: false }, 1, { kind: 'timeout', receivedText: false }).retry,
    false,
  );
});
