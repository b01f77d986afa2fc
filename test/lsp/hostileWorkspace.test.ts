/**
 * Issue 7: a workspace written by someone else (a cloned dataset repository) cannot make the editor
 * or the CLI read a file outside it into a prompt (item 3), and cannot put live links or raw HTML
 * into hovers and completion documentation (item 7). Each attack is set up as the attacker would: a
 * workspace on disk (with symbolic links), the real language server over JSON-RPC, the real CLI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { URI } from 'vscode-uri';
import { CompletionRequest, HoverRequest } from 'vscode-languageserver-protocol/node';
import type {
  CompletionItem,
  CompletionList,
  Hover,
  MarkupContent,
} from 'vscode-languageserver-protocol/node';
import {
  CONFIG,
  TEMPLATE,
  makeProjectDir,
  publicSampleXml,
  repoRoot,
  validInstruction,
} from '../helpers/fixtures';
import { startServer } from '../helpers/lspClient';

const cli = path.join(repoRoot, 'dist', 'cli.js');
const SECRET = 'SECRET-KEY-MATERIAL-7f3a9c';
const OTHER_PHI = 'OTHER-PROJECT-PATIENT-4b21';

/** Someone else's files beside the workspace: a private key and another project's record. */
function outsideFiles(): { dir: string; key: string; record: string; recordsDir: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'medalign-outside-'));
  const key = path.join(dir, 'home/u/.ssh/id_rsa');
  const recordsDir = path.join(dir, 'other-project/records');
  mkdirSync(path.dirname(key), { recursive: true });
  mkdirSync(recordsDir, { recursive: true });
  writeFileSync(key, `-----BEGIN OPENSSH PRIVATE KEY-----\n${SECRET}\n{{ehr}}\n{{instruction}}\n`);
  const record = path.join(recordsDir, '999.xml');
  writeFileSync(record, publicSampleXml.replace('Thousand Oaks EMERGENCY DEPARTMENT', OTHER_PHI));
  return { dir, key, record, recordsDir };
}

const withTemplate = (id: number, template: string) =>
  validInstruction(id).replace(
    'template: ../templates/medalign.prompt',
    `template: ${JSON.stringify(template)}`,
  );
const withRecord = (id: number, record: string) =>
  validInstruction(id).replace('patient: 1234555', `record: ${JSON.stringify(record)}`);

interface Hostile {
  ws: string;
  out: ReturnType<typeof outsideFiles>;
  /** instruction file (relative to ws) → what it attacks with */
  files: Record<string, string>;
  cleanup: () => void;
}

function hostileWorkspace(): Hostile {
  const out = outsideFiles();
  const ws = makeProjectDir('hostile');
  const inst = path.join(ws, 'instructions');
  symlinkSync(out.key, path.join(ws, 'templates/evil.prompt'));
  symlinkSync(out.record, path.join(ws, 'records/777.xml'));
  const files: Record<string, string> = {
    'instructions/t-rel.medalign': withTemplate(1, path.relative(inst, out.key)),
    'instructions/t-abs.medalign': withTemplate(2, out.key),
    'instructions/t-link.medalign': withTemplate(3, '../templates/evil.prompt'),
    'instructions/r-rel.medalign': withRecord(4, path.relative(inst, out.record)),
    'instructions/r-abs.medalign': withRecord(5, out.record),
    'instructions/r-link.medalign': validInstruction(6).replace('patient: 1234555', 'patient: 777'),
  };
  for (const [rel, text] of Object.entries(files)) writeFileSync(path.join(ws, rel), text);
  return {
    ws,
    out,
    files,
    cleanup: () => {
      rmSync(ws, { recursive: true, force: true });
      rmSync(out.dir, { recursive: true, force: true });
    },
  };
}

