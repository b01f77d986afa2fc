/**
 * The one way the editor runs: jobs through the engine's runMany (the language server prepares each,
 * the extension host sends), under a progress notification whose Cancel (and `MedAlign: Cancel
 * Runs`) aborts every run in flight. A single run is a 1×1 matrix; Run All is jobs without a panel.
 * What to offer afterwards is in fixes.ts (`offerFixes`).
 */
import * as vscode from 'vscode';
import type { JobResult, PreparedRun, Progress, RunJob } from '../../../engine/src';
import type { PanelColumn } from './panelMessages';
import type { ColumnContext, PanelSession } from './responsePanel';
import { countTokens } from './project';
import { ApiKeys } from './secrets';
import type { RunServices } from './services';
import { cancellable, concurrencySetting, fmtMs, loadEngine, storePromptSetting } from './services';
import { showNotice } from './notices';
import type { FixTarget } from './fixes';
import { fixButtons } from './fixes';
import { RUN_COMMAND } from './runCommands';
import { refinePlanned, refineStepStarted, refineStreaming } from './refineColumn';

/** The panel columns the jobs stream into, one per job (by index). */
export interface JobsPanel {
  session: PanelSession;
  contexts: readonly ColumnContext[];
  /** The column of a finished (or skipped) job. */
  column: (r: JobResult) => PanelColumn;
}

export interface RunJobsOptions {
  /** The progress notification's title. */
  title: string;
  /** Skip jobs that already have a complete run with the same inputs. */
  resume: boolean;
  panel?: JobsPanel;
  /** The progress message before the first job ends. */
  startMessage?: string;
  /**
   * The progress message after each job ends (with an increment). Absent: the progress follows what
   * the run does (sending, receiving, retrying), as for a single run.
   */
  progressMessage?: (p: Progress) => string;
  /** A job was packed and is about to be sent. */
  onStart?: (index: number, prepared: PreparedRun) => void;
  onProgress?: (p: Progress, r: JobResult) => void;
  /** Runs one job again (the panel's Retry / Approve…); default: `medalign.run` with the job's settings. */
  rerun?: (index: number) => Thenable<unknown>;
}

/** What a finished job's fix buttons act on. */
function fixTarget(job: RunJob, r: JobResult, rerun: () => Thenable<unknown>): FixTarget {
  const t: FixTarget = { uri: vscode.Uri.file(job.file), rerun };
  const endpointId = r.model ?? job.model;
  if (endpointId !== undefined) t.endpointId = endpointId;
  if (r.approval) t.approval = r.approval;
  return t;
}

/** Runs `jobs` (results in job order) and tells the runs view. */
export async function runJobs(
  s: RunServices,
  jobs: readonly RunJob[],
  o: RunJobsOptions,
): Promise<JobResult[]> {
  const engine = await loadEngine();
  const end = s.running.begin(o.title.replace(/^MedAlign: /, ''));
  try {
    return await runJobsWithProgress(s, jobs, o, engine);
  } finally {
    end();
  }
}

async function runJobsWithProgress(
  s: RunServices,
  jobs: readonly RunJob[],
  o: RunJobsOptions,
  engine: Awaited<ReturnType<typeof loadEngine>>,
): Promise<JobResult[]> {
  const panel = o.panel;
  const perRun = o.progressMessage === undefined;
  const results = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: o.title, cancellable: true },
    async (progress, token) => {
      const { controller, done } = cancellable(s, token);
      // The panel keeps its own copy of each column's context: its Stop button needs the cancel too.
      const cancel = () => controller.abort();
      (panel?.contexts ?? []).forEach((c, i) => {
        c.cancel = cancel;
        panel?.session.update(i, {}, { cancel });
      });
      try {
        if (o.startMessage !== undefined) progress.report({ message: o.startMessage });
        return await engine.runMany(jobs, {
          preparer: s.preparer,
          countTokens,
          concurrency: concurrencySetting(),
          resume: o.resume,
          approval: s.approvals.checker,
          signal: controller.signal,
          storePrompt: storePromptSetting(),
          apiKeyFor: (e) => s.keys.get(e),
          keySourceFor: (e) => ApiKeys.keySource(e),
          onStart: (i, prepared) => {
            o.onStart?.(i, prepared);
            if (!perRun) panel?.session.update(i, { status: 'sending' });
            const steps = prepared.pack.refine?.steps.length;
            if (steps !== undefined) panel?.session.update(i, { refine: refinePlanned(steps) });
          },
          onText: (i, _d, text) => {
            const refine = panel?.session.column(i)?.refine;
            panel?.session.update(i, {
              status: 'streaming',
              text,
              ...(refine !== undefined && refine.current > 0 ? { refine: refineStreaming(refine) } : {}),
            });
          },
          onEvent: (i, e) => {
            if (e.type === 'notice') showNotice(s, e.message);
            else if (e.type === 'step') {
              // Refine: the previous step's answer (the column's text so far) joins the finished steps.
              const col = panel?.session.column(i);
              const refine = refineStepStarted(col?.refine, col?.text ?? '', e.step, e.of);
              panel?.session.update(i, { status: 'sending', text: '', refine });
              if (perRun) progress.report({ message: `refine step ${e.step} of ${e.of}…` });
            } else if (e.type === 'retrying') {
              panel?.session.update(i, { message: `${e.error.message} Retrying in ${fmtMs(e.delayMs)}…` });
              if (perRun) progress.report({ message: `retrying in ${fmtMs(e.delayMs)}…` });
            } else if (perRun && e.type === 'sending') {
              progress.report({
                message: `sending ${e.promptTokens.toLocaleString('en-US')} tokens to ${e.host}${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}…`,
              });
              panel?.session.update(i, { status: 'sending', message: '' });
            } else if (perRun && e.type === 'first-text') {
              progress.report({ message: 'receiving the answer…' });
            }
          },
          onProgress: (p, r) => {
            if (panel) {
              const job = jobs[r.index];
              const rerun =
                o.rerun !== undefined
                  ? () => o.rerun!(r.index)
                  : () =>
                      vscode.commands.executeCommand(RUN_COMMAND, vscode.Uri.file(job.file), {
                        model: r.model ?? job.model,
                        context: job.context,
                        strategy: job.strategy,
                      });
              const fix = fixTarget(job, r, rerun);
              const column = panel.column(r);
              const failed = r.status === 'error' || r.status === 'refused' || r.status === 'cancelled';
              if (failed && r.error) column.fixes = fixButtons(r.error, fix);
              // A refine run that stopped after finished steps: Resume runs it again with resume.
              const resume =
                column.refine?.resumeFrom !== undefined
                  ? () =>
                      vscode.commands.executeCommand(RUN_COMMAND, vscode.Uri.file(job.file), {
                        model: r.model ?? job.model,
                        context: job.context,
                        strategy: job.strategy,
                        resume: true,
                      })
                  : undefined;
              panel.session.update(r.index, column, { fix, ...(resume !== undefined ? { resume } : {}) });
            }
            if (o.progressMessage) {
              progress.report({ increment: 100 / p.total, message: o.progressMessage(p) });
            }
            o.onProgress?.(p, r);
          },
        });
      } finally {
        done();
      }
    },
  );
  s.runs.notifyChanged();
  return results;
}
