/**
 * `medalign/strategyFit` over JSON-RPC (the strategy picker's request): every strategy packed for
 * the instruction's model and context, with the same numbers `medalign pack --strategy X --json`
 * prints for each strategy; overrides (a window's choice) and an unsaved buffer are honoured.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { URI } from 'vscode-uri';
import { StrategyFitRequest } from '../../server/src/protocol';
import { makeProjectDir, validInstruction } from '../helpers/fixtures';
import { startServer } from '../helpers/lspClient';
import { runCliProcess } from '../helpers/cliProcess';
import { generateRecord } from '../fixtures/recordGenerator';

interface PackJson {
  ok: boolean;
  error: string | null;
  strategy: string;
  encoding: string;
  kept: { tokens: number } | null;
  helm?: { wellFormed: boolean; cutLine: number | null; cutColumn: number | null; recordTokens: number };
  steps?: unknown[];
}

test('LSP: strategyFit gives, for every strategy, what `medalign pack --strategy` gives', async () => {
  const dir = makeProjectDir('stratfit', {
    'records/7000009.xml': generateRecord({ seed: 9, targetChars: 40_000 }),
  });
  const s = await startServer(URI.file(dir).toString());
  try {
    const file = path.join(dir, 'instructions/a.medalign');
    const text = validInstruction(7000000009)
      .replace('patient: 1234555', 'patient: 7000009')
      .replace('context: 32k', 'context: 4k');
    writeFileSync(file, text);
    const uri = URI.file(file).toString();
    const fit = await s.connection.sendRequest(StrategyFitRequest.type, { uri });
    assert.equal(fit.ok, true, fit.message);
    assert.equal(fit.record, 'records/7000009.xml');
    assert.equal(fit.model, 'baseline');
    assert.equal(fit.contextLabel, '4k');
    assert.equal(fit.strategy, 'recent');
    assert.deepEqual(
      fit.rows.map((r) => [r.name, r.current]),
      [
        ['recent', true],
        ['bm25', false],
        ['none', false],
        ['helm', false],
        ['refine', false],
      ],
    );
    for (const row of fit.rows) {
      const cli = await runCliProcess(dir, ['pack', file, '--strategy', row.name, '--json']);
      assert.equal(cli.status === 0 || cli.status === 1, true, cli.stderr);
      const pack = JSON.parse(cli.stdout) as PackJson;
      assert.equal(pack.strategy, row.name);
      assert.equal(row.ok, pack.ok, `${row.name}: ok`);
      assert.equal(row.encoding, pack.encoding, `${row.name}: encoding`);
      assert.equal(row.keptTokens, pack.ok ? pack.kept?.tokens : 0, `${row.name}: tokens kept`);
      if (!pack.ok) assert.equal(row.error, pack.error);
      if (row.name === 'refine') assert.equal(row.steps, pack.steps?.length, 'refine steps');
      if (row.name === 'helm') {
        assert.equal(row.totalTokens, pack.helm?.recordTokens);
        assert.equal(row.wellFormed, pack.helm?.wellFormed);
        assert.equal(row.midElement, true, 'a 40 kB record is cut at 4k');
        assert.match(
          row.cut,
          new RegExp(`^mid-element at line ${pack.helm?.cutLine}, column ${pack.helm?.cutColumn} `),
        );
      }
    }
    assert.equal(fit.rows.find((r) => r.name === 'none')?.cut, 'does not fit');
    assert.equal(fit.rows.find((r) => r.name === 'recent')?.wellFormed, true);

    // A window's choice (overrides) and the editor's unsaved buffer.
    const o = await s.connection.sendRequest(StrategyFitRequest.type, {
      uri,
      text: text.replace('strategy: recent', 'strategy: helm'),
      overrides: { context: '128k' },
    });
    assert.equal(o.strategy, 'helm');
    assert.equal(o.contextLabel, '128k');
    assert.deepEqual(
      o.rows.filter((r) => r.current).map((r) => r.name),
      ['helm'],
    );
    assert.ok(
      o.rows.every((r) => r.whole && r.wellFormed === true),
      'everything fits at 128k',
    );

    // No record: why, and the schema's strategies all the same.
    const none = await s.connection.sendRequest(StrategyFitRequest.type, {
      uri,
      text: text.replace('patient: 7000009', 'patient: 404'),
    });
    assert.equal(none.ok, false);
    assert.match(none.message ?? '', /record not found: records\/404\.xml/);
    assert.deepEqual(
      none.strategies.map((x) => x.name),
      ['recent', 'bm25', 'none', 'helm', 'refine'],
    );
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
