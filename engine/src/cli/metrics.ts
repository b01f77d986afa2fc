/**
 * `medalign metrics --gold <file> --answer <file> [--json]`: one answer scored against its gold
 * response with every built-in metric (core/metrics: ROUGE as rouge_score, BLEU and chrF as
 * sacrebleu), and with the project's external scorers named by `--scorer` (a trusted folder only:
 * a scorer is a command from the config).
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { BUILTIN_METRICS, METRIC_LABELS, scoreAnswer } from '../core/metrics/metrics';
import { CONFIG_FILE_NAME, parseConfig } from '../core/workspace/config';
import type { ScorerConfig } from '../core/workspace/config';
import { projectRootOf } from '../host/projectRoot';
import { scorePairs } from '../run/scoring';
import { ScoreCache } from '../run/scoreCache';
import { TrustedFolders, trustedFoldersPath } from '../run/trust';
import { UsageError, listOption, parseArgs } from './args';
import type { CliIo } from './io';
import { ensureTrusted } from './trust';

const USAGE =
  'usage: medalign metrics --gold <file> --answer <file> [--src <file>] [--scorer id,...] [--json] [--trust]';
/** A text beyond this is refused (an answer or gold response is a few kB). */
export const MAX_TEXT_BYTES = 8 * 1024 * 1024;

/** Reads a UTF-8 text file for scoring, with a message that names the option when it cannot. */
export async function readScoredText(cwd: string, file: string, option: string): Promise<string> {
  const full = path.resolve(cwd, file);
  let st;
  try {
    st = await fsp.stat(full);
  } catch {
    throw new UsageError(`--${option}: no such file: ${file}`);
  }
  if (!st.isFile()) throw new UsageError(`--${option}: not a file: ${file}`);
  if (st.size > MAX_TEXT_BYTES) {
    throw new UsageError(`--${option}: ${file} is ${st.size} bytes; at most ${MAX_TEXT_BYTES} are scored.`);
  }
  const buf = await fsp.readFile(full);
  if (buf.includes(0))
    throw new UsageError(`--${option}: ${file} is not a text file (it contains NUL bytes).`);
  return buf.toString('utf8').replace(/^\uFEFF/, '');
}

/** The project's scorers named by `ids` (all of them for `all`); an unknown id is a usage error. */
async function scorersFor(root: string, ids: readonly string[]): Promise<ScorerConfig[]> {
  if (ids.length === 0) return [];
  const text = await fsp.readFile(path.join(root, CONFIG_FILE_NAME), 'utf8').catch(() => undefined);
  const declared = parseConfig(text).config.scorers ?? [];
  if (ids.includes('all')) return declared;
  return ids.map((id) => {
    const s = declared.find((d) => d.id === id);
    if (!s) {
      const known = declared.map((d) => d.id).join(', ') || 'none';
      throw new UsageError(
        `--scorer ${id}: no such scorer in ${path.join(root, CONFIG_FILE_NAME)} (declared: ${known}).`,
      );
    }
    return s;
  });
}

export async function runMetrics(args: string[], io: CliIo): Promise<number> {
  const p = parseArgs(args, ['gold', 'answer', 'src', 'scorer'], ['json', 'trust']);
  if (p.positional.length > 0) throw new UsageError(`unexpected argument '${p.positional[0]}'. ${USAGE}`);
  const goldFile = p.values.get('gold')?.at(-1);
  const answerFile = p.values.get('answer')?.at(-1);
  if (goldFile === undefined || answerFile === undefined) throw new UsageError(USAGE);
  const gold = await readScoredText(io.cwd, goldFile, 'gold');
  const answer = await readScoredText(io.cwd, answerFile, 'answer');
  const srcFile = p.values.get('src')?.at(-1);
  const src = srcFile === undefined ? '' : await readScoredText(io.cwd, srcFile, 'src');

  const result: Record<string, number> = { ...scoreAnswer(gold, answer) };
  const scorerIds = listOption(p, 'scorer');
  const { root } = await projectRootOf(path.join(io.cwd, '_'), [io.cwd]);
  const scorers = await scorersFor(root, scorerIds);
  if (scorers.length > 0) {
    const store = new TrustedFolders(trustedFoldersPath(io.env));
    if (
      !(await ensureTrusted([root], { command: 'metrics --scorer', flag: p.flags.has('trust'), io, store }))
    ) {
      return 1;
    }
    const scored = await scorePairs([{ src, answer, gold }], {
      metrics: [],
      scorers,
      cwd: root,
      cache: new ScoreCache(root),
    });
    Object.assign(result, scored.scores[0]);
  }

  if (p.flags.has('json')) {
    io.out(JSON.stringify(result, null, 2) + '\n');
    return 0;
  }
  const rows: [string, string, string][] = [
    ...BUILTIN_METRICS.map((m): [string, string, string] => [
      METRIC_LABELS[m],
      m.startsWith('rouge') ? result[m].toFixed(4) : result[m].toFixed(2),
      m.startsWith('rouge') ? '0-1, rouge_score (stemmed)' : '0-100, sacrebleu',
    ]),
    ...scorers.map((s): [string, string, string] => [
      s.id,
      result[s.id].toFixed(4),
      s.description ?? 'external scorer',
    ]),
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  const v = Math.max(...rows.map((r) => r[1].length));
  for (const [name, value, note] of rows) io.out(`${name.padEnd(w)}  ${value.padStart(v)}  ${note}\n`);
  return 0;
}
