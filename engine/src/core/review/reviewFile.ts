/**
 * The review file: one reviewer's judgement of the answers to one instruction, at
 * `<review folder>/<instruction id>/<reviewer>.json` (one file per reviewer per instruction, so two
 * clinicians never edit the same file and git merges their work). Per answer it holds the run's key,
 * the endpoint/model/context, the hashes the judgement was made on (instruction, record, template,
 * answer text), the label, error tags, a comment, a rank and when it was submitted — never the
 * answer or the record text. Schema: `schema/review.schema.json` (docs/review.md).
 *
 * `parseReviewFile` never throws: every problem comes back as a sentence. `serializeReview` writes
 * keys in one fixed order and answers sorted by endpoint, context and model, one line per value,
 * with a trailing newline, so a diff of two versions shows what changed and nothing else.
 */
import { hash64 } from '../util/hash';
import { safeSegment } from '../run/runRecord';

export const REVIEW_FORMAT = 'medalign-review';
export const REVIEW_VERSION = 1;
/** A review file beyond this size is not read (a real one is a few kB). */
export const REVIEW_MAX_CHARS = 1_048_576;
/** Problems reported per file; the rest are counted in one more line. */
export const REVIEW_MAX_PROBLEMS = 20;

export type ReviewLabel = 'correct' | 'incorrect';

/** What a judgement was made on: when one of these differs from the answer's run, it is stale. */
export interface AnswerHashes {
  /** The instruction file's hash (as the run records it: sha256 hex). */
  instruction: string;
  record: string;
  template: string;
  /** `answerTextHash(run.response)`. */
  answer: string;
}

export interface ReviewedAnswer {
  run: { id: string; key: string };
  /** Endpoint id, or `baseline`. */
  endpoint: string;
  model: string;
  context: number;
  contextLabel: string;
  hashes: AnswerHashes;
  label: ReviewLabel | null;
  tags: string[];
  comment: string;
  /** 1 is best; equal numbers are ties; null while not ranked. */
  rank: number | null;
  /** ISO time the judgement was submitted; null for a draft. */
  submittedAt: string | null;
}

export interface ReviewFile {
  format: typeof REVIEW_FORMAT;
  version: typeof REVIEW_VERSION;
  instruction: { id: string; file?: string };
  reviewer: string;
  blinded: boolean;
  updatedAt: string;
  answers: ReviewedAnswer[];
}

export type ParseReviewResult = { ok: true; review: ReviewFile } | { ok: false; errors: string[] };

/**
 * Hash of an answer's text, as review files keep it: 16 hex digits of a 64-bit hash and the length
 * (`3f1c…9a:1kq`). Not cryptographic (the core has no crypto); it tells whether the text changed.
 */
export function answerTextHash(text: string): string {
  const [a, b] = hash64(text);
  return `${a.toString(16).padStart(8, '0')}${b.toString(16).padStart(8, '0')}:${text.length.toString(36)}`;
}

/** The identity of an answer slot within an instruction: one model at one context on one endpoint. */
export function slotId(a: Pick<ReviewedAnswer, 'endpoint' | 'model' | 'context'>): string {
  return `${a.endpoint}\u0000${a.model}\u0000${a.context}`;
}

/** `<folder>/<instruction id>/<reviewer>.json`, relative to the project root, `/`-separated. */
export function reviewFilePath(folder: string, instructionId: string, reviewer: string): string {
  const f = folder.replace(/\\/g, '/').replace(/\/+$/, '') || '.';
  return `${f}/${safeSegment(instructionId)}/${reviewerFileName(reviewer)}`;
}

/** The file name of a reviewer's review: `Ada_Lovelace.json`. */
export function reviewerFileName(reviewer: string): string {
  return `${safeSegment(reviewer.trim(), 80)}.json`;
}

function compareAnswers(a: ReviewedAnswer, b: ReviewedAnswer): number {
  if (a.endpoint !== b.endpoint) return a.endpoint < b.endpoint ? -1 : 1;
  if (a.context !== b.context) return a.context - b.context;
  if (a.model !== b.model) return a.model < b.model ? -1 : 1;
  return 0;
}

/** One answer with its keys in schema order. */
function orderedAnswer(a: ReviewedAnswer): ReviewedAnswer {
  return {
    run: { id: a.run.id, key: a.run.key },
    endpoint: a.endpoint,
    model: a.model,
    context: a.context,
    contextLabel: a.contextLabel,
    hashes: {
      instruction: a.hashes.instruction,
      record: a.hashes.record,
      template: a.hashes.template,
      answer: a.hashes.answer,
    },
    label: a.label,
    tags: [...new Set(a.tags)],
    comment: a.comment,
    rank: a.rank,
    submittedAt: a.submittedAt,
  };
}

