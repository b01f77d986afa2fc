/**
 * The built-in metrics of one answer against its gold response, all exact ports of their reference
 * implementations (see rouge.ts, sacrebleu.ts): ROUGE F-measures on 0-1, BLEU and chrF(++) on
 * sacrebleu's 0-100.
 */
import { rouge } from './rouge';
import { sentenceBleu, sentenceChrfBoth } from './sacrebleu';

export const BUILTIN_METRICS = ['rouge1', 'rouge2', 'rougeL', 'bleu', 'chrf', 'chrfpp'] as const;
export type BuiltinMetric = (typeof BUILTIN_METRICS)[number];
export type MetricScores = Record<BuiltinMetric, number>;

export const METRIC_LABELS: Record<BuiltinMetric, string> = {
  rouge1: 'ROUGE-1 F',
  rouge2: 'ROUGE-2 F',
  rougeL: 'ROUGE-L F',
  bleu: 'BLEU',
  chrf: 'chrF',
  chrfpp: 'chrF++',
};

export function isBuiltinMetric(name: string): name is BuiltinMetric {
  return (BUILTIN_METRICS as readonly string[]).includes(name);
}

/** Every built-in metric of `answer` (the hypothesis) against `gold` (the reference). */
export function scoreAnswer(gold: string, answer: string): MetricScores {
  const r = rouge(gold, answer);
  const { chrf, chrfpp } = sentenceChrfBoth(answer, gold);
  return {
    rouge1: r.rouge1.fmeasure,
    rouge2: r.rouge2.fmeasure,
    rougeL: r.rougeL.fmeasure,
    bleu: sentenceBleu(answer, gold).score,
    chrf,
    chrfpp,
  };
}

/** One built-in metric. */
export function scoreMetric(metric: BuiltinMetric, gold: string, answer: string): number {
  switch (metric) {
    case 'rouge1':
    case 'rouge2':
    case 'rougeL':
      return rouge(gold, answer)[metric].fmeasure;
    case 'bleu':
      return sentenceBleu(answer, gold).score;
    case 'chrf':
    case 'chrfpp':
      return sentenceChrfBoth(answer, gold)[metric];
  }
}
