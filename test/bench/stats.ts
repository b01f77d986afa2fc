/** Small helpers for benchmarks: medians and timing. Figures are medians, since machines are noisy. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function p95(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.95))];
}

export async function timeMs<T>(fn: () => Promise<T> | T): Promise<[number, T]> {
  const t = process.hrtime.bigint();
  const r = await fn();
  return [Number(process.hrtime.bigint() - t) / 1e6, r];
}

export function fmt(ms: number): string {
  return ms < 10 ? `${ms.toFixed(2)} ms` : `${ms.toFixed(1)} ms`;
}

export function row(label: string, value: string, target?: string): void {
  console.log(`  ${label.padEnd(58)} ${value.padStart(12)}${target ? `   (target ${target})` : ''}`);
}
