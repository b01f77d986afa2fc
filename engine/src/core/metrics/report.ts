/**
 * The review report's arithmetic (pure): per model and context, percent correct (with counts), mean
 * rank and the mean of each metric; the same by taxonomy category and by record-length quartile;
 * the difference between each model's smallest and largest context (2k vs 32k in the paper);
 * Kendall's tau-b between each metric's ordering of the answers and the clinicians' ranks; and
 * between reviewers. Inputs are plain data (the host gathers runs, reviews and scores); no I/O.
 *
 * Conventions (also printed with the report):
 * - A judgement counts when it is not stale (its hashes match the current answer). Every reviewer's
 *   judgement counts once: with two reviewers an answer contributes two labels and two ranks.
 * - Rank 1 is the best. Tau compares a metric's scores with the negated ranks, so agreement is
 *   positive; a metric where lower is better is negated first.
 * - Tau is computed per instruction (averaged over its reviewers when several ranked it), then
 *   averaged over instructions; the 95% interval resamples instructions (seeded bootstrap).
 *   Instructions where tau is undefined (fewer than two ranked answers, all ranks tied, all scores
 *   equal) are left out and counted.
 */
import { kendallTauB, meanWithInterval, percentile } from './agreement';
import type { MeanWithInterval } from './agreement';

export interface ReportMetric {
  id: string;
  label: string;
  higherIsBetter: boolean;
  /** How to print it: 0-1 F-measures or 0-100 scores. */
  scale: '0-1' | '0-100' | 'other';
}

export interface ReportAnswer {
  endpoint: string;
  model: string;
  context: number;
  contextLabel: string;
  /** The record's length in tokens, in this answer's encoding (kept + cut); for the quartiles. */
  recordTokens?: number;
  /** Metric id → score (a metric may be missing for an answer). */
  scores: Record<string, number>;
}

export interface ReportJudgement {
  /** Index into the instruction's `answers`. */
  answer: number;
  label: 'correct' | 'incorrect' | null;
  rank: number | null;
  stale: boolean;
}

export interface ReportInstruction {
  id: string;
  category?: string;
  answers: ReportAnswer[];
  reviews: { reviewer: string; judgements: ReportJudgement[] }[];
}

export interface ReportInput {
  instructions: ReportInstruction[];
  metrics: ReportMetric[];
  /** Bootstrap resamples (default 1000) and seed (default 20231). */
  resamples?: number;
  seed?: number;
}

export interface GroupRow {
  endpoint: string;
  model: string;
  context: number;
  contextLabel: string;
  answers: number;
  /** Labels given (non-stale) and how many said correct. */
  labelled: number;
  correct: number;
  /** correct / labelled × 100; null without labels. */
  pctCorrect: number | null;
  ranked: number;
  meanRank: number | null;
  /** Metric id → mean over the answers that have it (null when none). */
  metrics: Record<string, number | null>;
}

export interface ContextDiff {
  endpoint: string;
  model: string;
  small: string;
  large: string;
  /** large − small. */
  pctCorrect: number | null;
  meanRank: number | null;
  metrics: Record<string, number | null>;
}

export interface TauRow extends MeanWithInterval {
  /** Metric id, or `reviewerA vs reviewerB` / `all pairs` for inter-rater rows. */
  id: string;
  label: string;
}

export interface Report {
  counts: {
    instructions: number;
    answers: number;
    reviewers: number;
    judgements: number;
    staleJudgements: number;
  };
  metrics: ReportMetric[];
  groups: GroupRow[];
  byCategory: { category: string; rows: GroupRow[] }[];
  byLengthQuartile: { quartile: number; from: number; to: number; rows: GroupRow[] }[];
  contextDiffs: ContextDiff[];
  metricTau: TauRow[];
  interRater: TauRow[];
  notes: string[];
}

const slotKey = (a: Pick<ReportAnswer, 'endpoint' | 'model' | 'context'>) =>
  `${a.endpoint}\u0000${a.model}\u0000${a.context}`;

interface Acc {
  row: GroupRow;
  sums: Record<string, number>;
  ns: Record<string, number>;
  rankSum: number;
}

