/**
 * Review files on disk: `<root>/<review folder>/<instruction id>/<reviewer>.json` (docs/review.md).
 * Written atomically (a temporary file, then rename) and never through a symbolic link: the review
 * folder, the instruction's folder and the file are checked one component at a time, as run files
 * are. Read with a size cap and without following a link, and checked (`parseReviewFile`): a broken
 * file gives its problems, never a throw. The answers to review come from the run store: the newest
 * complete answer of each model/context (`latestAnswers`).
 */
import { constants, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { ReviewFile } from '../core/review/reviewFile';
import {
  REVIEW_MAX_CHARS,
  parseReviewFile,
  reviewerFileName,
  serializeReview,
} from '../core/review/reviewFile';
import { latestAnswers } from '../core/review/reviewStatus';
import type { RunRecord } from '../core/run/runRecord';
import { safeSegment } from '../core/run/runRecord';
import { UnsafePathError, checkDirs, ensureDirs, openNoFollow } from './safeFs';
import type { RunStore, StoredRun } from './store';
import { writeFileAtomic } from './store';

/** A review file read from disk: the review, or why it could not be used. */
export type LoadedReview =
  { file: string; ok: true; review: ReviewFile } | { file: string; ok: false; errors: string[] };

/**
 * The review folder's segments under the root, or an error when it leaves the root (`..`, an
 * absolute path): review files are written inside the project only.
 */
export function reviewFolderSegments(folder: string): string[] {
  const norm = folder.replace(/\\/g, '/');
  if (norm.startsWith('/') || /^[A-Za-z]:/.test(norm)) {
    throw new UnsafePathError(folder, `review.folder "${folder}" must be relative to the project root.`);
  }
  const segs = norm.split('/').filter((s) => s !== '' && s !== '.');
  if (segs.some((s) => s === '..')) {
    throw new UnsafePathError(folder, `review.folder "${folder}" must stay inside the project (no "..").`);
  }
  return segs.length > 0 ? segs : ['reviews'];
}

export class ReviewStore {
  readonly segments: string[];
  readonly dir: string;

  /** `folder`: the config's `review.folder`, relative to `root`. Throws `UnsafePathError` when it leaves the root. */
  constructor(
    readonly root: string,
    folder: string,
  ) {
    this.segments = reviewFolderSegments(folder);
    this.dir = path.join(root, ...this.segments);
  }

  /** The absolute path of a reviewer's review of an instruction. */
  fileOf(instructionId: string, reviewer: string): string {
    return path.join(this.dir, safeSegment(instructionId), reviewerFileName(reviewer));
  }

  /** Reads a review file: `undefined` when there is none. Never follows a link; never throws for bad content. */
  async readFile(file: string): Promise<LoadedReview | undefined> {
    let text: string;
    try {
      const rel = path.relative(this.root, path.dirname(file)).split(path.sep);
      await checkDirs(this.root, rel);
      const fh = await openNoFollow(this.root, file, constants.O_RDONLY);
      try {
        const st = await fh.stat();
        if (!st.isFile()) return { file, ok: false, errors: ['not a regular file'] };
        if (st.size > REVIEW_MAX_CHARS * 4) {
          return { file, ok: false, errors: [`the review file is too large (${st.size} bytes)`] };
        }
        text = await fh.readFile('utf8');
      } finally {
        await fh.close();
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      return { file, ok: false, errors: [(err as Error).message] };
    }
    const parsed = parseReviewFile(text);
    return parsed.ok ? { file, ok: true, review: parsed.review } : { file, ok: false, errors: parsed.errors };
  }

  /** A reviewer's review of an instruction, if there is one. */
  read(instructionId: string, reviewer: string): Promise<LoadedReview | undefined> {
    return this.readFile(this.fileOf(instructionId, reviewer));
  }

  /** Every reviewer's review of an instruction (for agreement between reviewers), by file name. */
  async readAll(instructionId: string): Promise<LoadedReview[]> {
    const dir = path.join(this.dir, safeSegment(instructionId));
    const names = await fsp.readdir(dir).catch(() => [] as string[]);
    const out: LoadedReview[] = [];
    for (const n of names.sort()) {
      if (!n.endsWith('.json') || n.startsWith('.')) continue;
      const r = await this.readFile(path.join(dir, n));
      if (r) out.push(r);
    }
    return out;
  }

  /** Every review file under the folder (all instructions, all reviewers), sorted by path. */
  async list(): Promise<LoadedReview[]> {
    const dirs = await fsp.readdir(this.dir, { withFileTypes: true }).catch(() => []);
    const out: LoadedReview[] = [];
    for (const d of dirs.filter((e) => e.isDirectory()).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const names = await fsp.readdir(path.join(this.dir, d.name)).catch(() => [] as string[]);
      for (const n of names.sort()) {
        if (!n.endsWith('.json') || n.startsWith('.')) continue;
        const r = await this.readFile(path.join(this.dir, d.name, n));
        if (r) out.push(r);
      }
    }
    return out;
  }

  /**
   * Writes a review atomically at `<folder>/<instruction id>/<reviewer>.json`; returns the file.
   * Refused (`UnsafePathError`) when a folder on the way or the file is a symbolic link.
   */
  async write(review: ReviewFile): Promise<string> {
    const dir = await ensureDirs(this.root, [...this.segments, safeSegment(review.instruction.id)]);
    const file = path.join(dir, reviewerFileName(review.reviewer));
    await writeFileAtomic(file, serializeReview(review));
    return file;
  }
}

/**
 * The answers to review for an instruction: the newest complete, non-empty answer of each
 * endpoint/model/context among its runs (of one instruction file when `instructionFile` is given,
 * relative to the root as runs record it), in a fixed order.
 */
export async function reviewableRuns(
  store: RunStore,
  instructionId: string,
  instructionFile?: string,
): Promise<StoredRun[]> {
  const list = await store.list({
    instructionId,
    ...(instructionFile !== undefined ? { instructionFile } : {}),
  });
  const runs: (RunRecord & { file: string })[] = [];
  const seen = new Set<string>();
  for (const s of list) {
    if (s.status !== 'complete') continue;
    // list() is newest first: only the newest run of each slot needs reading in full.
    const slot = `${s.endpointId}\u0000${s.model}\u0000${s.context}`;
    if (seen.has(slot)) continue;
    const run = await store.read(s.file);
    if (!run || run.response.trim() === '') continue;
    seen.add(slot);
    runs.push({ ...run, file: s.file });
  }
  return latestAnswers(runs).map(({ file, ...run }) => ({ file, run }));
}
