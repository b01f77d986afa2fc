/**
 * The review panel (issue 11, "Reviewing"): one webview beside the editor showing an instruction,
 * its gold response and the latest complete answer of each model/context, labelled A, B, C… in the
 * reviewer's blinded order. The extension holds the state (judgements, which instruction, progress)
 * and writes the review file (`<review folder>/<instruction id>/<reviewer>.json`, atomic, never
 * through a link) on submit and when the reviewer leaves an instruction with unsaved changes. The
 * webview renders (reviewWebview.ts) and sends typed, checked messages (reviewMessages.ts).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type {
  JudgedCandidate,
  LoadedReview,
  ReviewCandidate,
  ReviewConfig,
  ReviewFile,
  ReviewStatus,
  ReviewedAnswer,
  StoredRun,
} from '../../../engine/src';
import {
  ReviewStore,
  blindLabel,
  blindOrder,
  candidateOfRun,
  judge,
  progressText,
  reviewProgress,
  reviewStatus,
  reviewableRuns,
  slotId,
  staleReason,
  wordDiff,
} from '../../../engine/src';
import { WebviewRequests, makeNonce } from '../webviewDocument';
import { instructionInfo, workspaceProjects } from '../run/project';
import type { InstructionInfo } from '../run/project';
import { relativeRunFile } from '../run/runsIndex';
import type { RunServices } from '../run/services';
import type {
  FromReview,
  Judgement,
  Navigate,
  ReviewSnapshot,
  ReviewViewState,
  ToReview,
} from './reviewMessages';
import { parseFromReview } from './reviewMessages';
import { reviewHtml } from './reviewWebview';

export const REVIEW_VIEW_TYPE = 'medalign.review';

/** An instruction that can be reviewed: a file with an id in a project. */
export interface ReviewItem {
  root: string;
  id: string;
  /** Absolute path of the instruction file. */
  file: string;
}

const itemKey = (i: ReviewItem) => `${i.root}\n${i.file}\n${i.id}`;

/** One shown answer: its run and the reviewer's current judgement. */
interface Shown {
  label: string;
  run: StoredRun;
  candidate: ReviewCandidate;
  judged?: ReviewedAnswer;
  stale: string;
  judgement: Judgement;
  /** Changed since the file was written. */
  dirty: boolean;
}

interface Current {
  item: ReviewItem;
  info: InstructionInfo;
  config: ReviewConfig;
  store: ReviewStore;
  loaded?: LoadedReview;
  shown: Shown[];
  revealed: boolean;
  notice: string;
}

/** What medalign.review.describe returns: what the panel shows, and the file behind it. */
export interface ReviewDescription {
  visible: boolean;
  reviewer: string;
  instructionId?: string;
  /** The review file (absolute), whether or not it exists yet. */
  reviewFile?: string;
  /** From the command to the panel's render of the instruction, in ms. */
  openMs?: number;
  /**
   * Where `openMs` went: until the panel began loading the instruction (the command's own questions
   * to the server), reading its answers and review (with the server's info when not known yet), and
   * from posting the state to the page's render.
   */
  openSteps?: {
    beforeMs: number;
    loadMs: number;
    renderMs: number;
    /**
     * When the page had to load (a new panel, or a page VS Code reloaded), `renderMs` split further,
     * from posting the state: until the page began loading (VS Code making the webview), until its
     * script ran, and until its `ready` arrived here (the state is sent then, and rendered).
     */
    pageStartMs?: number;
    scriptMs?: number;
    readyMs?: number;
  };
  /** The page's own performance.now() at that render: the time since the webview page began loading. */
  pageMs?: number;
  snapshot?: ReviewSnapshot;
}

const EMPTY: Judgement = { label: null, tags: [], comment: '', rank: null };

function wasText(a: ReviewedAnswer): string {
  const parts = [a.label ?? 'no label'];
  if (a.rank !== null) parts.push(`rank ${a.rank}`);
  if (a.tags.length) parts.push(a.tags.join(', '));
  return parts.join(' · ');
}

function modelText(r: StoredRun): string {
  const e = r.run.endpoint;
  return `${e.id} · ${r.run.contextLabel}${e.model && e.model !== e.id ? ` (${e.model})` : ''}`;
}

