/** `medalign/instructionInfo` over JSON-RPC: why a file cannot run, with the range the lens links to. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { URI } from 'vscode-uri';
import { makeProjectDir, validInstruction } from '../helpers/fixtures';
import { startServer } from '../helpers/lspClient';
import type { InstructionInfoResult } from '../../server/src/protocol';

test('LSP: instructionInfo says why a file cannot run and where (line and character of the value)', async () => {
  const dir = makeProjectDir('info');
  const s = await startServer(URI.file(dir).toString());
  try {
    const uri = URI.file(path.join(dir, 'instructions/a.medalign')).toString();
    const text = validInstruction().replace('context: 32k', 'context: 32x');
    const info = await s.connection.sendRequest<InstructionInfoResult | null>('medalign/instructionInfo', {
      uri,
      text,
      overrides: {},
    });
    assert.ok(info?.blocker, 'a blocker');
    assert.match(info.blocker.message, /^Context /);
    const line = text.split('\n').findIndex((l) => l === 'context: 32x');
    assert.deepEqual(info.blocker.range, {
      start: { line, character: 9 },
      end: { line, character: 12 },
    });
    const ok = await s.connection.sendRequest<InstructionInfoResult | null>('medalign/instructionInfo', {
      uri,
      text: validInstruction(),
      overrides: {},
    });
    assert.equal(ok?.blocker, undefined);
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