/** A workspace whose config points outside: `defaults.template` and an absolute `recordsFolder`. */
function hostileConfigWorkspace(out: ReturnType<typeof outsideFiles>): string {
  const config = JSON.parse(CONFIG) as Record<string, unknown> & { defaults: Record<string, unknown> };
  config.recordsFolder = out.recordsDir;
  config.defaults.template = out.key;
  const ws = makeProjectDir('hostile-config', { 'medalign.config.json': JSON.stringify(config) });
  writeFileSync(
    path.join(ws, 'instructions/a.medalign'),
    validInstruction(1)
      .replace('patient: 1234555', 'patient: 999')
      .replace(/^template: .*\n/m, ''),
  );
  return ws;
}

const cliRun = (cwd: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [cli, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, XDG_CONFIG_HOME: path.join(cwd, '..', 'no-such-xdg'), ...env },
  });

test('LSP: templates and records outside the workspace are diagnostics, never read into hovers or the preview', async () => {
  const h = hostileWorkspace();
  const root = URI.file(h.ws).toString();
  const s = await startServer(root);
  try {
    for (const [rel, text] of Object.entries(h.files)) {
      const uri = URI.file(path.join(h.ws, rel)).toString();
      await s.open(uri, text);
      const p = await s.diagnostics(uri, (d) =>
        d.diagnostics.some((x) => x.code === 'path-outside-workspace'),
      );
      const d = p.diagnostics.find((x) => x.code === 'path-outside-workspace')!;
      const message = typeof d.message === 'string' ? d.message : d.message.value;
      assert.equal(d.severity, 1, rel);
      const real = rel.startsWith('instructions/t-') ? h.out.key : h.out.record;
      assert.ok(message.includes(real), `${rel}: ${message}`);
      assert.match(message, /outside the workspace folder/, rel);
      if (rel.includes('link')) assert.match(message, /symbolic link/, rel);
      // The key's line is where the diagnostic points.
      const line = text.split('\n')[d.range.start.line];
      assert.match(line, rel.includes('/t-') ? /^template:/ : /^(record|patient):/, rel);

      const preview = await s.connection.sendRequest<{ ok: boolean; text: string; error?: string }>(
        'medalign/previewPrompt',
        { uri },
      );
      assert.equal(preview.ok, false, rel);
      assert.match(preview.error ?? '', /outside the workspace folder/, rel);
      assert.ok(!preview.text.includes(SECRET) && !preview.text.includes(OTHER_PHI), rel);

      const hover = await s.connection.sendRequest(HoverRequest.type, {
        textDocument: { uri },
        position: { line: d.range.start.line, character: d.range.start.character + 1 },
      });
      const value = (hover?.contents as MarkupContent | undefined)?.value ?? '';
      assert.match(value, /not read/, `${rel}: ${value}`);
      assert.ok(!value.includes(SECRET) && !value.includes(OTHER_PHI), rel);
    }
  } finally {
    await s.close();
    h.cleanup();
  }
});

test('CLI check, pack: a hostile workspace gets path-outside-workspace errors and no prompt', () => {
  const h = hostileWorkspace();
  try {
    const check = cliRun(h.ws, ['check', 'instructions']);
    assert.equal(check.status, 1, check.stdout + check.stderr);
    for (const rel of Object.keys(h.files)) {
      assert.match(
        check.stdout,
        new RegExp(`${path.basename(rel)}:\\d+:\\d+ error .*\\[path-outside-workspace\\]`),
      );
    }
    for (const rel of Object.keys(h.files)) {
      const pack = cliRun(h.ws, ['pack', rel]);
      assert.equal(pack.status, 1, `${rel}: ${pack.stdout}${pack.stderr}`);
      assert.match(pack.stderr, /outside the workspace folder/, rel);
      assert.ok(!(pack.stdout + pack.stderr).includes(SECRET), rel);
      assert.ok(!(pack.stdout + pack.stderr).includes(OTHER_PHI), rel);
    }
    // The user may allow another folder for this command (never the workspace).
    const allowed = cliRun(h.ws, ['pack', 'instructions/r-abs.medalign', '--allow-root', h.out.recordsDir]);
    assert.equal(allowed.status, 0, allowed.stderr);
    assert.ok(allowed.stdout.includes(OTHER_PHI));
  } finally {
    h.cleanup();
  }
});