export class ReviewPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private ready = false;
  private session = 0;
  private current: Current | undefined;
  private reviewer = '';
  private items: ReviewItem[] = [];
  private statuses = new Map<string, ReviewStatus>();
  private statusJob: Promise<void> | undefined;
  private openedAt: number | undefined;
  private openMs: number | undefined;
  private openSteps: ReviewDescription['openSteps'];
  private loadStartedAt: number | undefined;
  private postedAt: number | undefined;
  /** The page's `ready` during an open: when it arrived, and the page's own times. */
  private readyAt: { at: number; pageStart?: number; scriptMs?: number } | undefined;
  private pageMs: number | undefined;
  /** Settles the first render after `open`. */
  private onRendered: (() => void) | undefined;
  /** Listing the instructions to review (after the first render). */
  private itemsJob: Promise<void> | undefined;
  private readonly snapshots = new WebviewRequests<ReviewSnapshot>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly s: RunServices,
    private readonly log: vscode.LogOutputChannel,
  ) {
    // Runs saved or deleted elsewhere: the list of instructions and their statuses are read again.
    this.disposables.push(
      s.runs.onDidChange(() => {
        this.statusJob = undefined;
      }),
    );
  }

  get visible(): boolean {
    return this.panel?.visible === true;
  }

  /**
   * Opens the panel on an instruction (its reviewer already known); resolves once it is shown.
   * `info`: the instruction's info when the caller has it already (not asked of the server again).
   */
  async open(
    item: ReviewItem,
    reviewer: string,
    startedAt = Date.now(),
    info?: InstructionInfo,
  ): Promise<void> {
    this.openedAt = startedAt;
    this.openMs = undefined;
    this.openSteps = undefined;
    this.loadStartedAt = Date.now();
    this.readyAt = undefined;
    if (reviewer !== this.reviewer) this.statusJob = undefined;
    this.reviewer = reviewer;
    if (!this.items.some((i) => itemKey(i) === itemKey(item))) this.items = [...this.items, item];
    const rendered = new Promise<void>((resolve) => {
      this.onRendered = resolve;
      setTimeout(resolve, 15_000);
    });
    await this.show(item, info);
    await rendered;
    this.onRendered = undefined;
    // The other instructions (for next/previous), then their statuses (progress, "next unreviewed"):
    // they read every instruction's runs and reviews, so after the first render, not before.
    this.itemsJob = this.refreshItems(item);
  }

  private refreshItems(item: ReviewItem): Promise<void> {
    return (async () => {
      const items = await this.listItems(item);
      const changed = items.map(itemKey).join('\n') !== this.items.map(itemKey).join('\n');
      this.items = items;
      if (changed) this.statusJob = undefined;
      await this.refreshStatuses();
      this.postProgress();
    })().catch((err: unknown) => this.log.warn(`review: could not list instructions: ${String(err)}`));
  }

  /** What the panel shows now (its DOM), for medalign.review.describe. */
  async describe(timeoutMs = 3000): Promise<ReviewDescription> {
    const c = this.current;
    const out: ReviewDescription = { visible: this.visible, reviewer: this.reviewer };
    if (c) {
      out.instructionId = c.item.id;
      out.reviewFile = c.store.fileOf(c.item.id, this.reviewer);
    }
    if (this.openMs !== undefined) out.openMs = this.openMs;
    if (this.openSteps !== undefined) out.openSteps = this.openSteps;
    if (this.pageMs !== undefined) out.pageMs = this.pageMs;
    if (this.panel && this.ready) {
      const snap = await this.snapshots.ask(
        (requestId) => this.post({ type: 'snapshot', requestId }),
        timeoutMs,
      );
      if (snap) out.snapshot = snap;
    }
    return out;
  }

  /** Presses a key in the panel, through the same handler as the keyboard (tests). */
  key(key: string, ctrlKey = false): void {
    this.post({ type: 'key', key, ctrlKey });
  }

  /** Instructions with runs in the open projects (and `first`), by project and file. */
  private async listItems(first: ReviewItem): Promise<ReviewItem[]> {
    const byKey = new Map<string, ReviewItem>([[itemKey(first), first]]);
    for (const root of await workspaceProjects()) {
      const seen = new Set<string>();
      for (const r of await this.s.runs.store(root).list()) {
        if (r.status !== 'complete') continue;
        const k = `${r.instructionFile}\n${r.instructionId}`;
        if (seen.has(k)) continue;
        seen.add(k);
        const it: ReviewItem = {
          root,
          id: r.instructionId,
          file: path.join(root, ...r.instructionFile.split('/')),
        };
        byKey.set(itemKey(it), it);
      }
    }
    return [...byKey.values()].sort(
      (a, b) => a.root.localeCompare(b.root) || a.file.localeCompare(b.file) || a.id.localeCompare(b.id),
    );
  }

  private async candidatesOf(item: ReviewItem): Promise<StoredRun[]> {
    return reviewableRuns(this.s.runs.store(item.root), item.id, relativeRunFile(item.root, item.file));
  }

  private storeFor(root: string, config: ReviewConfig): ReviewStore {
    return new ReviewStore(root, config.folder);
  }

  /** Reads every instruction's answers and this reviewer's review, for progress and "next unreviewed". */
  private refreshStatuses(): Promise<void> {
    this.statusJob ??= (async () => {
      const statuses = new Map<string, ReviewStatus>();
      const configs = new Map<string, ReviewConfig>();
      for (const item of this.items) {
        try {
          let config = configs.get(item.root);
          if (!config) {
            const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(item.file));
            config = (await instructionInfo(doc)).project.review;
            configs.set(item.root, config);
          }
          const runs = await this.candidatesOf(item);
          const loaded = await this.storeFor(item.root, config).read(item.id, this.reviewer);
          statuses.set(
            itemKey(item),
            reviewStatus(
              runs.map((r) => candidateOfRun(r.run)),
              loaded?.ok ? loaded.review : undefined,
            ),
          );
        } catch (err) {
          this.log.warn(`review: could not read ${item.file}: ${String(err)}`);
        }
      }
      this.statuses = statuses;
    })();
    return this.statusJob;
  }

  private progressLine(): string {
    if (this.statuses.size === 0) return 'counting…';
    return progressText(reviewProgress(this.statuses.values()));
  }

  private postProgress(): void {
    this.post({ type: 'progress', progress: this.progressLine(), position: this.positionLine() });
  }

  private positionLine(): string {
    const c = this.current;
    if (!c) return '';
    const index = this.items.findIndex((i) => itemKey(i) === itemKey(c.item));
    return `Instruction ${index + 1} of ${this.items.length}`;
  }

  /**
   * Loads an instruction's answers and this reviewer's review, and shows them. The answers are read
   * while the server answers for the instruction, and a new panel's page loads meanwhile.
   */
  private async show(item: ReviewItem, known?: InstructionInfo): Promise<void> {
    const created = !this.panel;
    if (created) this.reveal(item.id);
    try {
      await this.load(item, known);
    } catch (err) {
      // Nothing to show in a panel made for this instruction: it goes, and the error is reported.
      if (created && !this.current) this.panel?.dispose();
      throw err;
    }
  }

  private async load(item: ReviewItem, known?: InstructionInfo): Promise<void> {
    const runsJob = this.candidatesOf(item);
    // Read whatever happens to the instruction's info, so a failure there leaves no unhandled rejection.
    runsJob.catch(() => undefined);
    const info =
      known ?? (await instructionInfo(await vscode.workspace.openTextDocument(vscode.Uri.file(item.file))));
    const config = info.project.review;
    let store: ReviewStore;
    let notice = '';
    try {
      store = this.storeFor(item.root, config);
    } catch (err) {
      // review.folder leaves the project: fall back to the default, and say so.
      notice = `${(err as Error).message} Using "reviews".`;
      store = new ReviewStore(item.root, 'reviews');
    }
    const [runs, loaded] = await Promise.all([runsJob, store.read(item.id, this.reviewer)]);
    if (loaded && !loaded.ok) {
      notice =
        `${path.relative(item.root, loaded.file)} cannot be read, so this review starts empty ` +
        `(submitting replaces it):\n${loaded.errors.map((e) => `  - ${e}`).join('\n')}`;
    }
    const review = loaded?.ok ? loaded.review : undefined;
    const judged = judge(
      runs.map((r) => candidateOfRun(r.run)),
      review,
    );
    const pairs = runs.map((run, i) => ({ run, j: judged[i] }));
    const ordered = config.blinded
      ? blindOrder(this.reviewer, item.id, pairs, (p) => slotId(p.j.candidate))
      : pairs.map((item, i) => ({ item, label: blindLabel(i) }));
    const shown: Shown[] = ordered.map(({ item: p, label }) => this.shownOf(label, p.run, p.j));
    const status = reviewStatus(
      shown.map((x) => x.candidate),
      review,
    );
    this.current = {
      item,
      info,
      config,
      store,
      ...(loaded ? { loaded } : {}),
      shown,
      revealed: !config.blinded || status === 'reviewed',
      notice,
    };
    this.session++;
    this.reveal(info.id ?? path.basename(info.file));
    this.postedAt = Date.now();
    this.post({ type: 'state', state: this.viewState() });
  }

  private shownOf(label: string, run: StoredRun, j: JudgedCandidate): Shown {
    const out: Shown = {
      label,
      run,
      candidate: j.candidate,
      stale: staleReason(j.stale),
      judgement: { ...EMPTY, tags: [] },
      dirty: false,
    };
    if (j.judged) {
      out.judged = j.judged;
      // A stale judgement is shown as stale, never reused for the new answer.
      if (j.stale.length === 0) {
        out.judgement = {
          label: j.judged.label,
          tags: [...j.judged.tags],
          comment: j.judged.comment,
          rank: j.judged.rank !== null && j.judged.rank <= 200 ? j.judged.rank : null,
        };
      }
    }
    return out;
  }

  private statusText(c: Current): string {
    if (c.shown.length === 0) return 'nothing to review';
    if (c.shown.some((x) => x.stale && !x.dirty)) return 'stale';
    const submitted = c.shown.every((x) => !x.dirty && x.judged?.submittedAt && !x.stale);
    if (submitted) return 'submitted';
    const wasSubmitted = c.shown.some((x) => x.judged?.submittedAt && !x.stale);
    if (wasSubmitted && c.shown.some((x) => x.dirty)) return 'edited since submitting';
    const any = c.shown.some((x) => x.dirty || (x.judged && !x.stale));
    return any ? 'draft' : 'not reviewed yet';
  }

  private viewState(): ReviewViewState {
    const c = this.current!;
    return {
      session: this.session,
      heading: `${c.item.id} · ${path.basename(c.item.file)}`,
      position: this.positionLine(),
      progress: this.progressLine(),
      reviewer: this.reviewer,
      instruction: c.info.instruction,
      gold: c.info.gold,
      answers: c.shown.map((x) => ({
        label: x.label,
        ...(c.revealed ? { model: modelText(x.run) } : {}),
        text: x.run.run.response,
        judgement: x.judgement,
        stale: x.stale,
        ...(x.stale && x.judged ? { was: wasText(x.judged) } : {}),
      })),
      errorTags: c.config.errorTags,
      blinded: c.config.blinded,
      revealed: c.revealed,
      status: this.statusText(c),
      notice: c.notice,
    };
  }

  /** The review file's content for what is shown (`submitted`: now, for every answer). */
  private reviewFile(c: Current, submittedAt: string | undefined): ReviewFile {
    const now = new Date().toISOString();
    const slots = new Set(c.shown.map((x) => slotId(x.candidate)));
    // Judgements of answers no longer shown (a model not run since) are kept as they were.
    const kept = c.loaded?.ok ? c.loaded.review.answers.filter((a) => !slots.has(slotId(a))) : [];
    const answers: ReviewedAnswer[] = c.shown.map((x) => {
      const cand = x.candidate;
      const unchangedSubmit = !x.dirty && !x.stale && x.judged?.submittedAt ? x.judged.submittedAt : null;
      return {
        run: { id: cand.runId, key: cand.runKey },
        endpoint: cand.endpoint,
        model: cand.model,
        context: cand.context,
        contextLabel: cand.contextLabel,
        hashes: { ...cand.hashes },
        label: x.judgement.label,
        tags: [...x.judgement.tags],
        comment: x.judgement.comment,
        rank: x.judgement.rank,
        submittedAt: submittedAt ?? unchangedSubmit,
      };
    });
    const all = [...answers, ...kept];
    // Ranks beyond the number of answers cannot be kept (a file must stay readable).
    for (const a of all) if (a.rank !== null && a.rank > all.length) a.rank = null;
    const instruction: ReviewFile['instruction'] = { id: c.item.id };
    instruction.file = relativeRunFile(c.item.root, c.item.file);
    return {
      format: 'medalign-review',
      version: 1,
      instruction,
      reviewer: this.reviewer,
      blinded: c.config.blinded,
      updatedAt: now,
      answers: all,
    };
  }

  private async write(c: Current, submittedAt: string | undefined): Promise<boolean> {
    const review = this.reviewFile(c, submittedAt);
    try {
      const file = await c.store.write(review);
      c.loaded = { file, ok: true, review };
      const bySlot = new Map(review.answers.map((a) => [slotId(a), a]));
      for (const x of c.shown) {
        const a = bySlot.get(slotId(x.candidate));
        if (a) x.judged = a;
        x.dirty = false;
        x.stale = '';
      }
      this.statuses.set(
        itemKey(c.item),
        reviewStatus(
          c.shown.map((x) => x.candidate),
          review,
        ),
      );
      return true;
    } catch (err) {
      const message = `MedAlign: the review could not be saved: ${(err as Error).message}`;
      this.log.error(message);
      c.notice = message;
      void vscode.window.showErrorMessage(message);
      return false;
    }
  }

  private async submit(): Promise<void> {
    const c = this.current;
    if (!c || c.shown.length === 0) return;
    const missing = c.shown.filter((x) => x.judgement.label === null).map((x) => x.label);
    if (missing.length > 0) {
      const list =
        missing.length === 1
          ? missing[0]
          : `${missing.slice(0, -1).join(', ')} and ${missing[missing.length - 1]}`;
      this.post({
        type: 'notice',
        session: this.session,
        notice: `Mark every answer correct or incorrect before submitting: ${list} ${missing.length === 1 ? 'has' : 'have'} no label.`,
      });
      return;
    }
    if (await this.write(c, new Date().toISOString())) {
      c.revealed = true;
      c.notice = '';
      this.post({ type: 'state', state: this.viewState() });
    } else this.post({ type: 'state', state: this.viewState() });
  }

  /** Leaves the current instruction (saving a draft if it changed) for another. */
  private async navigate(direction: Navigate): Promise<void> {
    const c = this.current;
    if (!c) return;
    if (c.shown.some((x) => x.dirty)) await this.write(c, undefined);
    await this.itemsJob;
    const at = this.items.findIndex((i) => itemKey(i) === itemKey(c.item));
    const n = this.items.length;
    let next: ReviewItem | undefined;
    if (direction === 'next') next = this.items[(at + 1) % n];
    else if (direction === 'previous') next = this.items[(at - 1 + n) % n];
    else {
      await this.refreshStatuses();
      for (let k = 1; k <= n; k++) {
        const it = this.items[(at + k) % n];
        const st = this.statuses.get(itemKey(it));
        if (it && st !== 'reviewed' && st !== 'none' && (k < n || st !== undefined)) {
          next = it;
          break;
        }
      }
      if (!next) {
        this.post({
          type: 'notice',
          session: this.session,
          notice: `Every instruction with answers is reviewed by ${this.reviewer} (${this.progressLine()}).`,
        });
        return;
      }
    }
    if (next) await this.show(next);
  }

  private edit(index: number, judgement: Judgement): void {
    const x = this.current?.shown[index];
    if (!x) return;
    x.judgement = { ...judgement, tags: judgement.tags.filter((t, i, a) => a.indexOf(t) === i) };
    x.dirty = true;
    const status = this.statusText(this.current!);
    this.post({ type: 'notice', session: this.session, notice: '', status });
  }

  private diff(index: number): void {
    const c = this.current;
    const x = c?.shown[index];
    if (!c || !x) return;
    const d = wordDiff(c.info.gold, x.run.run.response);
    this.post({ type: 'diff', session: this.session, index, parts: d.parts, approximate: d.approximate });
  }

  private receive(m: FromReview): void {
    const run = (p: Promise<void>) =>
      p.catch((err: unknown) => {
        this.log.error(`review: ${String(err)}`);
        void vscode.window.showErrorMessage(`MedAlign review: ${(err as Error).message ?? String(err)}`);
      });
    switch (m.type) {
      case 'ready':
        this.ready = true;
        if (this.openedAt !== undefined)
          this.readyAt = {
            at: Date.now(),
            ...(m.pageStart !== undefined ? { pageStart: m.pageStart } : {}),
            ...(m.scriptMs !== undefined ? { scriptMs: m.scriptMs } : {}),
          };
        if (this.current) this.post({ type: 'state', state: this.viewState() });
        return;
      case 'rendered':
        if (this.openedAt !== undefined && m.session === this.session) {
          const now = Date.now();
          this.openMs = now - this.openedAt;
          if (this.loadStartedAt !== undefined && this.postedAt !== undefined) {
            const posted = this.postedAt;
            this.openSteps = {
              beforeMs: this.loadStartedAt - this.openedAt,
              loadMs: posted - this.loadStartedAt,
              renderMs: now - posted,
            };
            const r = this.readyAt;
            if (r && r.at >= posted) {
              this.openSteps.readyMs = r.at - posted;
              if (r.pageStart !== undefined) {
                this.openSteps.pageStartMs = Math.round(r.pageStart - posted);
                if (r.scriptMs !== undefined)
                  this.openSteps.scriptMs = Math.round(r.pageStart + r.scriptMs - posted);
              }
            }
          }
          this.pageMs = Math.round(m.pageMs);
          this.openedAt = undefined;
        }
        if (m.session === this.session) this.onRendered?.();
        return;
      case 'snapshot':
        this.snapshots.answer(m.requestId, m.snapshot);
        return;
      case 'edit':
        if (m.session === this.session) this.edit(m.index, m.judgement);
        return;
      case 'diff':
        if (m.session === this.session) this.diff(m.index);
        return;
      case 'submit':
        if (m.session === this.session) void run(this.submit());
        return;
      case 'navigate':
        void run(this.navigate(m.direction));
        return;
    }
  }

  private post(m: ToReview): void {
    if (this.panel && this.ready) void this.panel.webview.postMessage(m);
  }

  private reveal(name: string): void {
    const title = `Review: ${name}`;
    if (this.panel) {
      this.panel.title = title;
      this.panel.reveal(undefined, false);
      return;
    }
    // A tab of its own in the active group: answers side by side need the width.
    const panel = vscode.window.createWebviewPanel(
      REVIEW_VIEW_TYPE,
      title,
      { viewColumn: vscode.ViewColumn.Active, preserveFocus: false },
      // Kept while hidden (a small page): one that is not kept is loaded again each time the panel is
      // shown from an editor (its script, `ready`, then the state: one more round trip through the
      // workbench, which is slowest just then; npm run bench, in VS Code, shows where the time goes).
      // A page VS Code reloads anyway (moved to another group) says `ready` again and gets the state.
      { enableScripts: true, localResourceRoots: [], retainContextWhenHidden: true, enableFindWidget: true },
    );
    this.panel = panel;
    this.ready = false;
    panel.webview.html = reviewHtml(makeNonce());
    const subs: vscode.Disposable[] = [
      panel.webview.onDidReceiveMessage((raw: unknown) => {
        const m = parseFromReview(raw);
        if (m) this.receive(m);
      }),
      panel.onDidDispose(() => {
        const c = this.current;
        // Closing the panel keeps what was judged (as a draft, when not submitted).
        if (c && c.shown.some((x) => x.dirty)) void this.write(c, undefined);
        this.panel = undefined;
        this.ready = false;
        this.current = undefined;
        for (const d of subs.splice(0)) d.dispose();
      }),
    ];
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
