/**
 * Metrics and report benchmarks (issue 11):
 *
 * 1. Every built-in metric (ROUGE-1/2/L, BLEU, chrF, chrF++) for 10,000 answer/gold pairs of 300
 *    words, through the score cache: cold (empty cache; the cache files are written), target < 5 s;
 *    then cached (a new cache object reading the files, as a new process would), target < 0.2 s.
 * 2. The report over 1,000 instructions × 6 models with two reviewers (1,000 bootstrap resamples
 *    per tau row), target < 2 s.
 *
 * Floors measured in the same run, so the figures can be read on any machine: for (1) one pass
 * that lowercases and splits every text on whitespace (the least any metric must do), and hashing
 * every text (what a cache lookup must do), and as a peer of the per-pair cost, the plain port of
 * the reference code (test/helpers/metricsReference.ts); for (2) a JSON round trip of the report's
 * input.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildReport } from '../../engine/src/core/metrics/report';
import type { ReportInput, ReportInstruction } from '../../engine/src/core/metrics/report';
import { BUILTIN_METRICS, scoreAnswer } from '../../engine/src/core/metrics/metrics';
import { referenceScores } from '../helpers/metricsReference';
import { ScoreCache } from '../../engine/src/run/scoreCache';
import { scorePairs, textKey } from '../../engine/src/run/scoring';
import { Prng } from '../../engine/src/core/metrics/agreement';
import { fmt, median, row, timeMs } from './stats';

/** A clinical-looking vocabulary: 120 real words and 1,500 made-up ones (drug-like names, numbers). */
function vocabulary(rng: Prng): string[] {
  const real = (
    'the patient was admitted with chest pain and shortness of breath troponin elevated started on aspirin ' +
    'heparin metoprolol atorvastatin cardiology consulted echocardiogram showed reduced ejection fraction ' +
    'discharged home follow up in clinic two weeks blood pressure creatinine history of diabetes hypertension ' +
    'hyperlipidemia smoking denies fever chills nausea vomiting abdominal exam normal labs notable for sodium ' +
    'potassium glucose hemoglobin platelets mg dL mmol IV PO daily twice given once on for to of in a an is ' +
    'no not with without after before during her his they were noted plan continue stop increase decrease'
  ).split(' ');
  const syll = [
    'pro',
    'lo',
    'zan',
    'mid',
    'pril',
    'sar',
    'tan',
    'ol',
    'ine',
    'ate',
    'cor',
    'neph',
    'gli',
    'pa',
  ];
  const made: string[] = [];
  for (let i = 0; i < 1500; i++) {
    const k = 2 + rng.int(3);
    let w = '';
    for (let j = 0; j < k; j++) w += syll[rng.int(syll.length)];
    made.push(i % 10 === 0 ? `${rng.int(500)}.${rng.int(10)}` : w);
  }
  return [...real, ...made];
}

function text(rng: Prng, vocab: readonly string[], words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) {
    // Zipf-like: common words often, the long tail rarely.
    const w = vocab[Math.floor(vocab.length * rng.next() ** 3)];
    out.push(i % 17 === 16 ? `${w}.` : i % 11 === 10 ? `${w},` : w);
  }
  return out.join(' ');
}

