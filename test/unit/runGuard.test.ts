import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  approvalQuery,
  endpointNeedsKey,
  endpointTarget,
  guardEndpoint,
  isLoopbackHost,
  normalizeHost,
} from '../../engine/src/core/run/guard';
import {
  isApprovedBy,
  parseApprovals,
  serializeApprovals,
  withApproval,
} from '../../engine/src/core/run/approvals';
import type { EndpointConfig } from '../../engine/src/core/workspace/config';
import { classifyFailure } from '../../engine/src/core/run/errors';
import { DEFAULT_RETRY_POLICY, retryDecision } from '../../engine/src/core/run/retry';
import { UsageError, parseAllowPhiEndpoint } from '../../engine/src/cli/args';

test('loopback: localhost, 127.0.0.0/8, ::1 and IPv4-mapped 127.x, in every spelling a URL accepts', () => {
  for (const h of [
    'localhost',
    'LOCALHOST',
    'localhost:8000',
    '127.0.0.1',
    '127.0.0.1:8000',
    '127.0.0.1.',
    '127.1',
    '127.255.255.254',
    '0x7f000001',
    '2130706433',
    '::1',
    '[::1]',
    '0:0:0:0:0:0:0:1',
    '::ffff:127.0.0.1',
    '[::ffff:7f00:1]',
    '[::1]:8080',
    '[0:0:0:0:0:0:0:1]',
    '[0:0:0:0:0:0:0:1]:80',
    '[::ffff:127.0.0.1]',
    '[::ffff:127.0.0.1]:8000',
  ]) {
    assert.equal(isLoopbackHost(h), true, h);
  }
});

test('not loopback: names that only look local, other private or special addresses, junk', () => {
  for (const h of [
    '127.0.0.1.nip.io',
    // A trailing dot makes a DNS name: it is looked up, so it is not loopback.
    'localhost.',
    'LocalHost.',
    'localhost.:8000',
    'localhost..',
    'localhost.example.com',
    'localhost.localdomain',
    '[::2]',
    '[::2]:8080',
    '[::ffff:10.0.0.1]:80',
    '[::1',
    'user@127.0.0.1',
    '127.0.0.1/x',
    'mylocalhost',
    '128.0.0.1',
    '10.0.0.1',
    '192.168.1.10',
    '0.0.0.0',
    '::',
    '::2',
    '::ffff:10.0.0.1',
    'fe80::1',
    'api.openai.com',
    'phi-test.invalid',
    '',
    'exa mple',
  ]) {
    assert.equal(isLoopbackHost(h), false, h);
  }
  assert.equal(normalizeHost('127.1'), '127.0.0.1');
  assert.equal(normalizeHost('[::1]'), '::1');
  assert.equal(normalizeHost('[0:0:0:0:0:0:0:1]:8080'), '::1');
  assert.equal(normalizeHost('LocalHost.:80'), 'localhost.');
});

test('endpointTarget: loopback is judged from the URL as the connection uses it', () => {
  const target = (baseUrl: string) => {
    const t = endpointTarget(ep({ id: 'v', kind: 'openai-compatible', baseUrl }));
    assert.ok(t.ok, baseUrl);
    return t.target;
  };
  const v6 = target('http://[::1]:8080/v1');
  assert.equal(v6.loopback, true);
  assert.equal(v6.hostname, '::1');
  assert.equal(v6.host, '[::1]:8080');
  assert.equal(target('http://[0:0:0:0:0:0:0:1]:8080/v1').loopback, true);
  assert.equal(target('http://[::ffff:127.0.0.1]:8080/v1').loopback, true);
  assert.equal(target('http://[::2]:8080/v1').loopback, false);
  const lh = target('http://LocalHost:8000/v1');
  assert.equal(lh.loopback, true);
  assert.equal(lh.hostname, 'localhost');
  for (const url of [
    'http://localhost.:8000/v1',
    'http://LocalHost.:8000/v1',
    'https://localhost.example.com/v1',
  ]) {
    const t = target(url);
    assert.equal(t.loopback, false, url);
    assert.notEqual(t.hostname, 'localhost', url);
    const d = guardEndpoint('v', ep({ id: 'v', kind: 'openai-compatible', baseUrl: url }), false);
    assert.equal(d.allowed, false, url);
    assert.equal(d.reason, 'not-approved', url);
  }
});

const ep = (e: Partial<EndpointConfig> & Pick<EndpointConfig, 'id' | 'kind'>): EndpointConfig => ({
  model: 'm',
  ...e,
});

