/**
 * Every message between the review panel's webview and the extension, in one place, with the check
 * the extension applies to what the webview sends (`parseFromReview`: a message that does not have
 * exactly the expected shape is dropped). Strings in them (instruction, gold, answers, comments,
 * model names) are data: the webview only ever puts them in `textContent`.
 */
import type { DiffPart, ReviewLabel } from '../../../engine/src';

/** One reviewer's judgement of one answer, as the panel edits it. */
export interface Judgement {
  label: ReviewLabel | null;
  tags: string[];
  comment: string;
  /** 1 is best; equal ranks are ties; null: not ranked. */
  rank: number | null;
}

export interface ReviewAnswerView {
  /** `A`, `B`, … in the reviewer's blinded order (also when blinding is off). */
  label: string;
  /** `gpt4 · 32k (gpt-4-32k)`: only when blinding is off or the review was submitted. */
  model?: string;
  text: string;
  judgement: Judgement;
  /** Why the earlier judgement no longer applies (the answer changed since); empty when it does. */
  stale: string;
  /** What the stale judgement was (`incorrect · rank 2`), for reference. */
  was?: string;
}

export interface ReviewViewState {
  /** Increases with every instruction shown; edits from an older one are ignored. */
  session: number;
  heading: string;
  /** `Instruction 3 of 62`. */
  position: string;
  /** `12 of 62 reviewed by you (1 stale)`. */
  progress: string;
  reviewer: string;
  instruction: string;
  gold: string;
  answers: ReviewAnswerView[];
  errorTags: string[];
  blinded: boolean;
  /** Model names are shown (submitted, or blinding off). */
  revealed: boolean;
  /** `submitted`, `edited since submitting`, `draft`, `not reviewed yet`, `stale`. */
  status: string;
  /** A note or a problem to show (a broken review file, what is missing before submitting). */
  notice: string;
}

/** Extension → webview. */
export type ToReview =
  | { type: 'state'; state: ReviewViewState }
  /** A word diff of an answer against gold (on demand). */
  | { type: 'diff'; session: number; index: number; parts: DiffPart[]; approximate: boolean }
  | { type: 'notice'; session: number; notice: string; status?: string }
  /** Progress over the folder, once counted (the rest of the page stays as it is). */
  | { type: 'progress'; progress: string; position: string }
  /** Asks what the panel shows (medalign.review.describe; answered with `snapshot`). */
  | { type: 'snapshot'; requestId: number }
  /** A key pressed in the panel, as a user would (tests). */
  | { type: 'key'; key: string; ctrlKey?: boolean };

export type Navigate = 'next' | 'previous' | 'nextUnreviewed';

/** Webview → extension. */
export type FromReview =
  /**
   * The page loaded. `pageStart`: when it began loading (`performance.timeOrigin`, epoch ms; the
   * bench's breakdown of an open), `scriptMs`: its performance.now() when its script ran.
   */
  | { type: 'ready'; pageStart?: number; scriptMs?: number }
  /** `pageMs`: the page's performance.now() when it rendered (time since the page began loading). */
  | { type: 'rendered'; session: number; pageMs: number }
  | { type: 'edit'; session: number; index: number; judgement: Judgement }
  | { type: 'submit'; session: number }
  | { type: 'diff'; session: number; index: number }
  | { type: 'navigate'; direction: Navigate }
  | { type: 'snapshot'; requestId: number; snapshot: ReviewSnapshot };

/** What the panel's DOM shows (medalign.review.describe returns it, with the files behind it). */
export interface ReviewSnapshot {
  session: number;
  heading: string;
  position: string;
  progress: string;
  status: string;
  notice: string;
  instruction: string;
  gold: string;
  /** In the order shown. */
  answers: {
    label: string;
    /** The model name shown, `''` while blinded. */
    model: string;
    text: string;
    correct: boolean;
    incorrect: boolean;
    tags: string[];
    comment: string;
    rank: string;
    stale: boolean;
    staleText: string;
    /** The word diff is shown. */
    diff: boolean;
    focused: boolean;
  }[];
  /** Labels in each rank bucket, best first (`[["B"], ["A", "C"]]`: B first, A and C tied). */
  ranking: string[][];
  /** Script, image, iframe or object elements inside the answers, instruction and gold (0: payloads stayed text). */
  injected: number;
  /** A payload ran (it would set `window.__pwned`). */
  pwned: boolean;
}

const NAV: readonly Navigate[] = ['next', 'previous', 'nextUnreviewed'];
const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x);

function parseJudgement(x: unknown): Judgement | undefined {
  if (x === null || typeof x !== 'object') return undefined;
  const j = x as Record<string, unknown>;
  const label = j['label'];
  if (label !== null && label !== 'correct' && label !== 'incorrect') return undefined;
  const tags = j['tags'];
  if (
    !Array.isArray(tags) ||
    tags.length > 50 ||
    !tags.every((t) => typeof t === 'string' && t.length <= 200)
  ) {
    return undefined;
  }
  const comment = j['comment'];
  if (typeof comment !== 'string' || comment.length > 20_000) return undefined;
  const rank = j['rank'];
  if (rank !== null && !(isInt(rank) && rank >= 1 && rank <= 200)) return undefined;
  return { label, tags: tags as string[], comment, rank };
}

/** The message if it is one the webview may send, else `undefined` (dropped). */
export function parseFromReview(x: unknown): FromReview | undefined {
  if (x === null || typeof x !== 'object') return undefined;
  const m = x as Record<string, unknown>;
  switch (m['type']) {
    case 'ready': {
      const out: FromReview = { type: 'ready' };
      const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
      if (num(m['pageStart'])) out.pageStart = m['pageStart'];
      if (num(m['scriptMs'])) out.scriptMs = m['scriptMs'];
      return out;
    }
    case 'rendered':
      return isInt(m['session']) && typeof m['pageMs'] === 'number' && Number.isFinite(m['pageMs'])
        ? { type: 'rendered', session: m['session'], pageMs: m['pageMs'] }
        : undefined;
    case 'submit':
      return isInt(m['session']) ? { type: 'submit', session: m['session'] } : undefined;
    case 'diff':
      return isInt(m['session']) && isInt(m['index'])
        ? { type: 'diff', session: m['session'], index: m['index'] }
        : undefined;
    case 'navigate':
      return NAV.includes(m['direction'] as Navigate)
        ? { type: 'navigate', direction: m['direction'] as Navigate }
        : undefined;
    case 'edit': {
      const judgement = parseJudgement(m['judgement']);
      return isInt(m['session']) && isInt(m['index']) && judgement
        ? { type: 'edit', session: m['session'], index: m['index'], judgement }
        : undefined;
    }
    case 'snapshot':
      return isInt(m['requestId']) && m['snapshot'] !== null && typeof m['snapshot'] === 'object'
        ? { type: 'snapshot', requestId: m['requestId'], snapshot: m['snapshot'] as ReviewSnapshot }
        : undefined;
    default:
      return undefined;
  }
}
