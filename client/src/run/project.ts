/**
 * What the run-lens needs to know about an instruction without packing anything: its project root
 * (where `.medalign/runs/` goes, found the same way as the run engine), the project's config
 * (endpoints, defaults), and the instruction's id, model, context and gold response from its text.
 * Cheap enough for CodeLens and the status bar: the config is re-read only when it changes on disk.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { parseInstruction, sectionText } from '../../../engine/src/core/format/parse';
import type { InstructionFile } from '../../../engine/src/core/format/parse';
import { SECTION_GOLD, SECTION_INSTRUCTION } from '../../../engine/src/core/features/sections';
import { normalizeId } from '../../../engine/src/core/workspace/idIndex';
import { findProjectRoot } from '../../../engine/src/core/workspace/workspace';
import { BASELINE_MODEL, CONFIG_FILE_NAME, parseConfig } from '../../../engine/src/core/workspace/config';
import type { EndpointConfig, ProjectConfig } from '../../../engine/src/core/workspace/config';
import { endpointTarget } from '../../../engine/src/core/run/guard';
import { nodeFileSystem } from '../../../engine/src/node/nodeFileSystem';

export { BASELINE_MODEL };

/** The project folder of an instruction file: the nearest folder up holding medalign.config.json,
 * else the file's parent's parent (the engine's rule, so runs are looked up where they are saved). */
export async function projectRootOf(file: string): Promise<string> {
  const found = await findProjectRoot(nodeFileSystem, vscode.Uri.file(file).toString());
  return found !== undefined ? vscode.Uri.parse(found).fsPath : path.dirname(path.dirname(file));
}

interface CachedConfig {
  version: string;
  config: ProjectConfig;
}

const configs = new Map<string, CachedConfig>();

/** The project's config (defaults filled in), re-read when the file changed. */
export async function projectConfig(root: string): Promise<ProjectConfig> {
  const file = path.join(root, CONFIG_FILE_NAME);
  const st = await fsp.stat(file).catch(() => undefined);
  const version = st ? `${st.mtimeMs}:${st.size}` : 'none';
  const hit = configs.get(root);
  if (hit && hit.version === version) return hit.config;
  const text = st ? await fsp.readFile(file, 'utf8').catch(() => undefined) : undefined;
  const config = parseConfig(text).config;
  configs.set(root, { version, config });
  return config;
}

/** Where an endpoint's requests go (`undefined` when its baseUrl is unusable). */
export function endpointOrigin(
  e: EndpointConfig,
): { origin: string; host: string; loopback: boolean } | undefined {
  const t = endpointTarget(e);
  return t.ok ? { origin: t.target.origin, host: t.target.host, loopback: t.target.loopback } : undefined;
}

/** Per-window choices that override the front matter until the window closes. */
export interface Overrides {
  model?: string;
  context?: string;
}

export interface InstructionInfo {
  uri: vscode.Uri;
  file: string;
  root: string;
  config: ProjectConfig;
  parsed: InstructionFile;
  /** `undefined` when the front matter has no usable id. */
  id?: string;
  /** The effective model and context label (override, else front matter, else config defaults). */
  model: string;
  context: string;
  /** Where each came from, for the status bar's tooltip. */
  modelFrom: 'window' | 'file' | 'default';
  contextFrom: 'window' | 'file' | 'default';
  /** Line of the `## Instruction` heading, if any. */
  instructionLine?: number;
  gold: string;
}

const parses = new Map<string, { version: number; parsed: InstructionFile }>();

function parseCached(doc: vscode.TextDocument): InstructionFile {
  const key = doc.uri.toString();
  const hit = parses.get(key);
  if (hit && hit.version === doc.version) return hit.parsed;
  const parsed = parseInstruction(doc.getText());
  parses.set(key, { version: doc.version, parsed });
  if (parses.size > 32) parses.delete(parses.keys().next().value!);
  return parsed;
}

