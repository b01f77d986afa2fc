/** What `medalign count`'s options ask for (engine/src/cli/countArgs.ts); the count itself: test/lsp/cli.test.ts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countTarget, COUNT_USAGE, parseCountArgs } from '../../engine/src/cli/countArgs';

test('countTarget: an encoding (cl100k_base unless named), an endpoint, or the usage error a user sees', () => {
  assert.deepEqual(countTarget(parseCountArgs(['r.xml'])), {
    kind: 'encoding',
    file: 'r.xml',
    encoding: 'cl100k_base',
  });
  assert.deepEqual(countTarget(parseCountArgs(['r.xml', '--encoding=o200k_base', '--json'])), {
    kind: 'encoding',
    file: 'r.xml',
    encoding: 'o200k_base',
  });
  assert.deepEqual(countTarget(parseCountArgs(['--model', 'local', 'r.xml'])), {
    kind: 'endpoint',
    file: 'r.xml',
    endpointId: 'local',
  });
  assert.deepEqual(countTarget(parseCountArgs(['r.xml', '--model', 'a', '--verify', 'b'])), {
    kind: 'endpoint',
    file: 'r.xml',
    endpointId: 'b',
  });
  assert.throws(() => countTarget(parseCountArgs([])), { message: COUNT_USAGE });
  assert.throws(() => countTarget(parseCountArgs(['a.xml', 'b.xml'])), { message: COUNT_USAGE });
  assert.throws(
    () => countTarget(parseCountArgs(['r.xml', '--encoding', 'p50k'])),
    /unknown encoding 'p50k'/,
  );
  assert.throws(() => parseCountArgs(['r.xml', '--nope']), /unknown option --nope/);
});
