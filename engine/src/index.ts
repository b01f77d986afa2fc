/**
 * The engine's public module: everything the VS Code extension host executes, and the only engine
 * module the client may import (ESLint enforces it, with server/src/protocol.ts for the requests).
 * It holds what must live in the extension host: the model client (HTTP), the runner (guard, audit,
 * retries, streaming, the run store), the matrix/"Run All" queue, and the pure pieces the UI needs
 * (approval queries, endpoint targets, run records). It carries no tokenizer and no record parser:
 * the language server resolves and packs every run (`medalign/prepareRun`) and counts tokens
 * (`medalign/countTokens`). The CLI uses the same modules in-process, with host/prepare.ts for
 * the resolution. See docs/runs.md.
 *
 * Editor flow:
 *
 * ```ts
 * const p = await server.sendRequest(PrepareRunRequest.type, { uri, text: doc.getText(), overrides });
 * if (!p.ok) return show(p.error.message);
 * const out = await executeRun(p.run, {
 *   apiKey: await secrets.get(keyName(endpoint)),              // `medalign.key.<id>@<origin>`
 *   approval: (q) => userApproved(q),                         // user-level state only, never the workspace
 *   countTokens: (text, encoding) => server.sendRequest(CountTokensRequest.type, { text, encoding }),
 *   signal, onText: (delta) => view.append(delta),
 * });
 * if (out.status === 'refused') offerApproval(out.approval!, out.error!.message);
 * ```
 */
export type {
  RunJob,
  RunPlan,
  PreparedRun,
  PlanResult,
  PrepareResult,
  RunPreparation,
} from './core/run/prepared';
export { draftOf, withPack } from './core/run/prepared';
export type { ExecuteOptions, RunOutcome, OutcomeStatus, RunEvent } from './run/runner';
export { executeRun } from './run/runner';
export type { RunManyOptions, JobResult, JobStatus, Progress } from './run/runMany';
export { runMany } from './run/runMany';
export type { RunFilter, StoredRun, StoredSummary } from './run/store';
export { RunStore, ensureMedalignDir, isAnswered, writeFileAtomic } from './run/store';
export { appendAudit, auditLogPath, readAudit } from './run/audit';
export type { ApprovalChecker } from './run/approvals';
export { APPROVALS_ENV, FileApprovals, approvalsFilePath, cliApprovalChecker } from './run/approvals';
export type { ChatCall, ChatSuccess, ClientTimeouts, FetchLike } from './run/modelClient';
export { DEFAULT_TIMEOUTS, ModelCallError, callChat, guardedFetch } from './run/modelClient';

export type { ApprovalQuery, GuardDecision, EndpointTarget } from './core/run/guard';
export { approvalKey, approvalQuery, endpointTarget, guardEndpoint, isLoopbackHost } from './core/run/guard';
export type { RunError, RunErrorKind } from './core/run/errors';
export type { RunErrorAction } from './core/run/errors';
export { RUN_ERROR_ACTION_LABELS, runErrorActions } from './core/run/errors';
export type { DiffOp, DiffPart, WordDiff } from './core/run/wordDiff';
export { wordDiff } from './core/run/wordDiff';
export type { RetryPolicy } from './core/run/retry';
export { DEFAULT_RETRY_POLICY } from './core/run/retry';
export type {
  RunRecord,
  RunStatus,
  RunSummary,
  AuditEntry,
  RefineRunInfo,
  RefineStepRecord,
} from './core/run/runRecord';
export { MEDALIGN_DIR, RUNS_DIR, AUDIT_LOG, parseRunRecord, summarizeRun } from './core/run/runRecord';
export { BASELINE_LABEL } from './core/run/baseline';
export type { ApprovalEntry } from './core/run/approvals';
export { isApprovedBy, withApproval } from './core/run/approvals';
export { endpointNeedsKey } from './core/run/guard';
export type { ServerTokenizeAnswer } from './core/tokens/serverCounts';
export { SERVER_TOKENIZE_CONCURRENCY, mapLimit } from './core/tokens/serverCounts';
export { serverTokenCount } from './host/serverTokenize';
export { runDirName } from './core/run/runRecord';
export type { EndpointConfig, ProjectConfig } from './core/workspace/config';
export { BASELINE_MODEL, CONFIG_FILE_NAME } from './core/workspace/config';
export type { PackStrategy } from './core/packing/pack';
export type { EncodingName } from './core/tokens/encodings';
export type { TokenizerName } from './core/tokens/tokenizer';
export { tokenizerDisplayName } from './core/tokens/serverTable';
export type { ExportRow } from './core/run/export';
export { exportRow, rowsToCsv, rowsToJsonl } from './core/run/export';
export type {
  AnswerHashes,
  ReviewFile,
  ReviewLabel,
  ReviewedAnswer,
  ParseReviewResult,
  Blinded,
  ReviewCandidate,
  JudgedCandidate,
  ReviewStatus,
  ReviewProgress,
  StaleField,
} from './core/review';
export {
  REVIEW_FORMAT,
  REVIEW_VERSION,
  answerTextHash,
  blindLabel,
  blindOrder,
  candidateOfRun,
  judge,
  latestAnswers,
  parseReviewFile,
  progressText,
  reviewFilePath,
  reviewProgress,
  reviewStatus,
  serializeReview,
  slotId,
  staleFields,
  staleReason,
} from './core/review';
export type { ReviewConfig } from './core/workspace/config';
export { DEFAULT_ERROR_TAGS, DEFAULT_REVIEW_FOLDER } from './core/workspace/config';
export type { LoadedReview } from './run/reviewStore';
export { ReviewStore, reviewFolderSegments, reviewableRuns } from './run/reviewStore';
// The review report (issue 11): its pure arithmetic and text/CSV forms. Gathering runs, reviews and
// scores (run/reportData.ts) and the HTML page (host/reportHtml.ts) are not exported here: they bring
// ajv, yaml and d3 into the extension bundle; the editor gets them from the language server or the CLI.
export type {
  Report,
  ReportInput,
  ReportInstruction,
  ReportAnswer,
  ReportJudgement,
  ReportMetric,
  GroupRow,
  ContextDiff,
  TauRow,
} from './core/metrics/report';
export { buildReport } from './core/metrics/report';
export { formatReportCsv, formatReportText, groupName } from './core/metrics/reportFormat';
export type { ScorerConfig } from './core/workspace/config';
export type { ImportOptions, ImportSummary, FileAction } from './host/dataset';
export { DatasetError, formatImportSummary, importDataset, importTargets } from './host/dataset';
export { TIMELINE_STYLE, inlineScript, jsonForScript, staticTimelinePage } from './host/timelinePage';
export { webviewHtml } from './core/util/htmlPage';
export type { WebviewDocument } from './core/util/htmlPage';
export type { DiffChart, DiffPoint, ExperimentView } from './host/experimentView';
export { experimentView } from './host/experimentView';
