/**
 * API keys, only in VS Code's SecretStorage (never settings, files, logs or run records). A key is
 * stored under a name derived from the endpoint id **and the origin** its requests go to, so a
 * workspace that re-points an endpoint id at another address does not inherit the key.
 */
import * as vscode from 'vscode';
import type { EndpointConfig } from '../../../engine/src';
import { endpointNeedsKey } from '../../../engine/src';
import { endpointOrigin, knownEndpoints } from './project';

export const SET_KEY_COMMAND = 'medalign.setApiKey';
export const CLEAR_KEY_COMMAND = 'medalign.clearApiKey';

export class ApiKeys {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly secrets: vscode.SecretStorage) {}

  /** `medalign.key.<endpoint id>@<origin>`. */
  static storageKey(e: EndpointConfig): string {
    return `medalign.key.${e.id}@${endpointOrigin(e)?.origin ?? 'invalid'}`;
  }

  async get(e: EndpointConfig): Promise<string | undefined> {
    const k = await this.secrets.get(ApiKeys.storageKey(e));
    return k !== undefined && k !== '' ? k : undefined;
  }

  async has(e: EndpointConfig): Promise<boolean> {
    return (await this.get(e)) !== undefined;
  }

  async set(e: EndpointConfig, key: string): Promise<void> {
    await this.secrets.store(ApiKeys.storageKey(e), key);
    this.changed.fire();
  }

  async delete(e: EndpointConfig): Promise<void> {
    await this.secrets.delete(ApiKeys.storageKey(e));
    this.changed.fire();
  }

  /** For the engine's message when a key is missing or refused. */
  static keySource(e: EndpointConfig): string {
    return `the key set for '${e.id}' with 'MedAlign: Set API Key'`;
  }

  dispose(): void {
    this.changed.dispose();
  }
}

async function pickEndpoint(
  keys: ApiKeys,
  title: string,
  onlyWithKey: boolean,
): Promise<EndpointConfig | undefined> {
  const all = await knownEndpoints();
  const items: (vscode.QuickPickItem & { endpoint: EndpointConfig })[] = [];
  for (const { endpoint } of all) {
    const has = await keys.has(endpoint);
    if (onlyWithKey && !has) continue;
    const where = endpointOrigin(endpoint);
    items.push({
      label: endpoint.id,
      description: `${endpoint.kind} · ${where?.host ?? 'no valid baseUrl'}`,
      detail: has
        ? '$(key) a key is set'
        : endpointNeedsKey(endpoint)
          ? 'no key set (this endpoint needs one)'
          : 'no key set (optional for this server)',
      endpoint,
    });
  }
  if (items.length === 0) {
    void vscode.window.showInformationMessage(
      onlyWithKey
        ? 'MedAlign: no API key is set for the endpoints in medalign.config.json.'
        : 'MedAlign: medalign.config.json has no endpoints. Add one under "endpoints" first.',
    );
    return undefined;
  }
  return (
    await vscode.window.showQuickPick(items, { title, placeHolder: 'Endpoint (from medalign.config.json)' })
  )?.endpoint;
}

async function endpointById(id: string): Promise<EndpointConfig | undefined> {
  return (await knownEndpoints()).find((e) => e.endpoint.id === id)?.endpoint;
}

/** `MedAlign: Set API Key` (pick an endpoint, type the key in a password box) and `Clear API Key`. */
export function registerKeyCommands(keys: ApiKeys): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand(SET_KEY_COMMAND, async (endpointId?: unknown, key?: unknown) => {
      const endpoint =
        typeof endpointId === 'string'
          ? await endpointById(endpointId)
          : await pickEndpoint(keys, 'MedAlign: Set API Key', false);
      if (!endpoint) {
        if (typeof endpointId === 'string')
          void vscode.window.showErrorMessage(
            `MedAlign: no endpoint '${endpointId}' in medalign.config.json.`,
          );
        return false;
      }
      const where = endpointOrigin(endpoint);
      const value =
        typeof key === 'string'
          ? key
          : await vscode.window.showInputBox({
              title: `MedAlign: API key for '${endpoint.id}'`,
              prompt: `Kept in VS Code's secret storage for '${endpoint.id}' at ${where?.origin ?? 'its baseUrl'}; never written to a file.`,
              password: true,
              ignoreFocusOut: true,
              validateInput: (v) => (v.trim() === '' ? 'Type the key, or press Escape.' : undefined),
            });
      if (value === undefined || value.trim() === '') return false;
      await keys.set(endpoint, value.trim());
      void vscode.window.showInformationMessage(
        `MedAlign: API key for '${endpoint.id}' saved in secret storage.`,
      );
      return true;
    }),
    vscode.commands.registerCommand(CLEAR_KEY_COMMAND, async (endpointId?: unknown) => {
      const endpoint =
        typeof endpointId === 'string'
          ? await endpointById(endpointId)
          : await pickEndpoint(keys, 'MedAlign: Clear API Key', true);
      if (!endpoint) return false;
      await keys.delete(endpoint);
      void vscode.window.showInformationMessage(`MedAlign: API key for '${endpoint.id}' removed.`);
      return true;
    }),
  ];
}
