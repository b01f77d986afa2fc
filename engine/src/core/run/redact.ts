/**
 * The one redaction of secrets (API keys), applied at every exit of the engine and the CLI: run
 * files, exports, stdout, error messages, the streamed answer the editor shows. A known secret is
 * removed whole and in fragments: any run of at least `MIN_FRAGMENT` characters that is a substring of
 * it (servers echo parts of a key: `sk-abc…xyz`). Message text is also cleared of anything shaped like
 * a key (`sk-…`, bearer tokens, `api-key=` pairs); answers are not (`authorization: pending` is
 * clinical text).
 */

export const REDACTED = '[redacted]';
/** Fragments of a known secret this long or longer are redacted. */
export const MIN_FRAGMENT = 8;

export interface RedactOptions {
  /** Also clear key-shaped strings (default true; false for model answers). */
  shapes?: boolean;
}

function usable(secrets: readonly string[]): string[] {
  return secrets.filter((s) => typeof s === 'string' && s.length >= 4);
}

/** The strings to look for: each secret shorter than a fragment, else all its fragments of `MIN_FRAGMENT`. */
function gramsOf(secrets: readonly string[]): string[] {
  const grams = new Set<string>();
  for (const s of usable(secrets)) {
    if (s.length < MIN_FRAGMENT) grams.add(s);
    else for (let i = 0; i + MIN_FRAGMENT <= s.length; i++) grams.add(s.slice(i, i + MIN_FRAGMENT));
  }
  return [...grams];
}

function rangesOf(text: string, grams: readonly string[]): [number, number][] {
  const ranges: [number, number][] = [];
  for (const g of grams) {
    for (let at = text.indexOf(g); at !== -1; at = text.indexOf(g, at + 1)) ranges.push([at, at + g.length]);
  }
  if (ranges.length === 0) return ranges;
  ranges.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [ranges[0]];
  for (const r of ranges.slice(1)) {
    const last = merged[merged.length - 1];
    if (r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else merged.push(r);
  }
  return merged;
}

/** Sorted, merged `[start, end)` ranges of `text` covered by a secret or a fragment of one. */
export function secretRanges(text: string, secrets: readonly string[]): [number, number][] {
  return rangesOf(text, gramsOf(secrets));
}

function cut(text: string, ranges: readonly [number, number][]): string {
  let out = '';
  let at = 0;
  for (const [a, b] of ranges) {
    out += text.slice(at, a) + REDACTED;
    at = b;
  }
  return out + text.slice(at);
}

/**
 * Replaces each secret and every fragment of one (>= `MIN_FRAGMENT` characters), and unless
 * `shapes: false` anything that looks like an API key or bearer token, with `[redacted]`.
 */
export function redactSecrets(text: string, secrets: readonly string[] = [], o: RedactOptions = {}): string {
  const ranges = secretRanges(text, secrets);
  const out = ranges.length > 0 ? cut(text, ranges) : text;
  if (o.shapes === false) return out;
  return out
    .replace(/\b(?:sk|pk|rk|ak)-[A-Za-z0-9_*.-]{6,}/g, REDACTED)
    .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=*-]{6,}/gi, `$1 ${REDACTED}`)
    .replace(
      /\b(api[-_]?key|authorization|access[-_]?token)(["']?\s*[:=]\s*["']?)[^\s"',}]{4,}/gi,
      `$1$2${REDACTED}`,
    );
}

/** Every string in `value` (deeply: arrays, plain objects) redacted of the known secrets. */
export function redactDeep<T>(value: T, secrets: readonly string[]): T {
  if (usable(secrets).length === 0) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redactSecrets(v, secrets, { shapes: false });
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, walk(x)]));
    }
    return v;
  };
  return walk(value) as T;
}

/**
 * Redacts a stream of text pieces (a streamed answer) whose secrets may be split across pieces: it
 * holds back only the tail that could still grow into a secret or a fragment of one (the longest
 * suffix that is part of a secret), and `flush()` gives what is left at the end. No piece it returns
 * holds a secret or a fragment of one, however the text was split.
 */
export class StreamRedactor {
  private pending = '';
  private readonly secrets: string[];
  private readonly grams: string[];
  private readonly hold: number;

  constructor(secrets: readonly string[]) {
    this.secrets = usable(secrets);
    this.grams = gramsOf(this.secrets);
    this.hold = Math.max(0, ...this.secrets.map((s) => s.length - 1));
  }

  /** Whether there is anything to redact (else `push` returns its input at once). */
  get active(): boolean {
    return this.secrets.length > 0;
  }

  /** Length of the longest suffix of `text` (at most `hold` long) that occurs in a secret. */
  private openTail(text: string): number {
    for (let k = Math.min(this.hold, text.length); k > 0; k--) {
      const tail = text.slice(text.length - k);
      if (this.secrets.some((s) => s.includes(tail))) return k;
    }
    return 0;
  }

  push(piece: string): string {
    if (!this.active) return piece;
    this.pending += piece;
    let end = this.pending.length - this.openTail(this.pending);
    const ranges = rangesOf(this.pending, this.grams);
    // A redacted run that reaches the cut may grow with the next piece: keep it whole.
    for (const [a, b] of ranges) if (a < end && b >= end) end = a;
    if (end <= 0) return '';
    const out = cut(
      this.pending.slice(0, end),
      ranges.filter(([, b]) => b < end),
    );
    this.pending = this.pending.slice(end);
    return out;
  }

  flush(): string {
    const out = cut(this.pending, rangesOf(this.pending, this.grams));
    this.pending = '';
    return out;
  }
}
