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
