import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { MemFs } from './memfs';
import { Workspace } from '../../engine/src/core/workspace/workspace';
import { getLanguageService } from '../../engine/src/core/languageService';

/** The repo root, from out/test/helpers or test/helpers. */
export const repoRoot = path.resolve(
  __dirname,
  __dirname.includes(`${path.sep}out${path.sep}`) ? '../../..' : '../..',
);

/**
 * `cpSync` filter for copies of samples/: skips `.medalign` folders (runs saved there by `npm start`
 * or a test would otherwise leak into the copy and change what it holds).
 */
export const withoutRuns = (src: string): boolean => path.basename(src) !== '.medalign';

export const publicSampleXml = readFileSync(path.join(repoRoot, 'samples/records/1234555.xml'), 'utf8');

export const CONFIG = JSON.stringify({
  recordsFolder: 'records',
  defaults: { model: 'baseline', context: '32k', strategy: 'recent', template: 'templates/medalign.prompt' },
  endpoints: [
    {
      id: 'local-vllm',
      kind: 'openai-compatible',
      baseUrl: 'http://127.0.0.1:8000/v1',
      model: 'llama',
      contextWindow: 32768,
    },
    { id: 'gpt-4o', kind: 'openai', model: 'gpt-4o', contextWindow: 128000, encoding: 'o200k_base' },
  ],
});

export const TEMPLATE = '---\nname: t\n---\n## user\nEHR: {{ehr}}\n\nQuestion: {{instruction}}\n\nAnswer:\n';

export function validInstruction(id: string | number = 7222697931, extra = ''): string {
  return `---
id: ${id}
patient: 1234555
category: retrieve medication information
model: baseline
context: 32k
strategy: recent
template: ../templates/medalign.prompt
tags: [stroke]
${extra}---

## Instruction
Which antihypertensives were given in the ED?

## Gold response
Labetalol 5 mg IV.
`;
}

/** A workspace at file:///ws with a config, the public sample as records/1234555.xml and a template. */
export async function makeWorkspace(extra: Record<string, string> = {}) {
  const fs = new MemFs({
    'medalign.config.json': CONFIG,
    'records/1234555.xml': publicSampleXml,
    'templates/medalign.prompt': TEMPLATE,
    ...extra,
  });
  const ws = new Workspace(fs, 'file:///ws');
  await ws.loadConfig();
  await ws.scan();
  const service = getLanguageService(fs);
  let version = 1;
  const doc = (path: string, text: string) => {
    const uri = MemFs.uri(path);
    ws.updateInstruction(uri, text);
    return TextDocument.create(uri, 'medalign', version++, text);
  };
  return { fs, ws, service, doc };
}

/**
 * A project on disk for process-level tests: a temp folder with the config, the public sample as
 * records/1234555.xml, templates/medalign.prompt, an instructions/ folder, and `extra` files.
 */
export function makeProjectDir(prefix: string, extra: Record<string, string> = {}): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `medalign-${prefix}-`));
  const files: Record<string, string> = {
    'medalign.config.json': CONFIG,
    'records/1234555.xml': publicSampleXml,
    'templates/medalign.prompt': TEMPLATE,
    ...extra,
  };
  mkdirSync(path.join(dir, 'instructions'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}