test("CLI check, pack: the config's defaults.template and an absolute recordsFolder outside are refused", () => {
  const out = outsideFiles();
  const ws = hostileConfigWorkspace(out);
  try {
    const check = cliRun(ws, ['check', 'instructions']);
    assert.equal(check.status, 1, check.stdout);
    const lines = check.stdout.split('\n').filter((l) => l.includes('[path-outside-workspace]'));
    assert.equal(lines.length, 2, check.stdout);
    assert.ok(lines.some((l) => l.includes(out.key)));
    assert.ok(lines.some((l) => l.includes(out.recordsDir) && /records folder/.test(l)));
    const pack = cliRun(ws, ['pack', 'instructions/a.medalign']);
    assert.equal(pack.status, 1);
    assert.ok(!(pack.stdout + pack.stderr).includes(SECRET));
    assert.ok(!(pack.stdout + pack.stderr).includes(OTHER_PHI));
  } finally {
    rmSync(ws, { recursive: true, force: true });
    rmSync(out.dir, { recursive: true, force: true });
  }
});

test('LSP: extra roots come from the client (user-level setting) at start and by notification', async () => {
  const h = hostileWorkspace();
  const s = await startServer(URI.file(h.ws).toString(), process.env, { allowedRoots: [h.out.recordsDir] });
  try {
    const rel = 'instructions/r-abs.medalign';
    const uri = URI.file(path.join(h.ws, rel)).toString();
    await s.open(uri, h.files[rel]);
    const allowed = await s.diagnostics(uri);
    assert.deepEqual(
      allowed.diagnostics.filter((d) => d.code === 'path-outside-workspace'),
      [],
      JSON.stringify(allowed.diagnostics),
    );
    // The user removes the root: the record is refused again.
    await s.connection.sendNotification('medalign/didChangeAllowedRoots', { roots: [] });
    await s.diagnostics(uri, (d) => d.diagnostics.some((x) => x.code === 'path-outside-workspace'));
  } finally {
    await s.close();
    h.cleanup();
  }
});