function groupRows(
  items: { ins: ReportInstruction; idx: number }[],
  metrics: readonly ReportMetric[],
): GroupRow[] {
  const accs = new Map<string, Acc>();
  for (const { ins, idx } of items) {
    const a = ins.answers[idx];
    const key = slotKey(a);
    let acc = accs.get(key);
    if (!acc) {
      acc = {
        row: {
          endpoint: a.endpoint,
          model: a.model,
          context: a.context,
          contextLabel: a.contextLabel,
          answers: 0,
          labelled: 0,
          correct: 0,
          pctCorrect: null,
          ranked: 0,
          meanRank: null,
          metrics: {},
        },
        sums: {},
        ns: {},
        rankSum: 0,
      };
      accs.set(key, acc);
    }
    acc.row.answers++;
    for (const m of metrics) {
      const v = a.scores[m.id];
      if (v === undefined || !Number.isFinite(v)) continue;
      acc.sums[m.id] = (acc.sums[m.id] ?? 0) + v;
      acc.ns[m.id] = (acc.ns[m.id] ?? 0) + 1;
    }
    for (const r of ins.reviews) {
      for (const j of r.judgements) {
        if (j.answer !== idx || j.stale) continue;
        if (j.label !== null) {
          acc.row.labelled++;
          if (j.label === 'correct') acc.row.correct++;
        }
        if (j.rank !== null) {
          acc.row.ranked++;
          acc.rankSum += j.rank;
        }
      }
    }
  }
  const rows = [...accs.values()].map((acc) => {
    const r = acc.row;
    r.pctCorrect = r.labelled ? (100 * r.correct) / r.labelled : null;
    r.meanRank = r.ranked ? acc.rankSum / r.ranked : null;
    for (const m of metrics) r.metrics[m.id] = acc.ns[m.id] ? acc.sums[m.id] / acc.ns[m.id] : null;
    return r;
  });
  return rows.sort(
    (a, b) =>
      (a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0) ||
      (a.model < b.model ? -1 : a.model > b.model ? 1 : 0) ||
      a.context - b.context,
  );
}

/** Per-instruction tau (averaged over reviewers) of `score(answer)` against the negated ranks. */
function instructionTaus(
  instructions: readonly ReportInstruction[],
  score: (a: ReportAnswer) => number | undefined,
): number[] {
  return instructions.map((ins) => {
    const taus: number[] = [];
    for (const r of ins.reviews) {
      const xs: number[] = [];
      const ys: number[] = [];
      for (const j of r.judgements) {
        if (j.stale || j.rank === null) continue;
        const s = score(ins.answers[j.answer]);
        if (s === undefined || !Number.isFinite(s)) continue;
        xs.push(s);
        ys.push(-j.rank);
      }
      const t = xs.length >= 2 ? kendallTauB(xs, ys) : NaN;
      if (!Number.isNaN(t)) taus.push(t);
    }
    return taus.length ? taus.reduce((x, y) => x + y, 0) / taus.length : NaN;
  });
}

/** The ranks two reviewers gave the same (non-stale) answers of an instruction. */
function pairTau(ins: ReportInstruction, a: string, b: string): number {
  const ranksOf = (name: string) => {
    const m = new Map<number, number>();
    for (const r of ins.reviews) {
      if (r.reviewer !== name) continue;
      for (const j of r.judgements) if (!j.stale && j.rank !== null) m.set(j.answer, j.rank);
    }
    return m;
  };
  const ra = ranksOf(a);
  const rb = ranksOf(b);
  const xs: number[] = [];
  const ys: number[] = [];
  for (const [answer, rank] of ra) {
    const other = rb.get(answer);
    if (other === undefined) continue;
    xs.push(rank);
    ys.push(other);
  }
  return xs.length >= 2 ? kendallTauB(xs, ys) : NaN;
}

