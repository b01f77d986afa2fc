/** Issue 7, item 6: the CLI asks on a terminal before its first run in a folder (cli/trust.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureTrusted } from '../../engine/src/cli/trust';
import { TrustedFolders } from '../../engine/src/run/trust';
import type { CliIo } from '../../engine/src/cli/main';

function setup() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'medalign-trust-'));
  const project = path.join(dir, 'project');
  mkdirSync(project);
  const store = new TrustedFolders(path.join(dir, 'home/.config/medalign-studio/trusted-folders.json'));
  let err = '';
  const asked: string[] = [];
  const io = (answer: string | undefined): CliIo => ({
    cwd: project,
    out: () => {},
    err: (s) => (err += s),
    env: {},
    ask: (q) => {
      asked.push(q);
      return Promise.resolve(answer);
    },
  });
  return { dir, project, store, io, asked, err: () => err };
}

test('a terminal asks "Trust <folder>? [y/N]"; yes is remembered in the home file, no refuses', async () => {
  const t = setup();
  try {
    const no = await ensureTrusted([t.project], {
      command: 'run',
      flag: false,
      io: t.io('n'),
      store: t.store,
    });
    assert.equal(no, false);
    assert.deepEqual(t.asked, [`Trust ${t.project}? [y/N] `]);
    assert.match(t.err(), /not trusted; nothing was run/);
    assert.equal(await t.store.isTrusted(t.project), false);

    const empty = await ensureTrusted([t.project], {
      command: 'run',
      flag: false,
      io: t.io(''),
      store: t.store,
    });
    assert.equal(empty, false, 'the default is No');

    const yes = await ensureTrusted([t.project], {
      command: 'run',
      flag: false,
      io: t.io('y'),
      store: t.store,
    });
    assert.equal(yes, true);
    const saved = JSON.parse(readFileSync(t.store.file, 'utf8')) as { folders: { path: string }[] };
    assert.deepEqual(
      saved.folders.map((f) => f.path),
      [t.project],
    );
    // Remembered: no question the next time, and a folder under it is trusted too.
    t.asked.length = 0;
    assert.equal(
      await ensureTrusted([t.project], { command: 'run', flag: false, io: t.io('n'), store: t.store }),
      true,
    );
    assert.deepEqual(t.asked, []);
    assert.equal(await t.store.isTrusted(path.join(t.project, 'sub')), true);
    assert.equal(await t.store.isTrusted(t.project + '-other'), false);
  } finally {
    rmSync(t.dir, { recursive: true, force: true });
  }
});

test('a trusted-folders file inside the folder cannot trust it', async () => {
  const t = setup();
  try {
    const inside = new TrustedFolders(path.join(t.project, '.config/medalign-studio/trusted-folders.json'));
    await assert.rejects(inside.add(t.project), /cannot trust itself/);
    const r = await ensureTrusted([t.project], { command: 'run', flag: false, io: t.io('y'), store: inside });
    assert.equal(r, false);
    assert.match(t.err(), /cannot trust itself/);
  } finally {
    rmSync(t.dir, { recursive: true, force: true });
  }
});
