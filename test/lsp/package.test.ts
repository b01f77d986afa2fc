import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../helpers/fixtures';

test('the .vsix would contain every file the manifest and the bundles need', () => {
  const vsce = path.join(repoRoot, 'node_modules', '.bin', 'vsce');
  const r = spawnSync(vsce, ['ls', '--no-dependencies'], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const files = new Set(r.stdout.trim().split('\n'));
  const manifest = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
    main: string;
    bin: Record<string, string>;
    contributes: {
      grammars: { path: string }[];
      languages: { configuration?: string }[];
      jsonValidation: { url: string }[];
    };
  };
  const needed = [
    manifest.main,
    ...Object.values(manifest.bin),
    'dist/recordWorker.js', // started by the server at run time
    'dist/encoding-cl100k_base.js', // the BPE tables, required on first use of an encoding
    'dist/encoding-o200k_base.js',
    ...manifest.contributes.grammars.map((g) => g.path),
    ...manifest.contributes.languages.flatMap((l) => (l.configuration ? [l.configuration] : [])),
    ...manifest.contributes.jsonValidation.map((j) => j.url),
  ].map((p) => p.replace(/^\.\//, ''));
  for (const f of needed) assert.ok(files.has(f), `${f} is packaged`);
  assert.ok(
    ![...files].some((f) => f.startsWith('samples/') || f.startsWith('test/') || f.endsWith('.map')),
    'no samples, tests or source maps',
  );
});