export function buildReport(input: ReportInput): Report {
  const { instructions, metrics } = input;
  const boot = { resamples: input.resamples ?? 1000, seed: input.seed ?? 20231 };
  const all = instructions.flatMap((ins) => ins.answers.map((_, idx) => ({ ins, idx })));
  const reviewers = [...new Set(instructions.flatMap((i) => i.reviews.map((r) => r.reviewer)))].sort();
  let judgements = 0;
  let staleJudgements = 0;
  for (const ins of instructions) {
    for (const r of ins.reviews) {
      for (const j of r.judgements) {
        judgements++;
        if (j.stale) staleJudgements++;
      }
    }
  }

  const groups = groupRows(all, metrics);

  const categories = [...new Set(instructions.map((i) => i.category ?? '(no category)'))].sort();
  const byCategory = categories.map((category) => ({
    category,
    rows: groupRows(
      all.filter((x) => (x.ins.category ?? '(no category)') === category),
      metrics,
    ),
  }));

  const lengths = all
    .map((x) => x.ins.answers[x.idx].recordTokens)
    .filter((v): v is number => v !== undefined && Number.isFinite(v))
    .sort((a, b) => a - b);
  const byLengthQuartile: Report['byLengthQuartile'] = [];
  if (lengths.length > 0) {
    const cuts = [25, 50, 75].map((q) => percentile(lengths, q));
    const quartileOf = (v: number) => (v <= cuts[0] ? 1 : v <= cuts[1] ? 2 : v <= cuts[2] ? 3 : 4);
    for (let q = 1; q <= 4; q++) {
      const items = all.filter((x) => {
        const v = x.ins.answers[x.idx].recordTokens;
        return v !== undefined && Number.isFinite(v) && quartileOf(v) === q;
      });
      if (items.length === 0) continue;
      const vs = items.map((x) => x.ins.answers[x.idx].recordTokens!);
      byLengthQuartile.push({
        quartile: q,
        from: Math.min(...vs),
        to: Math.max(...vs),
        rows: groupRows(items, metrics),
      });
    }
  }

  const contextDiffs: ContextDiff[] = [];
  const byModel = new Map<string, GroupRow[]>();
  for (const g of groups) {
    const k = `${g.endpoint}\u0000${g.model}`;
    byModel.set(k, [...(byModel.get(k) ?? []), g]);
  }
  for (const rows of byModel.values()) {
    if (rows.length < 2) continue;
    const small = rows[0];
    const large = rows[rows.length - 1];
    const diff = (a: number | null, b: number | null) => (a === null || b === null ? null : b - a);
    contextDiffs.push({
      endpoint: small.endpoint,
      model: small.model,
      small: small.contextLabel,
      large: large.contextLabel,
      pctCorrect: diff(small.pctCorrect, large.pctCorrect),
      meanRank: diff(small.meanRank, large.meanRank),
      metrics: Object.fromEntries(metrics.map((m) => [m.id, diff(small.metrics[m.id], large.metrics[m.id])])),
    });
  }

  const metricTau: TauRow[] = metrics.map((m) => {
    const sign = m.higherIsBetter ? 1 : -1;
    const taus = instructionTaus(instructions, (a) => {
      const v = a.scores[m.id];
      return v === undefined ? undefined : sign * v;
    });
    return { id: m.id, label: m.label, ...meanWithInterval(taus, boot) };
  });

  const interRater: TauRow[] = [];
  if (reviewers.length >= 2) {
    const perInstructionAll: number[][] = instructions.map(() => []);
    for (let i = 0; i < reviewers.length; i++) {
      for (let k = i + 1; k < reviewers.length; k++) {
        const a = reviewers[i];
        const b = reviewers[k];
        const taus = instructions.map((ins, n) => {
          const t = pairTau(ins, a, b);
          if (!Number.isNaN(t)) perInstructionAll[n].push(t);
          return t;
        });
        interRater.push({ id: `${a} vs ${b}`, label: `${a} vs ${b}`, ...meanWithInterval(taus, boot) });
      }
    }
    if (reviewers.length > 2) {
      const taus = perInstructionAll.map((ts) =>
        ts.length ? ts.reduce((x, y) => x + y, 0) / ts.length : NaN,
      );
      interRater.unshift({ id: 'all pairs', label: 'all reviewer pairs', ...meanWithInterval(taus, boot) });
    }
  }

  const notes = [
    'Percent correct and mean rank count every non-stale judgement (each reviewer once); rank 1 is the best.',
    "Kendall's tau-b (as scipy.stats.kendalltau) between each metric's scores and the clinicians' ranks, " +
      'computed per instruction (averaged over its reviewers), then averaged over instructions; ' +
      `95% interval: percentile bootstrap over instructions (${boot.resamples} resamples, seed ${boot.seed}). ` +
      'Instructions where tau is undefined (fewer than two ranked answers, all tied) are left out and counted.',
    'Record-length quartiles: the record in tokens of each answer’s encoding (kept + cut), cut at the 25th, 50th and 75th percentiles.',
  ];
  if (staleJudgements > 0) {
    notes.push(
      `${staleJudgements} stale judgement(s) (the answer, instruction, record or template changed since) are left out.`,
    );
  }

  return {
    counts: {
      instructions: instructions.length,
      answers: all.length,
      reviewers: reviewers.length,
      judgements,
      staleJudgements,
    },
    metrics,
    groups,
    byCategory,
    byLengthQuartile,
    contextDiffs,
    metricTau,
    interRater,
    notes,
  };
}
