/**
 * What `run` and `batch` collect before they start: the instruction files under the paths given,
 * and the keys the command can hold (so everything it prints is redacted of them).
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { CONFIG_FILE_NAME, parseConfig } from '../core/workspace/config';
import { INSTRUCTION_EXT } from '../core/workspace/workspace';
import { UsageError } from './args';

const SKIP = new Set(['node_modules', '.git', '.medalign', 'out', 'dist']);

/** `.medalign` files under the given paths (files as given, folders searched), sorted. */
export async function collectInstructionFiles(paths: readonly string[], cwd: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (p: string): Promise<void> => {
    let st;
    try {
      st = await fsp.stat(p);
    } catch {
      throw new UsageError(`no such file or folder: ${path.relative(cwd, p) || p}`);
    }
    if (st.isFile()) {
      out.push(p);
      return;
    }
    for (const e of await fsp.readdir(p, { withFileTypes: true })) {
      if (e.isDirectory() && !SKIP.has(e.name) && !e.name.startsWith('.')) await walk(path.join(p, e.name));
      else if (e.isFile() && e.name.endsWith(INSTRUCTION_EXT)) out.push(path.join(p, e.name));
    }
  };
  for (const p of paths) await walk(path.resolve(cwd, p));
  return [...new Set(out)].sort();
}

/**
 * The keys this command can hold: the environment variables named by `apiKeyEnv` in the configs of
 * `roots`. Everything the CLI prints or exports is redacted of them (and of fragments of them).
 */
export async function knownKeys(roots: Iterable<string>, env: NodeJS.ProcessEnv): Promise<string[]> {
  const keys = new Set<string>();
  for (const root of roots) {
    const text = await fsp.readFile(path.join(root, CONFIG_FILE_NAME), 'utf8').catch(() => undefined);
    for (const e of parseConfig(text).config.endpoints) {
      const k = e.apiKeyEnv !== undefined ? env[e.apiKeyEnv] : undefined;
      if (k !== undefined && k !== '') keys.add(k);
    }
  }
  return [...keys];
}
