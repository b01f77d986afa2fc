/** `medalign metrics` as a process: values, both output modes, external scorers and trust, bad input. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { makeProjectDir, repoRoot } from '../helpers/fixtures';
import { runCliProcess } from '../helpers/cliProcess';

const scorerScript = path.join(repoRoot, 'out/test/fixtures/metrics/fakeScorer.js');

function project(scorers: unknown[] = []): string {
  const dir = makeProjectDir('metrics');
  writeFileSync(path.join(dir, 'gold.txt'), 'The quick brown fox jumps over the lazy dog');
  writeFileSync(path.join(dir, 'answer.txt'), 'The quick brown dog jumps on the log.\n');
  writeFileSync(path.join(dir, 'instruction.txt'), 'Describe the animals.');
  if (scorers.length) {
    writeFileSync(
      path.join(dir, 'medalign.config.json'),
      JSON.stringify({ recordsFolder: 'records', scorers }),
    );
  }
  return dir;
}

test('medalign metrics --json: every built-in metric of one pair (the issue check value among them)', async () => {
  const dir = project();
  try {
    const r = await runCliProcess(dir, ['metrics', '--gold', 'gold.txt', '--answer', 'answer.txt', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, number>;
    assert.deepEqual(Object.keys(out), ['rouge1', 'rouge2', 'rougeL', 'bleu', 'chrf', 'chrfpp']);
    assert.equal(out['rougeL'].toFixed(5), '0.58824');
    assert.equal(out['rouge1'], 12 / 17);
    // sacrebleu 2.x: 13a tokens, counts 6/9, 2/8, 1/7, 0/6 → exp smoothing of the 4-gram.
    assert.equal(out['bleu'].toFixed(4), '21.1053');
    assert.equal(out['chrf'].toFixed(4), '52.5324');
    assert.equal(out['chrfpp'].toFixed(4), '50.8932');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('medalign metrics: a table with scales; bad input exits 2 with the option named', async () => {
  const dir = project();
  try {
    const r = await runCliProcess(dir, ['metrics', '--gold', 'gold.txt', '--answer', 'answer.txt']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trimEnd().split('\n'), [
      'ROUGE-1 F  0.7059  0-1, rouge_score (stemmed)',
      'ROUGE-2 F  0.2667  0-1, rouge_score (stemmed)',
      'ROUGE-L F  0.5882  0-1, rouge_score (stemmed)',
      'BLEU        21.11  0-100, sacrebleu',
      'chrF        52.53  0-100, sacrebleu',
      'chrF++      50.89  0-100, sacrebleu',
    ]);
    const missing = await runCliProcess(dir, ['metrics', '--gold', 'nope.txt', '--answer', 'answer.txt']);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /--gold: no such file: nope\.txt/);
    const usage = await runCliProcess(dir, ['metrics', '--gold', 'gold.txt']);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /usage: medalign metrics --gold <file> --answer <file>/);
    writeFileSync(path.join(dir, 'bin.txt'), Buffer.from([0x41, 0, 0x42]));
    const binary = await runCliProcess(dir, ['metrics', '--gold', 'gold.txt', '--answer', 'bin.txt']);
    assert.equal(binary.status, 2);
    assert.match(binary.stderr, /--answer: bin\.txt is not a text file/);
    const folder = await runCliProcess(dir, ['metrics', '--gold', 'records', '--answer', 'answer.txt']);
    assert.match(folder.stderr, /--gold: not a file: records/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('medalign metrics --scorer: runs the config’s command in a trusted folder only', async () => {
  const dir = project([
    { id: 'overlap', command: [process.execPath, scorerScript, 'overlap'], description: 'fake overlap' },
    { id: 'srclen', command: [process.execPath, scorerScript, 'src'] },
    { id: 'broken', command: [process.execPath, scorerScript, 'fail'] },
  ]);
  try {
    const args = ['metrics', '--gold', 'gold.txt', '--answer', 'answer.txt', '--src', 'instruction.txt'];
    const untrusted = await runCliProcess(dir, [...args, '--scorer', 'overlap', '--json'], {
      env: { HOME: dir, XDG_CONFIG_HOME: path.join(dir, 'xdg') },
    });
    assert.equal(untrusted.status, 1);
    assert.match(untrusted.stderr, /is not a trusted folder/);
    assert.equal(untrusted.stdout, '');

    const r = await runCliProcess(dir, [...args, '--scorer', 'overlap,srclen', '--json', '--trust']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, number>;
    // 6 of the gold's 9 words are in the answer ("the" twice); the instruction has 21 characters.
    assert.equal(out['overlap'], 6 / 9);
    assert.equal(out['srclen'], 21);
    const table = await runCliProcess(dir, [...args, '--scorer', 'overlap', '--trust']);
    assert.match(table.stdout, /^overlap +0\.6667 +fake overlap$/m);

    const unknown = await runCliProcess(dir, [...args, '--scorer', 'comet', '--trust']);
    assert.equal(unknown.status, 2);
    assert.match(
      unknown.stderr,
      /--scorer comet: no such scorer in .*medalign\.config\.json \(declared: overlap, srclen, broken\)/,
    );
    const broken = await runCliProcess(dir, [...args, '--scorer', 'broken', '--trust']);
    assert.equal(broken.status, 2);
    assert.match(
      broken.stderr,
      /scorer "broken" \(.*\) failed \(exit code 3\):\nCUDA out of memory \(fake\)/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