export async function runMetricsBench(): Promise<void> {
  console.log('\nMetrics and report (issue 11)');
  const rng = new Prng(11);
  const vocab = vocabulary(rng);
  const pairs = Array.from({ length: 10_000 }, () => {
    const gold = text(rng, vocab, 300);
    // An answer shares about half of its words with its gold response.
    const answer = text(rng, vocab, 150) + ' ' + gold.split(' ').slice(0, 150).join(' ');
    return { answer, gold };
  });

  const [floorSplit] = await timeMs(() => {
    let n = 0;
    for (const p of pairs)
      n += p.answer.toLowerCase().split(/\s+/).length + p.gold.toLowerCase().split(/\s+/).length;
    return n;
  });
  const [floorHash] = await timeMs(() => {
    let n = 0;
    for (const p of pairs) n += textKey(p.answer).length + textKey(p.gold).length;
    return n;
  });

  const colds: number[] = [];
  const coldCpu: number[] = [];
  const cacheds: number[] = [];
  for (let k = 0; k < 3; k++) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'medalign-bench-metrics-'));
    try {
      const cpu0 = process.cpuUsage();
      const [cold, a] = await timeMs(() => scorePairs(pairs, { cache: new ScoreCache(dir) }));
      const cpu = process.cpuUsage(cpu0);
      coldCpu.push((cpu.user + cpu.system) / 1000);
      const [cached, b] = await timeMs(() => scorePairs(pairs, { cache: new ScoreCache(dir) }));
      if (a.computed !== pairs.length * BUILTIN_METRICS.length || b.computed !== 0)
        throw new Error('cache not used');
      colds.push(cold);
      cacheds.push(cached);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  row('floor: lowercase + split 20,000 texts of 300 words', fmt(floorSplit));
  row('floor: hash 20,000 texts', fmt(floorHash));
  row('6 metrics × 10,000 pairs of 300 words, cold (median of 3)', fmt(median(colds)), '< 5 s');
  row('  ratio to the split floor', `${(median(colds) / floorSplit).toFixed(0)}×`);
  // CPU time of every thread (the metrics run on the main thread and worker threads, metricsPool.ts):
  // on a busy machine the wall time is mostly waiting for a core.
  row('  CPU time, all threads (median of 3)', fmt(median(coldCpu)));
  row(
    '  load average (1 min) / cores',
    `${os.loadavg()[0].toFixed(1)} / ${typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length}`,
  );
  row('  CPU time / split floor', `${(median(coldCpu) / floorSplit).toFixed(0)}×`);

  // Per pair on one thread, against the peer: the plain port of the reference code (string n-grams
  // in maps as Python's Counter, the LCS table, regexes; test/helpers/metricsReference.ts), which
  // gives the same numbers (test/unit/metricsExact.test.ts).
  const some = pairs.slice(0, 300);
  const ours: number[] = [];
  const peer: number[] = [];
  for (let k = 0; k < 3; k++) {
    ours.push((await timeMs(() => some.map((p) => scoreAnswer(p.gold, p.answer))))[0] / some.length);
    peer.push((await timeMs(() => some.map((p) => referenceScores(p.gold, p.answer))))[0] / some.length);
  }
  row('6 metrics, one pair of 300 words, one thread (median of 3)', fmt(median(ours)));
  row('  peer: the plain port of the reference code', fmt(median(peer)));
  row('  ratio to the peer', `${(median(ours) / median(peer)).toFixed(2)}×`);

  row('6 metrics × 10,000 pairs, cached (new cache, files read)', fmt(median(cacheds)), '< 0.2 s');
  row('  ratio to the hash floor', `${(median(cacheds) / floorHash).toFixed(1)}×`);

  // The report: 1,000 instructions × 6 models (3 endpoints × 2 contexts), two reviewers ranking all.
  const slots = ['a', 'b', 'c'].flatMap((e) =>
    [2048, 32768].map((context) => ({
      endpoint: e,
      model: `${e}-model`,
      context,
      contextLabel: `${context / 1024}k`,
    })),
  );
  const categories = ['retrieve', 'summarize', 'calculate', 'explain', 'plan'];
  const instructions: ReportInstruction[] = Array.from({ length: 1000 }, (_, i) => ({
    id: String(7_000_000 + i),
    category: categories[i % categories.length],
    answers: slots.map((s) => ({
      ...s,
      recordTokens: 1000 + rng.int(60_000),
      scores: Object.fromEntries(
        BUILTIN_METRICS.map((m) => [m, rng.next() * (m.startsWith('rouge') ? 1 : 100)]),
      ),
    })),
    reviews: ['Dr A', 'Dr B'].map((reviewer) => ({
      reviewer,
      judgements: slots.map((_, answer) => ({
        answer,
        label: rng.next() < 0.6 ? ('correct' as const) : ('incorrect' as const),
        rank: 1 + rng.int(6),
        stale: rng.next() < 0.02,
      })),
    })),
  }));
  const input: ReportInput = {
    instructions,
    metrics: BUILTIN_METRICS.map((m) => ({ id: m, label: m, higherIsBetter: true, scale: '0-100' as const })),
  };
  const floors: number[] = [];
  const reports: number[] = [];
  for (let k = 0; k < 5; k++) {
    floors.push((await timeMs(() => JSON.parse(JSON.stringify(input)) as unknown))[0]);
    reports.push((await timeMs(() => buildReport(input)))[0]);
  }
  row('floor: JSON round trip of the report input', fmt(median(floors)));
  row('report: 1,000 instructions × 6 models, 2 reviewers', fmt(median(reports)), '< 2 s');
  row('  ratio to the floor', `${(median(reports) / median(floors)).toFixed(1)}×`);
}