test('endpointTarget: defaults, Azure /openai suffix, and URLs that are refused without echoing secrets', () => {
  const openai = endpointTarget(ep({ id: 'o', kind: 'openai' }));
  assert.ok(openai.ok);
  assert.equal(openai.target.baseUrl, 'https://api.openai.com/v1');
  assert.equal(openai.target.origin, 'https://api.openai.com');
  assert.equal(openai.target.loopback, false);

  const azure = endpointTarget(
    ep({ id: 'a', kind: 'azure-openai', baseUrl: 'https://res.openai.azure.com/' }),
  );
  assert.ok(azure.ok);
  assert.equal(azure.target.baseUrl, 'https://res.openai.azure.com/openai');
  const azure2 = endpointTarget(
    ep({ id: 'a', kind: 'azure-openai', baseUrl: 'https://res.openai.azure.com/openai' }),
  );
  assert.ok(azure2.ok);
  assert.equal(azure2.target.baseUrl, 'https://res.openai.azure.com/openai');

  const local = endpointTarget(ep({ id: 'v', kind: 'openai-compatible', baseUrl: 'http://127.1:8000/v1/' }));
  assert.ok(local.ok);
  assert.equal(local.target.baseUrl, 'http://127.0.0.1:8000/v1');
  assert.equal(local.target.host, '127.0.0.1:8000');
  assert.equal(local.target.loopback, true);

  const noUrl = endpointTarget(ep({ id: 'v', kind: 'openai-compatible' }));
  assert.ok(!noUrl.ok);
  assert.match(noUrl.message, /no baseUrl/);

  const creds = endpointTarget(
    ep({ id: 'v', kind: 'openai-compatible', baseUrl: 'https://user:hunter2secret@host.example/v1' }),
  );
  assert.ok(!creds.ok);
  assert.doesNotMatch(creds.message, /hunter2secret/);
  assert.match(creds.message, /credentials/);

  const query = endpointTarget(
    ep({ id: 'v', kind: 'openai-compatible', baseUrl: 'https://h.example/v1?key=abc' }),
  );
  assert.ok(!query.ok);
  const ftp = endpointTarget(ep({ id: 'v', kind: 'openai-compatible', baseUrl: 'ftp://h.example/' }));
  assert.ok(!ftp.ok);
  const bad = endpointTarget(ep({ id: 'v', kind: 'openai-compatible', baseUrl: 'not a url' }));
  assert.ok(!bad.ok);
});

test('guardEndpoint: baseline and loopback pass; remote needs the user; unknown models and bad URLs refused', () => {
  assert.deepEqual(guardEndpoint('baseline', undefined, false), { allowed: true, reason: 'baseline' });
  const local = ep({ id: 'v', kind: 'openai-compatible', baseUrl: 'http://localhost:8000/v1' });
  const d1 = guardEndpoint('v', local, false);
  assert.equal(d1.allowed, true);
  assert.equal(d1.reason, 'loopback');
  assert.equal(approvalQuery('v', local), undefined);

  const remote = ep({ id: 'gpt', kind: 'openai' });
  const refused = guardEndpoint('gpt', remote, false);
  assert.equal(refused.allowed, false);
  assert.equal(refused.reason, 'not-approved');
  if (refused.reason !== 'not-approved') return;
  assert.deepEqual(refused.approval, {
    endpointId: 'gpt',
    kind: 'openai',
    origin: 'https://api.openai.com',
    host: 'api.openai.com',
  });
  assert.match(refused.message, /Nothing was sent/);
  assert.match(
    refused.message,
    /not approved it for patient records \(PHI\) at https:\/\/api\.openai\.com\./,
  );
  assert.deepEqual(approvalQuery('gpt', remote), refused.approval);

  const ok = guardEndpoint('gpt', remote, true);
  assert.equal(ok.allowed, true);
  assert.equal(ok.reason, 'approved');

  const unknown = guardEndpoint('nope', undefined, true);
  assert.equal(unknown.allowed, false);
  assert.equal(unknown.reason, 'invalid-endpoint');

  // Approval cannot rescue a URL the guard cannot read.
  const broken = guardEndpoint('x', ep({ id: 'x', kind: 'openai-compatible', baseUrl: 'http://a b' }), true);
  assert.equal(broken.allowed, false);
});

