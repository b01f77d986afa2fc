/**
 * The run engine's public API, for the VS Code extension (bundled into dist/client.js and called
 * in-process) and any other host. See docs/runs.md.
 *
 * Typical editor flow:
 *
 * ```ts
 * const preparer = new RunPreparer();                        // one per window: caches records and counts
 * const p = await preparer.prepare({ file, text: doc.getText(), model, context, workspaceRoot });
 * if (!p.ok) return show(p.error.message);
 * const out = await executeRun(p.run, {
 *   apiKey: await secrets.get(keyName(endpoint)),              // the editor's: `medalign.key.<id>@<origin>`
 *   keySource: "the key set with 'MedAlign: Set API Key'",
 *   approval: (q) => userApproved(q),                         // user-level state only, never the workspace
 *   signal, onText: (delta) => view.append(delta),
 * });
 * if (out.status === 'refused') offerApproval(out.approval!, out.error!.message);
 * ```
 */
export type { RunJob, RunPlan, PreparedRun, PlanResult, PrepareResult } from './run/prepare';
export { RunPreparer, sha256, draftOf, withPack } from './run/prepare';
export type { ExecuteOptions, RunOutcome, OutcomeStatus, RunEvent } from './run/runner';
export { executeRun } from './run/runner';
export type { RunManyOptions, JobResult, JobStatus, Progress } from './run/runMany';
export { runMany } from './run/runMany';
export type { StoredRun, StoredSummary } from './run/store';
export { RunStore, ensureMedalignDir, writeFileAtomic } from './run/store';
export { appendAudit, auditLogPath, readAudit } from './run/audit';
export type { ApprovalChecker } from './run/approvals';
export { APPROVALS_ENV, FileApprovals, approvalsFilePath, cliApprovalChecker } from './run/approvals';
export type { ChatCall, ChatSuccess, ClientTimeouts, FetchLike } from './run/modelClient';
export { DEFAULT_TIMEOUTS, ModelCallError, callChat, guardedFetch } from './run/modelClient';

export type { ApprovalQuery, GuardDecision, EndpointTarget } from './core/run/guard';
export { approvalKey, approvalQuery, endpointTarget, guardEndpoint, isLoopbackHost } from './core/run/guard';
export type { RunError, RunErrorKind } from './core/run/errors';
export type { RetryPolicy } from './core/run/retry';
export { DEFAULT_RETRY_POLICY } from './core/run/retry';
export type { RunRecord, RunStatus, RunSummary, AuditEntry } from './core/run/runRecord';
export { MEDALIGN_DIR, RUNS_DIR, AUDIT_LOG, parseRunRecord, summarizeRun } from './core/run/runRecord';
export { BASELINE_LABEL, baselineAnswer } from './core/run/baseline';
export type { ExportRow } from './core/run/export';
export { exportRow, rowsToCsv, rowsToJsonl } from './core/run/export';