test('CLI run: a record or template outside the workspace is refused before anything runs', () => {
  const h = hostileWorkspace();
  try {
    for (const rel of Object.keys(h.files)) {
      const r = cliRun(h.ws, ['run', rel, '--model', 'baseline', '--trust']);
      assert.equal(r.status, 1, `${rel}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /outside the workspace folder/, rel);
      assert.ok(!(r.stdout + r.stderr).includes(SECRET) && !(r.stdout + r.stderr).includes(OTHER_PHI), rel);
    }
    assert.ok(!existsSync(path.join(h.ws, '.medalign/runs')), 'no run was saved');
    const allowed = cliRun(h.ws, [
      'run',
      'instructions/r-abs.medalign',
      '--model',
      'baseline',
      '--trust',
      '--allow-root',
      h.out.recordsDir,
    ]);
    assert.equal(allowed.status, 0, allowed.stderr);
  } finally {
    h.cleanup();
  }
});

// --- Item 6: trust -------------------------------------------------------------------------------

test('CLI run and batch export need trust in the folder: --trust, or the user-level trusted-folders file', () => {
  const ws = makeProjectDir('trust');
  const xdg = mkdtempSync(path.join(os.tmpdir(), 'medalign-xdg-'));
  try {
    writeFileSync(path.join(ws, 'instructions/a.medalign'), validInstruction(1));
    const env = { XDG_CONFIG_HOME: xdg };
    const args = ['run', 'instructions/a.medalign', '--model', 'baseline'];
    // No terminal, no --trust: refused, with how to trust; nothing ran.
    const refused = cliRun(ws, args, env);
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(refused.stderr, /is not a trusted folder/);
    assert.match(refused.stderr, /--trust/);
    assert.ok(!existsSync(path.join(ws, '.medalign')), 'nothing ran');
    const batch = cliRun(ws, ['batch', 'export', 'instructions/a.medalign', '--model', 'gpt-4o'], env);
    assert.equal(batch.status, 1, batch.stderr);
    assert.match(batch.stderr, /medalign batch export: .* is not a trusted folder/);
    // A "trusted-folders.json" the workspace ships is not the user's.
    mkdirSync(path.join(ws, 'cfg/medalign-studio'), { recursive: true });
    const claim = JSON.stringify({
      format: 'medalign-trusted-folders',
      version: 1,
      folders: [{ path: realpathSync(ws), trustedAt: '2025-01-01T00:00:00.000Z' }],
    });
    writeFileSync(path.join(ws, 'cfg/medalign-studio/trusted-folders.json'), claim);
    const inWs = cliRun(ws, args, { XDG_CONFIG_HOME: path.join(ws, 'cfg') });
    assert.equal(inWs.status, 1, inWs.stderr);
    // --trust: this command only; nothing is remembered.
    const once = cliRun(ws, [...args, '--trust'], env);
    assert.equal(once.status, 0, once.stderr);
    assert.ok(!existsSync(path.join(xdg, 'medalign-studio/trusted-folders.json')));
    // The user's file in their home trusts the folder (and the folders under it).
    mkdirSync(path.join(xdg, 'medalign-studio'), { recursive: true });
    writeFileSync(path.join(xdg, 'medalign-studio/trusted-folders.json'), claim);
    const trusted = cliRun(ws, args, env);
    assert.equal(trusted.status, 0, trusted.stderr);
    // check, count and pack never need trust.
    assert.equal(
      cliRun(ws, ['check', 'instructions'], { XDG_CONFIG_HOME: path.join(xdg, 'none') }).status,
      0,
    );
    assert.equal(
      cliRun(ws, ['pack', 'instructions/a.medalign'], { XDG_CONFIG_HOME: path.join(xdg, 'none') }).status,
      0,
    );
  } finally {
    rmSync(ws, { recursive: true, force: true });
    rmSync(xdg, { recursive: true, force: true });
  }
});

// --- Item 7: markdown from file text ------------------------------------------------------------

const LINK = '[click](command:workbench.action.terminal.new)';
const HTML = '<img src=x onerror=alert(1)>';

/** Markdown outside code spans (a code span shows its text literally: no link, no HTML). */
function outsideCodeSpans(md: string): string {
  let out = '';
  for (let i = 0; i < md.length;) {
    if (md[i] === '\\') {
      out += md.slice(i, i + 2);
      i += 2;
      continue;
    }
    if (md[i] === '`') {
      const run = /^`+/.exec(md.slice(i))![0];
      const close = md.indexOf(run, i + run.length);
      // A closing run of exactly the same length ends the span.
      let j = close;
      while (j >= 0 && (md[j + run.length] === '`' || (j > 0 && md[j - 1] === '`'))) {
        j = md.indexOf(run, j + 1);
      }
      if (j > 0) {
        i = j + run.length;
        continue;
      }
    }
    out += md[i];
    i++;
  }
  return out;
}

function assertInert(md: string, where: string): void {
  const text = outsideCodeSpans(md).replace(/\\./g, '');
  assert.ok(!/\]\(\s*<?command:/i.test(text), `live command link in ${where}: ${md}`);
  assert.ok(!/<[a-z!/?]/i.test(text), `raw HTML in ${where}: ${md}`);
}

test('LSP: hovers and completion documentation escape every file-controlled string', async () => {
  const config = {
    recordsFolder: 'records',
    defaults: { model: 'baseline', context: '32k', strategy: 'recent' },
    endpoints: [
      {
        id: `ep ${LINK} ${HTML}`,
        kind: 'openai-compatible',
        baseUrl: `http://127.0.0.1:9/v1/${LINK}${HTML}`,
        model: `m\`\`${LINK} ${HTML}`,
        contextWindow: 32768,
      },
    ],
  };
  const record = publicSampleXml.replace(
    'type="Emergency Room Visit"',
    `type="${LINK} &lt;img src=x onerror=alert(1)&gt;"`,
  );
  const ws = makeProjectDir('hostile-md', {
    'medalign.config.json': JSON.stringify(config),
    'records/1234555.xml': record,
    'templates/x.prompt': TEMPLATE.replace('{{instruction}}', `{{instruction}} {{${LINK}}}`),
  });
  const instruction = validInstruction(1)
    .replace('model: baseline', `model: ${JSON.stringify(config.endpoints[0].id)}`)
    .replace('tags: [stroke]', `tags: [stroke]\n"${LINK}${HTML}": 1`)
    .replace('template: ../templates/medalign.prompt', `template: "../templates/${LINK}.prompt"`);
  const s = await startServer(URI.file(ws).toString());
  try {
    const uri = URI.file(path.join(ws, 'instructions/a.medalign')).toString();
    await s.open(uri, instruction);
    await s.diagnostics(uri);
    const lines = instruction.split('\n');
    const at = (prefix: string, character = 1) => ({
      line: lines.findIndex((l) => l.startsWith(prefix)),
      character,
    });
    const hovers: [string, { line: number; character: number }][] = [
      ['model value', at('model:', 8)],
      ['unknown key', at('"[click]', 2)],
      ['template value', at('template:', 12)],
      ['patient value', at('patient:', 10)],
      ['context value', at('context:', 10)],
      ['instruction heading', at('## Instruction', 4)],
    ];
    for (const [what, position] of hovers) {
      assert.ok(position.line >= 0, what);
      const h: Hover | null = await s.connection.sendRequest(HoverRequest.type, {
        textDocument: { uri },
        position,
      });
      assert.ok(h, `no hover on ${what}`);
      assertInert((h.contents as MarkupContent).value, what);
    }
    // The model's hover really shows the endpoint (escaped, not dropped).
    const modelHover: Hover | null = await s.connection.sendRequest(HoverRequest.type, {
      textDocument: { uri },
      position: at('model:', 8),
    });
    assert.match((modelHover!.contents as MarkupContent).value, /base URL: http:\/\/127\.0\.0\.1:9\/v1\//);

    const completion: CompletionList | CompletionItem[] | null = await s.connection.sendRequest(
      CompletionRequest.type,
      {
        textDocument: { uri },
        position: { line: at('model:').line, character: lines[at('model:').line].length },
      },
    );
    const items = Array.isArray(completion) ? completion : (completion?.items ?? []);
    const ep = items.find((i) => i.label === config.endpoints[0].id);
    assert.ok(ep, JSON.stringify(items.map((i) => i.label)));
    for (const i of items) {
      const doc = i.documentation;
      if (doc) assertInert(typeof doc === 'string' ? doc : doc.value, `completion ${i.label}`);
    }

    // A record file: the visit type comes from the record's text.
    const recordUri = URI.file(path.join(ws, 'records/1234555.xml')).toString();
    await s.open(recordUri, record, 'xml');
    const visitLine = record.split('\n').findIndex((l) => l.includes('<visit '));
    const rh: Hover | null = await s.connection.sendRequest(HoverRequest.type, {
      textDocument: { uri: recordUri },
      position: { line: visitLine, character: 6 },
    });
    assert.ok(rh, 'no hover on the visit');
    assertInert((rh.contents as MarkupContent).value, 'record visit');
    assert.match((rh.contents as MarkupContent).value, /command:workbench/);

    // A template: an unknown placeholder's name.
    const tUri = URI.file(path.join(ws, 'templates/x.prompt')).toString();
    const tText = readFileSync(path.join(ws, 'templates/x.prompt'), 'utf8');
    await s.open(tUri, tText, 'medalign-prompt');
    const tLines = tText.split('\n');
    const tLine = tLines.findIndex((l) => l.includes('[click]'));
    const th: Hover | null = await s.connection.sendRequest(HoverRequest.type, {
      textDocument: { uri: tUri },
      position: { line: tLine, character: tLines[tLine].indexOf('[click]') + 2 },
    });
    assert.ok(th, 'no hover on the placeholder');
    assertInert((th.contents as MarkupContent).value, 'template placeholder');
  } finally {
    await s.close();
    rmSync(ws, { recursive: true, force: true });
  }
});