test('endpointNeedsKey: OpenAI and Azure always; compatible servers only when they name a key variable', () => {
  assert.equal(endpointNeedsKey(ep({ id: 'a', kind: 'openai' })), true);
  assert.equal(endpointNeedsKey(ep({ id: 'a', kind: 'azure-openai' })), true);
  assert.equal(endpointNeedsKey(ep({ id: 'a', kind: 'openai-compatible' })), false);
  assert.equal(endpointNeedsKey(ep({ id: 'a', kind: 'openai-compatible', apiKeyEnv: 'K' })), true);
});

test('approvals: an approval is for an endpoint id at an origin; re-pointing the id elsewhere is not approved', () => {
  const q = {
    endpointId: 'gpt',
    kind: 'openai' as const,
    origin: 'https://api.openai.com',
    host: 'api.openai.com',
  };
  const entries = withApproval([], q, new Date('2025-01-01T00:00:00Z'));
  assert.equal(entries.length, 1);
  assert.equal(withApproval(entries, q, new Date()).length, 1, 'added once');
  const text = serializeApprovals(entries);
  const back = parseApprovals(text);
  assert.deepEqual(back, entries);
  assert.equal(isApprovedBy(back, q), true);
  assert.equal(isApprovedBy(back, { ...q, origin: 'https://evil.example' }), false);
  assert.equal(isApprovedBy(back, { ...q, endpointId: 'other' }), false);
  // Damaged or foreign files approve nothing.
  assert.deepEqual(parseApprovals('{'), []);
  assert.deepEqual(parseApprovals(JSON.stringify({ approvals: entries })), []);
  assert.deepEqual(
    parseApprovals(JSON.stringify({ format: 'medalign-phi-approvals', approvals: [{ endpointId: 1 }] })),
    [],
  );
  assert.deepEqual(parseApprovals(undefined), []);
});

test('--allow-phi-endpoint: <id>@<origin>, the origin normalised; a bare id has no origin; anything else is a usage error', () => {
  assert.deepEqual(parseAllowPhiEndpoint('gpt-4o@https://api.openai.com'), {
    endpointId: 'gpt-4o',
    origin: 'https://api.openai.com',
  });
  assert.deepEqual(parseAllowPhiEndpoint('gpt-4o@HTTPS://API.OpenAI.com:443/'), {
    endpointId: 'gpt-4o',
    origin: 'https://api.openai.com',
  });
  assert.deepEqual(parseAllowPhiEndpoint('v6@http://[0:0::1]:8000'), {
    endpointId: 'v6',
    origin: 'http://[::1]:8000',
  });
  // An id may hold '@'; the origin is after the last '@' that starts a URL.
  assert.deepEqual(parseAllowPhiEndpoint('team@lab@http://10.0.0.5:8000'), {
    endpointId: 'team@lab',
    origin: 'http://10.0.0.5:8000',
  });
  assert.deepEqual(parseAllowPhiEndpoint('gpt-4o'), { endpointId: 'gpt-4o' });
  for (const bad of [
    'gpt-4o@',
    '@https://api.openai.com',
    'gpt-4o@api.openai.com',
    'gpt-4o@ftp://api.openai.com',
    'gpt-4o@https://api.openai.com/v1',
    'gpt-4o@https://api.openai.com/?x=1',
    'gpt-4o@https://user@api.openai.com',
    'gpt-4o@https://',
  ]) {
    assert.throws(() => parseAllowPhiEndpoint(bad), UsageError, bad);
    assert.throws(() => parseAllowPhiEndpoint(bad), /<endpoint id>@<origin>/, bad);
  }
});

test('a redirect is its own error kind: says the server redirected and where, and is never retried', () => {
  const ctx = { endpointId: 'local', endpointKind: 'openai-compatible', host: '127.0.0.1:8000' };
  const e = classifyFailure({ type: 'redirect', status: 307, location: 'https://elsewhere.example' }, ctx);
  assert.equal(e.kind, 'redirect');
  assert.equal(e.status, 307);
  assert.match(e.message, /^The server redirected; redirects are not followed for patient data\./);
  assert.match(e.message, /'local' \(127\.0\.0\.1:8000\) answered HTTP 307 to https:\/\/elsewhere\.example;/);
  const unknown = classifyFailure({ type: 'redirect', status: 302 }, ctx);
  assert.match(unknown.message, /answered HTTP 302; nothing was sent there/);
  const d = retryDecision(DEFAULT_RETRY_POLICY, 1, { kind: e.kind, receivedText: false });
  assert.equal(d.retry, false);
});