/**
 * The file text: keys in a fixed order, answers sorted by endpoint, context and model, two-space
 * JSON, a trailing newline. `parseReviewFile(serializeReview(r))` gives `r` back (answers sorted).
 */
export function serializeReview(r: ReviewFile): string {
  const instruction: ReviewFile['instruction'] = { id: r.instruction.id };
  if (r.instruction.file !== undefined) instruction.file = r.instruction.file;
  const out: ReviewFile = {
    format: REVIEW_FORMAT,
    version: REVIEW_VERSION,
    instruction,
    reviewer: r.reviewer,
    blinded: r.blinded,
    updatedAt: r.updatedAt,
    answers: r.answers.map(orderedAnswer).sort(compareAnswers),
  };
  return JSON.stringify(out, null, 2) + '\n';
}

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => x !== null && typeof x === 'object' && !Array.isArray(x);

/** Limits of review.schema.json (a test checks both agree). */
const MAX = {
  id: 200,
  file: 1000,
  reviewer: 200,
  time: 40,
  answers: 200,
  hash: 128,
  key: 64,
  tags: 50,
  tag: 200,
  comment: 20_000,
};

/**
 * Checks `raw` against review.schema.json by hand (the extension host reads review files and carries
 * no JSON Schema validator; test/unit/review.test.ts checks this against the schema with ajv).
 * Problems as `where: what`.
 */
function checkShape(raw: Obj): string[] {
  const errors: string[] = [];
  const unknownKeys = (o: Obj, allowed: readonly string[], where: string) => {
    for (const k of Object.keys(o)) {
      if (!allowed.includes(k)) errors.push(`${where}: unknown key "${k}"`);
    }
  };
  const str = (
    o: Obj,
    k: string,
    where: string,
    max: number,
    o2: { min?: number; optional?: boolean } = {},
  ) => {
    const v = o[k];
    if (v === undefined) {
      if (!o2.optional) errors.push(`${where}: missing "${k}"`);
      return;
    }
    const at = where === '(top level)' ? k : `${where}/${k}`;
    if (typeof v !== 'string') errors.push(`${at}: must be a string`);
    else if (v.length < (o2.min ?? 0)) errors.push(`${at}: must not be empty`);
    else if (v.length > max) errors.push(`${at}: longer than ${max} characters`);
  };
  const TOP = ['format', 'version', 'instruction', 'reviewer', 'blinded', 'updatedAt', 'answers'];
  unknownKeys(raw, TOP, '(top level)');
  const ins = raw['instruction'];
  if (!isObj(ins))
    errors.push(ins === undefined ? '(top level): missing "instruction"' : 'instruction: must be an object');
  else {
    unknownKeys(ins, ['id', 'file'], 'instruction');
    str(ins, 'id', 'instruction', MAX.id, { min: 1 });
    str(ins, 'file', 'instruction', MAX.file, { optional: true });
  }
  str(raw, 'reviewer', '(top level)', MAX.reviewer, { min: 1 });
  if (raw['blinded'] === undefined) errors.push('(top level): missing "blinded"');
  else if (typeof raw['blinded'] !== 'boolean') errors.push('blinded: must be true or false');
  str(raw, 'updatedAt', '(top level)', MAX.time);
  const answers = raw['answers'];
  if (!Array.isArray(answers)) {
    errors.push(answers === undefined ? '(top level): missing "answers"' : 'answers: must be an array');
    return errors;
  }
  if (answers.length > MAX.answers) errors.push(`answers: more than ${MAX.answers} answers`);
  answers.slice(0, MAX.answers).forEach((a: unknown, i) => {
    const w = `answers/${i}`;
    if (!isObj(a)) {
      errors.push(`${w}: must be an object`);
      return;
    }
    const KEYS = [
      'run',
      'endpoint',
      'model',
      'context',
      'contextLabel',
      'hashes',
      'label',
      'tags',
      'comment',
      'rank',
      'submittedAt',
    ];
    unknownKeys(a, KEYS, w);
    for (const k of KEYS) if (a[k] === undefined) errors.push(`${w}: missing "${k}"`);
    const run = a['run'];
    if (run !== undefined && !isObj(run)) errors.push(`${w}/run: must be an object`);
    else if (isObj(run)) {
      unknownKeys(run, ['id', 'key'], `${w}/run`);
      str(run, 'id', `${w}/run`, MAX.id);
      str(run, 'key', `${w}/run`, MAX.key);
    }
    if (a['endpoint'] !== undefined) str(a, 'endpoint', w, MAX.id, { min: 1 });
    if (a['model'] !== undefined) str(a, 'model', w, MAX.id);
    if (a['contextLabel'] !== undefined) str(a, 'contextLabel', w, MAX.time);
    const ctx = a['context'];
    if (ctx !== undefined && !(typeof ctx === 'number' && Number.isInteger(ctx) && ctx >= 0)) {
      errors.push(`${w}/context: must be a whole number of tokens`);
    }
    const h = a['hashes'];
    if (h !== undefined && !isObj(h)) errors.push(`${w}/hashes: must be an object`);
    else if (isObj(h)) {
      const HK = ['instruction', 'record', 'template', 'answer'];
      unknownKeys(h, HK, `${w}/hashes`);
      for (const k of HK) str(h, k, `${w}/hashes`, MAX.hash);
    }
    const label = a['label'];
    if (label !== undefined && label !== 'correct' && label !== 'incorrect' && label !== null) {
      errors.push(`${w}/label: must be "correct", "incorrect" or null`);
    }
    const tags = a['tags'];
    if (tags !== undefined) {
      if (!Array.isArray(tags)) errors.push(`${w}/tags: must be an array of strings`);
      else {
        if (tags.length > MAX.tags) errors.push(`${w}/tags: more than ${MAX.tags} tags`);
        tags.forEach((t: unknown, j) => {
          if (typeof t !== 'string' || t.length === 0 || t.length > MAX.tag) {
            errors.push(`${w}/tags/${j}: must be a non-empty string of at most ${MAX.tag} characters`);
          }
        });
      }
    }
    if (a['comment'] !== undefined) str(a, 'comment', w, MAX.comment);
    const rank = a['rank'];
    if (
      rank !== undefined &&
      rank !== null &&
      !(typeof rank === 'number' && Number.isInteger(rank) && rank >= 1)
    ) {
      errors.push(`${w}/rank: must be a whole number from 1, or null`);
    }
    const sub = a['submittedAt'];
    if (sub !== undefined && sub !== null && !(typeof sub === 'string' && sub.length <= MAX.time)) {
      errors.push(`${w}/submittedAt: must be a time (ISO string) or null`);
    }
  });
  return errors;
}

