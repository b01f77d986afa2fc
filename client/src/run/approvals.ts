/**
 * The user's approvals of endpoints for patient records (PHI), kept in VS Code's **user-level**
 * state (`ExtensionContext.globalState`, not synced), never in the workspace or settings. An approval
 * is for an endpoint id at one origin (a workspace cannot re-point an approved id elsewhere), and is
 * given only through a modal confirmation that names the endpoint id and origin.
 */
import * as vscode from 'vscode';
import type { ApprovalEntry, ApprovalQuery } from '../../../engine/src';
import { approvalQuery, isApprovedBy, withApproval } from '../../../engine/src';
import { knownEndpoints } from './project';

export const APPROVE_COMMAND = 'medalign.approveEndpoint';
export const REVOKE_COMMAND = 'medalign.revokeApprovals';
const STATE_KEY = 'medalign.phiApprovals';

function isEntry(x: unknown): x is ApprovalEntry {
  if (x === null || typeof x !== 'object') return false;
  const e = x as Record<string, unknown>;
  return typeof e['endpointId'] === 'string' && typeof e['origin'] === 'string';
}

export class Approvals {
  constructor(
    private readonly state: vscode.Memento,
    /** Only in the extension's test mode may a caller skip the modal (see `confirm`). */
    private readonly testMode: boolean,
  ) {}

  entries(): ApprovalEntry[] {
    const raw = this.state.get<unknown>(STATE_KEY);
    return Array.isArray(raw) ? raw.filter(isEntry) : [];
  }

  isApproved(q: ApprovalQuery): boolean {
    return isApprovedBy(this.entries(), q);
  }

  /** The engine's approval checker: answers from user-level state only, never asks. */
  readonly checker = (q: ApprovalQuery): boolean => this.isApproved(q);

  /**
   * Asks the user (modal, naming the endpoint id and origin) and stores the approval when given.
   * `skipConfirmation` is honoured only when the extension runs its tests.
   */
  async confirm(q: ApprovalQuery, skipConfirmation = false): Promise<boolean> {
    if (this.isApproved(q)) return true;
    if (!(skipConfirmation && this.testMode)) {
      const approve = `Approve '${q.endpointId}' at ${q.origin}`;
      const answer = await vscode.window.showWarningMessage(
        `Send patient records (PHI) to '${q.endpointId}' at ${q.origin}?`,
        {
          modal: true,
          detail:
            `Every run on '${q.endpointId}' will send the patient record packed into its prompt to ${q.origin}. ` +
            'Approve only if your data use agreement allows sending records there.\n\n' +
            `The approval is kept for your user account (not in the workspace) and covers '${q.endpointId}' at ` +
            `${q.origin} only. 'MedAlign: Revoke Endpoint Approvals' takes it back.`,
        },
        approve,
      );
      if (answer !== approve) return false;
    }
    await this.state.update(STATE_KEY, withApproval(this.entries(), q, new Date()));
    return true;
  }

  async revoke(filter: (e: ApprovalEntry) => boolean): Promise<number> {
    const before = this.entries();
    const after = before.filter((e) => !filter(e));
    await this.state.update(STATE_KEY, after);
    return before.length - after.length;
  }
}

function isQuery(x: unknown): x is ApprovalQuery {
  if (x === null || typeof x !== 'object') return false;
  const q = x as Record<string, unknown>;
  return (
    typeof q['endpointId'] === 'string' && typeof q['origin'] === 'string' && typeof q['host'] === 'string'
  );
}

/**
 * What to approve for an endpoint id of the current project(s) (at `origin`, when given: the
 * endpoint a refused run named); `undefined` when it needs no approval or is not configured.
 */
async function queryFor(endpointId: string, origin?: string): Promise<ApprovalQuery | undefined> {
  for (const { endpoint } of await knownEndpoints()) {
    if (endpoint.id !== endpointId) continue;
    const q = approvalQuery(endpoint.id, endpoint);
    if (q && (origin === undefined || q.origin === origin)) return q;
  }
  return undefined;
}

export function registerApprovalCommands(approvals: Approvals): vscode.Disposable[] {
  return [
    /**
     * `medalign.approveEndpoint([endpoint id | ApprovalQuery], [{ skipConfirmation }])`. Without an
     * argument, offers the project's endpoints that are not on this machine. Resolves to true when
     * the endpoint is approved.
     */
    vscode.commands.registerCommand(APPROVE_COMMAND, async (arg?: unknown, opts?: unknown) => {
      const skip =
        opts !== null &&
        typeof opts === 'object' &&
        (opts as { skipConfirmation?: unknown }).skipConfirmation === true;
      let q: ApprovalQuery | undefined;
      if (isQuery(arg)) {
        // Re-derived from the config, so a caller cannot approve an origin the endpoint does not use.
        q = await queryFor(arg.endpointId, arg.origin);
      } else if (typeof arg === 'string') {
        q = await queryFor(arg);
      } else {
        const items: (vscode.QuickPickItem & { q: ApprovalQuery })[] = [];
        for (const { endpoint } of await knownEndpoints()) {
          const eq = approvalQuery(endpoint.id, endpoint);
          if (!eq) continue;
          items.push({
            label: endpoint.id,
            description: eq.origin,
            detail: approvals.isApproved(eq) ? 'approved for patient data' : 'not approved',
            q: eq,
          });
        }
        if (items.length === 0) {
          void vscode.window.showInformationMessage(
            'MedAlign: every endpoint in medalign.config.json is on this machine (or baseline); none needs approval.',
          );
          return false;
        }
        q = (
          await vscode.window.showQuickPick(items, {
            title: 'MedAlign: Approve an endpoint for patient data',
          })
        )?.q;
      }
      if (!q) return false;
      return approvals.confirm(q, skip);
    }),
    vscode.commands.registerCommand(REVOKE_COMMAND, async () => {
      const entries = approvals.entries();
      if (entries.length === 0) {
        void vscode.window.showInformationMessage('MedAlign: no endpoint is approved for patient data.');
        return 0;
      }
      const picked = await vscode.window.showQuickPick(
        entries.map((e) => ({
          label: e.endpointId,
          description: e.origin,
          detail: `approved ${e.approvedAt}`,
          e,
        })),
        { title: 'MedAlign: Revoke approvals for patient data', canPickMany: true },
      );
      if (!picked || picked.length === 0) return 0;
      const n = await approvals.revoke((e) =>
        picked.some((p) => p.e.endpointId === e.endpointId && p.e.origin === e.origin),
      );
      void vscode.window.showInformationMessage(`MedAlign: revoked ${n} approval(s).`);
      return n;
    }),
  ];
}
