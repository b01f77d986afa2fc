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

/** Whitespace that `/\s+/g → ' '` would change: a run of two or more, or one that is not a space. */
const UNCOLLAPSED = /\s\s|[^\S ]/;

/**
 * `s.replace(/\s+/g, ' ').trim()`, without building a new string when every run of whitespace is
 * already one space (most record text): parsing a 2 MB record spent a third of its time in the
 * garbage collector collecting those copies.
 */
export function collapseWhitespace(s: string): string {
  return (UNCOLLAPSED.test(s) ? s.replace(/\s+/g, ' ') : s).trim();
}
