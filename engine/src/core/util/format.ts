/**
 * `12,345`-style integers without Intl: `toLocaleString('en-US')` builds an ICU number formatter,
 * and the first one in a process costs ~15 ms, which showed up as a blocked event loop in the
 * language server's first hover (found with a CPU profile in `npm run bench`).
 */
export function formatInt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const r = Math.round(n);
  const s = String(Math.abs(r)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return r < 0 ? `-${s}` : s;
}

/**
 * The runs of whitespace that `/\s+/g → ' '` would change: two or more whitespace characters (the
 * whole run, greedily), or a single one that is not a space. A run that is already one space is
 * not a match, so ordinary prose between line breaks is skipped by the regex engine instead of
 * replaced word by word.
 */
const UNCOLLAPSED_RUN = /\s{2,}|[^\S ]/g;

/**
 * `s.replace(/\s+/g, ' ').trim()`, replacing only the runs that change (a single space between
 * words is left alone): parsing a 2 MB record spent a third of its time in the garbage collector
 * collecting copies, and the replace itself matched every space of every note.
 */
export function collapseWhitespace(s: string): string {
  return s.replace(UNCOLLAPSED_RUN, ' ').trim();
}
