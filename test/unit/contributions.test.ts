/**
 * Issue 9, "the main job": package.json's contributions against what the extension registers.
 * Every command a menu, keybinding, walkthrough link or welcome view names is declared and
 * registered by client/src (read from the source: `registerCommand(<literal or constant>)`); every
 * registered command is declared; views live in declared containers; walkthrough media exist and
 * are packaged. The e2e suite (walkthrough.test.ts) checks the same commands at run time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../helpers/fixtures';

interface Command {
  command: string;
  title: string;
}
interface Keybinding {
  command: string;
  key: string;
  mac?: string;
  when?: string;
}
interface Step {
  id: string;
  title: string;
  description: string;
  media: { markdown?: string; svg?: string; image?: string };
  completionEvents?: string[];
}
interface Contributes {
  commands: Command[];
  keybindings: Keybinding[];
  menus: Record<string, { command: string; when?: string }[]>;
  viewsContainers: Record<string, { id: string; title: string; icon: string }[]>;
  views: Record<string, { id: string; name: string }[]>;
  viewsWelcome: { view: string; contents: string }[];
  walkthroughs: { id: string; title: string; steps: Step[] }[];
}

const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
  contributes: Contributes;
};
const c = pkg.contributes;
const declared = new Set(c.commands.map((x) => x.command));
/** Commands that VS Code itself provides. */
const builtIn = (id: string): boolean => /^(workbench|editor|vscode)\./.test(id);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Command ids registered in client/src, resolving `NAME = 'id'` constants and `OBJ.name` properties. */
function registeredCommands(): Set<string> {
  const sources = sourceFiles(path.join(repoRoot, 'client', 'src')).map((f) => readFileSync(f, 'utf8'));
  const constants = new Map<string, string>();
  for (const src of sources) {
    for (const m of src.matchAll(/(\w+)\s*[:=]\s*'(medalign\.[\w.]+)'/g)) constants.set(m[1], m[2]);
  }
  const ids = new Set<string>();
  for (const src of sources) {
    for (const m of src.matchAll(/registerCommand\(\s*([^,\s)]+)/g)) {
      const arg = m[1];
      const literal = /^'([^']+)'$/.exec(arg);
      const id = literal ? literal[1] : constants.get(arg.split('.').pop()!);
      assert.ok(id, `cannot resolve the command registered as ${arg}`);
      ids.add(id);
    }
  }
  return ids;
}

/** `command:<id>` links in markdown (walkthrough steps, welcome views). */
function linkedCommands(markdown: string): string[] {
  return [...markdown.matchAll(/\(command:([\w.]+)/g)].map((m) => m[1]);
}

test('every declared command is registered by the extension, and every registered one is declared', () => {
  const registered = registeredCommands();
  assert.deepEqual(
    [...declared].filter((id) => !registered.has(id)),
    [],
    'declared in package.json but never registered',
  );
  assert.deepEqual(
    [...registered].filter((id) => !declared.has(id)),
    [],
    'registered but not declared (no title in the palette or menus)',
  );
});

test('menus, keybindings, walkthrough links and welcome views name declared commands', () => {
  const named = [
    ...Object.values(c.menus).flatMap((items) => items.map((i) => i.command)),
    ...c.keybindings.map((k) => k.command),
    ...c.walkthroughs.flatMap((w) => w.steps.flatMap((s) => linkedCommands(s.description))),
    ...c.viewsWelcome.flatMap((v) => linkedCommands(v.contents)),
  ];
  assert.ok(named.length > 20);
  assert.deepEqual(
    named.filter((id) => !declared.has(id) && !builtIn(id)),
    [],
  );
});

test('keybindings: Run, Preview and Cancel, each with a Mac key; Run and Preview only in an instruction', () => {
  const byCommand = new Map(c.keybindings.map((k) => [k.command, k]));
  for (const id of ['medalign.run', 'medalign.previewPrompt', 'medalign.cancelRuns']) {
    const k = byCommand.get(id);
    assert.ok(k, `${id} has a keybinding`);
    assert.ok(k.key && k.mac, `${id} has a key and a Mac key`);
  }
  assert.match(byCommand.get('medalign.run')!.when ?? '', /editorLangId == medalign/);
  assert.match(byCommand.get('medalign.previewPrompt')!.when ?? '', /editorLangId == medalign/);
  // No `enablement` on the run commands: code-server leaves that precondition false when trust is
  // disabled, which silently disabled Run's key and palette entry; the commands refuse to run in
  // Restricted Mode themselves, with a way to manage trust (so Run's key says why instead of nothing).
  assert.deepEqual(
    c.commands.filter((x) => 'enablement' in x).map((x) => x.command),
    [],
  );
  const keys = c.keybindings.map((k) => k.key);
  assert.equal(new Set(keys).size, keys.length, 'no two MedAlign keybindings share a key');
});

test('the Record Timeline and Runs views live in the MedAlign view container of the activity bar, with its icon', () => {
  const containers = c.viewsContainers.activitybar ?? [];
  const medalign = containers.find((x) => x.id === 'medalign');
  assert.ok(medalign, 'an activity bar container "medalign"');
  assert.equal(medalign.title, 'MedAlign');
  assert.ok(existsSync(path.join(repoRoot, medalign.icon)), `${medalign.icon} exists`);
  assert.deepEqual(
    (c.views.medalign ?? []).map((v) => v.id),
    ['medalign.timeline', 'medalign.runs'],
  );
  assert.equal(c.views.explorer, undefined, 'no MedAlign view left in the Explorer');
  const allContainers = new Set([
    'explorer',
    'scm',
    'debug',
    'test',
    'remote',
    ...containers.map((x) => x.id),
  ]);
  for (const container of Object.keys(c.views)) assert.ok(allContainers.has(container), container);
});

test('the walkthrough covers the tour, every step links a command and has local media that is packaged', () => {
  const [w] = c.walkthroughs;
  assert.ok(w);
  assert.equal(w.id, 'gettingStarted');
  assert.deepEqual(
    w.steps.map((s) => s.id),
    ['openSample', 'hoverPatient', 'previewPrompt', 'runBaseline', 'compareWithGold', 'endpoint'],
  );
  const ignore = readFileSync(path.join(repoRoot, '.vscodeignore'), 'utf8');
  assert.match(ignore, /^!media\/\*\*$/m, 'media/ is in the .vsix');
  for (const step of w.steps) {
    assert.ok(linkedCommands(step.description).length >= 1, `${step.id} links a command`);
    assert.ok(step.completionEvents?.length, `${step.id} completes on an event`);
    const media = step.media.markdown ?? step.media.svg ?? step.media.image;
    assert.ok(media, `${step.id} has media`);
    const file = path.join(repoRoot, media);
    assert.ok(existsSync(file), `${media} exists`);
    const text = readFileSync(file, 'utf8');
    assert.doesNotMatch(
      text,
      /https?:\/\/(?!127\.0\.0\.1)[^\s)]*\.(png|jpe?g|gif|svg)/i,
      `${media}: no remote image`,
    );
  }
  const endpoint = w.steps.find((s) => s.id === 'endpoint')!;
  assert.ok(linkedCommands(endpoint.description).includes('medalign.setApiKey'));
});
