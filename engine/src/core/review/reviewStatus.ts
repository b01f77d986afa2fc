/**
 * What a reviewer has left to do: the answers that can be reviewed for an instruction (the latest
 * complete answer of each model/context), whether each judgement still applies (stale when the
 * answer, instruction, record or template changed since: its hashes differ from the run's), an
 * instruction's status and the progress over a folder ("12 of 62 reviewed by you").
 */
import type { RunRecord } from '../run/runRecord';
import type { AnswerHashes, ReviewFile, ReviewedAnswer } from './reviewFile';
import { answerTextHash, slotId } from './reviewFile';

/** A current answer that can be reviewed: from the newest complete run of one model/context. */
export interface ReviewCandidate {
  runId: string;
  runKey: string;
  createdAt: string;
  endpoint: string;
  model: string;
  context: number;
  contextLabel: string;
  hashes: AnswerHashes;
}

export function candidateOfRun(run: RunRecord): ReviewCandidate {
  return {
    runId: run.id,
    runKey: run.key,
    createdAt: run.createdAt,
    endpoint: run.endpoint.id,
    model: run.endpoint.model,
    context: run.context,
    contextLabel: run.contextLabel,
    hashes: {
      instruction: run.instruction.hash,
      record: run.record.hash,
      template: run.template.hash,
      answer: answerTextHash(run.response),
    },
  };
}

/** A run whose answer can be judged: complete, with a non-empty answer. */
export function isReviewable(run: Pick<RunRecord, 'status' | 'response'>): boolean {
  return run.status === 'complete' && run.response.trim() !== '';
}

/**
 * The newest reviewable run of each model/context (endpoint, model, context), in a fixed order
 * (endpoint, context, model). Ties in time go to the larger run id (ids sort by time).
 */
export function latestAnswers<R extends RunRecord>(runs: readonly R[]): R[] {
  const best = new Map<string, R>();
  for (const run of runs) {
    if (!isReviewable(run)) continue;
    const id = slotId({ endpoint: run.endpoint.id, model: run.endpoint.model, context: run.context });
    const cur = best.get(id);
    if (
      cur === undefined ||
      run.createdAt > cur.createdAt ||
      (run.createdAt === cur.createdAt && run.id > cur.id)
    ) {
      best.set(id, run);
    }
  }
  return [...best.values()].sort(
    (a, b) =>
      (a.endpoint.id < b.endpoint.id ? -1 : a.endpoint.id > b.endpoint.id ? 1 : 0) ||
      a.context - b.context ||
      (a.endpoint.model < b.endpoint.model ? -1 : a.endpoint.model > b.endpoint.model ? 1 : 0),
  );
}

export type StaleField = keyof AnswerHashes;

/** The hashes of a judgement that differ from the current answer's: empty when it still applies. */
export function staleFields(
  judged: Pick<ReviewedAnswer, 'hashes'>,
  current: Pick<ReviewCandidate, 'hashes'>,
): StaleField[] {
  const fields: StaleField[] = ['instruction', 'record', 'template', 'answer'];
  return fields.filter((f) => judged.hashes[f] !== current.hashes[f]);
}

export function isStale(
  judged: Pick<ReviewedAnswer, 'hashes'>,
  current: Pick<ReviewCandidate, 'hashes'>,
): boolean {
  return staleFields(judged, current).length > 0;
}

/** Why a judgement is stale, in words: `the answer and the record changed since it was reviewed`. */
export function staleReason(fields: readonly StaleField[]): string {
  if (fields.length === 0) return '';
  const names = fields.map((f) => `the ${f}`);
  const list =
    names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
  return `${list} changed since it was reviewed`;
}

/** A candidate with the reviewer's judgement of it, if any. */
export interface JudgedCandidate {
  candidate: ReviewCandidate;
  judged?: ReviewedAnswer;
  /** Hashes that differ (the judgement is stale when this is not empty). */
  stale: StaleField[];
}

/** Pairs current answers with a review's judgements (by endpoint, model and context). */
export function judge(
  candidates: readonly ReviewCandidate[],
  review: ReviewFile | undefined,
): JudgedCandidate[] {
  const bySlot = new Map<string, ReviewedAnswer>();
  for (const a of review?.answers ?? []) bySlot.set(slotId(a), a);
  return candidates.map((candidate) => {
    const judged = bySlot.get(slotId(candidate));
    return judged ? { candidate, judged, stale: staleFields(judged, candidate) } : { candidate, stale: [] };
  });
}

/**
 * - `reviewed`: every current answer has a submitted label that still applies;
 * - `stale`: something was submitted, but an answer (or its instruction, record, template) changed since;
 * - `partial`: some answers are judged or drafted, not all submitted;
 * - `unreviewed`: nothing yet;
 * - `none`: no answer to review.
 */
export type ReviewStatus = 'reviewed' | 'stale' | 'partial' | 'unreviewed' | 'none';

export function reviewStatus(
  candidates: readonly ReviewCandidate[],
  review: ReviewFile | undefined,
): ReviewStatus {
  if (candidates.length === 0) return 'none';
  const j = judge(candidates, review);
  if (j.some((x) => x.judged?.submittedAt && x.stale.length > 0)) return 'stale';
  const done = j.filter((x) => x.judged?.submittedAt && x.judged.label !== null && x.stale.length === 0);
  if (done.length === j.length) return 'reviewed';
  const touched = j.some(
    (x) =>
      x.judged !== undefined &&
      (x.judged.submittedAt !== null ||
        x.judged.label !== null ||
        x.judged.rank !== null ||
        x.judged.comment !== '' ||
        x.judged.tags.length > 0),
  );
  return touched ? 'partial' : 'unreviewed';
}

export interface ReviewProgress {
  /** Instructions with at least one answer to review. */
  total: number;
  reviewed: number;
  stale: number;
  partial: number;
  unreviewed: number;
}

/** Progress over instructions (each with its status): "12 of 62 reviewed by you". */
export function reviewProgress(statuses: Iterable<ReviewStatus>): ReviewProgress {
  const p: ReviewProgress = { total: 0, reviewed: 0, stale: 0, partial: 0, unreviewed: 0 };
  for (const s of statuses) {
    if (s === 'none') continue;
    p.total++;
    p[s]++;
  }
  return p;
}

/** `12 of 62 reviewed by you (2 stale, 1 in progress)`. */
export function progressText(p: ReviewProgress, who = 'you'): string {
  const extra: string[] = [];
  if (p.stale > 0) extra.push(`${p.stale} stale`);
  if (p.partial > 0) extra.push(`${p.partial} in progress`);
  return `${p.reviewed} of ${p.total} reviewed by ${who}${extra.length ? ` (${extra.join(', ')})` : ''}`;
}