/**
 * A review file from its text: checked against the schema and for sense (no answer slot twice,
 * ranks within the number of answers). Never throws; `errors` says what is wrong, where.
 */
export function parseReviewFile(text: string): ParseReviewResult {
  if (typeof text !== 'string') return { ok: false, errors: ['the review file is not text'] };
  if (text.length > REVIEW_MAX_CHARS) {
    return {
      ok: false,
      errors: [`the review file is too large (${text.length} characters; at most ${REVIEW_MAX_CHARS})`],
    };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { ok: false, errors: [`not valid JSON: ${(err as Error).message}`] };
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, errors: ['not a review file: expected a JSON object'] };
  }
  const r = raw as Record<string, unknown>;
  if (r['format'] !== REVIEW_FORMAT) {
    return { ok: false, errors: [`not a review file: "format" must be "${REVIEW_FORMAT}"`] };
  }
  if (r['version'] !== REVIEW_VERSION) {
    return {
      ok: false,
      errors: [
        `review file version ${JSON.stringify(r['version'])} is not supported (this version of MedAlign Studio reads version ${REVIEW_VERSION})`,
      ],
    };
  }
  const schemaErrors = checkShape(r);
  if (schemaErrors.length > 0) {
    const errors = schemaErrors.slice(0, REVIEW_MAX_PROBLEMS);
    if (schemaErrors.length > REVIEW_MAX_PROBLEMS) {
      errors.push(`${schemaErrors.length - REVIEW_MAX_PROBLEMS} more problems not shown`);
    }
    return { ok: false, errors };
  }
  const review = raw as unknown as ReviewFile;
  const errors: string[] = [];
  const seen = new Map<string, number>();
  review.answers.forEach((a, i) => {
    const id = slotId(a);
    const first = seen.get(id);
    if (first !== undefined) {
      errors.push(
        `answers/${i}: the same answer (${a.endpoint} · ${a.contextLabel}) as answers/${first}; one entry per model and context`,
      );
    } else seen.set(id, i);
    if (a.rank !== null && a.rank > review.answers.length) {
      errors.push(`answers/${i}/rank: ${a.rank} is beyond the number of answers (${review.answers.length})`);
    }
  });
  if (review.reviewer.trim() === '') errors.push('reviewer: must not be blank');
  if (errors.length > 0) return { ok: false, errors: errors.slice(0, REVIEW_MAX_PROBLEMS) };
  return {
    ok: true,
    review: { ...review, answers: review.answers.map(orderedAnswer).sort(compareAnswers) },
  };
}