/** Everything the lens and the status bar show for an instruction document. */
export async function instructionInfo(
  doc: vscode.TextDocument,
  overrides: Overrides = {},
): Promise<InstructionInfo> {
  const file = doc.uri.fsPath;
  const root = await projectRootOf(file);
  const config = await projectConfig(root);
  const parsed = parseCached(doc);
  const data = parsed.data ?? {};
  const fmModel = typeof data['model'] === 'string' && data['model'] !== '' ? data['model'] : undefined;
  const rawContext = data['context'];
  const fmContext =
    typeof rawContext === 'string' && rawContext.trim() !== ''
      ? rawContext.trim()
      : typeof rawContext === 'number'
        ? String(rawContext)
        : undefined;
  const section = parsed.sections.find((s) => s.name === SECTION_INSTRUCTION);
  const gold = parsed.sections.find((s) => s.name === SECTION_GOLD);
  const info: InstructionInfo = {
    uri: doc.uri,
    file,
    root,
    config,
    parsed,
    model: overrides.model ?? fmModel ?? config.defaults.model,
    context: overrides.context ?? fmContext ?? String(config.defaults.context),
    modelFrom: overrides.model !== undefined ? 'window' : fmModel !== undefined ? 'file' : 'default',
    contextFrom: overrides.context !== undefined ? 'window' : fmContext !== undefined ? 'file' : 'default',
    gold: gold ? sectionText(parsed, gold).trim() : '',
  };
  const id = normalizeId(data['id']);
  if (id !== undefined) info.id = id;
  if (section) info.instructionLine = doc.positionAt(section.heading.start).line;
  return info;
}

/** The instruction document for a command argument (a URI, its string, or the active editor). */
export async function instructionDocument(arg: unknown): Promise<vscode.TextDocument | undefined> {
  let uri: vscode.Uri | undefined;
  if (arg instanceof vscode.Uri) uri = arg;
  else if (typeof arg === 'string' && arg !== '')
    uri = arg.includes(':') && !/^[A-Za-z]:[\\/]/.test(arg) ? vscode.Uri.parse(arg) : vscode.Uri.file(arg);
  else uri = vscode.window.activeTextEditor?.document.uri;
  if (!uri || !uri.path.endsWith('.medalign')) return undefined;
  return vscode.workspace.openTextDocument(uri);
}

/** Project roots in the open folders: every folder holding medalign.config.json, else the workspace folders. */
export async function workspaceProjects(): Promise<string[]> {
  const found = await vscode.workspace.findFiles(
    `**/${CONFIG_FILE_NAME}`,
    '{**/node_modules/**,**/.medalign/**,**/.git/**}',
    50,
  );
  const roots = found.filter((u) => u.scheme === 'file').map((u) => path.dirname(u.fsPath));
  if (roots.length > 0) return [...new Set(roots)].sort();
  return (vscode.workspace.workspaceFolders ?? [])
    .filter((f) => f.uri.scheme === 'file')
    .map((f) => f.uri.fsPath);
}

/** The endpoints of the active instruction's project first, then of every other project in the window. */
export async function knownEndpoints(): Promise<{ root: string; endpoint: EndpointConfig }[]> {
  const active = vscode.window.activeTextEditor?.document;
  const roots = [
    ...(active && active.uri.scheme === 'file' && active.uri.path.endsWith('.medalign')
      ? [await projectRootOf(active.uri.fsPath)]
      : []),
    ...(await workspaceProjects()),
  ];
  const out: { root: string; endpoint: EndpointConfig }[] = [];
  const seen = new Set<string>();
  for (const root of roots) {
    for (const endpoint of (await projectConfig(root)).endpoints) {
      const k = `${endpoint.id} ${endpointOrigin(endpoint)?.origin ?? ''}`;
      if (seen.has(k)) continue;
      seen.add(k);
      out.push({ root, endpoint });
    }
  }
  return out;
}
