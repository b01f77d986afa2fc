/**
 * An endpoint's `tokenizer` setting (medalign.config.json) as the tokenizer that counts for it:
 *
 * - absent: the endpoint's `encoding`, else the model name's OpenAI encoding, else an estimate
 *   (tokens/models.ts);
 * - `cl100k_base` | `o200k_base`: that encoding, with OpenAI's chat overhead;
 * - `hf:<path>`: a Hugging Face `tokenizer.json`, or a folder holding one (and, next to it,
 *   `tokenizer_config.json`: its chat template, bos and eos tokens), relative to the project and
 *   inside its bounds as records are (bounds.ts). Read here through the FileSystem (the host's),
 *   registered by content (tokens/tokenizer.ts) and kept until the file changes (mtime and size);
 * - `server`: the endpoint's own `/tokenize` route. Nothing is sent from here: the choice says
 *   `server: true` and names the local fallback that estimates meanwhile; the program asks the
 *   server through the workspace's `serverTokenize` (tokens/serverCounts.ts) where the PHI guard
 *   allows it, and `medalign count` / `--verify` send it after the CLI's trust and PHI checks.
 */
import type { FileSystem } from '../host';
import { renderChatTemplate } from '../tokens/chat';
import { parseHfChatConfig } from '../tokens/hf';
import type { TokenizerChoice } from '../tokens/models';
import { tokenizerForModel } from '../tokens/models';
import { registerHfTokenizer } from '../tokens/tokenizer';
import { dirname, joinPath, resolvePath } from '../util/uri';
import type { EndpointConfig } from './config';
import type { Workspace } from './workspace';

export type EndpointTokenizer = { ok: true; tokenizer: TokenizerChoice } | { ok: false; message: string };

export const TOKENIZER_FILE = 'tokenizer.json';
export const TOKENIZER_CONFIG_FILE = 'tokenizer_config.json';

interface Cached {
  version: string;
  result: EndpointTokenizer;
}

const cache = new WeakMap<FileSystem, Map<string, Cached>>();

/** The tokenizer an endpoint counts with, or why its `tokenizer` setting cannot be used. */
export async function resolveEndpointTokenizer(
  endpoint: EndpointConfig,
  workspace: Workspace,
  fs: FileSystem,
): Promise<EndpointTokenizer> {
  const setting = endpoint.tokenizer;
  if (setting === 'cl100k_base' || setting === 'o200k_base') {
    return {
      ok: true,
      tokenizer: { encoding: setting, estimated: false, source: 'endpoint', chat: { kind: 'openai' } },
    };
  }
  const inferred = tokenizerForModel(endpoint.model, endpoint.encoding);
  if (setting === 'server') {
    return {
      ok: true,
      tokenizer: {
        ...inferred,
        estimated: true,
        server: true,
        label: `server /tokenize; estimate here: ${inferred.encoding}`,
      },
    };
  }
  if (setting === undefined || !setting.startsWith('hf:')) return { ok: true, tokenizer: inferred };
  return loadHf(setting, setting.slice(3).trim(), endpoint, workspace, fs);
}

async function loadHf(
  setting: string,
  path: string,
  endpoint: EndpointConfig,
  workspace: Workspace,
  fs: FileSystem,
): Promise<EndpointTokenizer> {
  const fail = (message: string): EndpointTokenizer => ({
    ok: false,
    message: `Endpoint '${endpoint.id}': tokenizer ${setting}: ${message}`,
  });
  if (path === '') return fail('no path after `hf:`.');
  const target = resolvePath(workspace.root, path);
  const outside = await workspace.checkBounds(target, 'tokenizer');
  if (outside) return fail(outside.message);
  const st = await fs.stat(target);
  if (st === undefined) return fail(`${workspace.label(target)} does not exist.`);
  const isDir = st.type === 'directory';
  const jsonUri = isDir ? joinPath(target, TOKENIZER_FILE) : target;
  const configUri = joinPath(isDir ? target : dirname(target), TOKENIZER_CONFIG_FILE);
  const [jsonStat, configStat] = await Promise.all([fs.stat(jsonUri), fs.stat(configUri)]);
  if (jsonStat === undefined) return fail(`${workspace.label(target)} holds no ${TOKENIZER_FILE}.`);
  const version = `${jsonUri}:${jsonStat.mtime}:${jsonStat.size}|${configStat ? `${configStat.mtime}:${configStat.size}` : '-'}`;
  let perFs = cache.get(fs);
  if (perFs === undefined) cache.set(fs, (perFs = new Map<string, Cached>()));
  const hit = perFs.get(setting + '\n' + workspace.root);
  if (hit !== undefined && hit.version === version) return hit.result;
  const result = await readHf(path, jsonUri, configStat ? configUri : undefined, workspace, fs, fail);
  if (perFs.size > 32) perFs.clear();
  perFs.set(setting + '\n' + workspace.root, { version, result });
  return result;
}

async function readHf(
  path: string,
  jsonUri: string,
  configUri: string | undefined,
  workspace: Workspace,
  fs: FileSystem,
  fail: (m: string) => EndpointTokenizer,
): Promise<EndpointTokenizer> {
  if ((await workspace.checkBounds(jsonUri, 'tokenizer')) !== undefined) {
    return fail(`${workspace.label(jsonUri)} is outside the workspace.`);
  }
  const json = await fs.readFile(jsonUri);
  if (json === undefined) return fail(`${workspace.label(jsonUri)} cannot be read.`);
  let config: string | undefined;
  if (configUri !== undefined && (await workspace.checkBounds(configUri, 'tokenizer')) === undefined) {
    config = await fs.readFile(configUri);
  }
  try {
    const name = registerHfTokenizer(config === undefined ? { json } : { json, config });
    const chatConfig = parseHfChatConfig(config);
    const tokenizer: TokenizerChoice = {
      encoding: name,
      estimated: false,
      source: 'endpoint',
      label: `hf:${path}`,
      chat:
        chatConfig.chatTemplate === undefined
          ? { kind: 'none' }
          : {
              kind: 'template',
              template: chatConfig.chatTemplate,
              ...(chatConfig.bosToken !== undefined ? { bosToken: chatConfig.bosToken } : {}),
              ...(chatConfig.eosToken !== undefined ? { eosToken: chatConfig.eosToken } : {}),
            },
    };
    // A template that cannot render fails here, once, with its reason (not in every pack).
    if (tokenizer.chat?.kind === 'template')
      renderChatTemplate(tokenizer.chat, [{ role: 'user', content: 'x' }]);
    return { ok: true, tokenizer };
  } catch (err) {
    return fail((err as Error).message);
  }
}
