/**
 * Streaming readers and writers for the delimited files of the MedAlign release and the public
 * sample: comma-separated with RFC 4180 quoting (`instructions-sample.csv`), and tab-separated read
 * *without* quoting (the release's `.tsv` files: a `"` is an ordinary character, a field cannot hold
 * a tab or a line break). Pure: text chunks in, rows and problems out; the caller reads the file.
 *
 * A malformed record (an unbalanced quote, text after a closing quote, a record longer than
 * {@link MAX_RECORD_CHARS}) is reported with the line it starts on and skipped; reading goes on
 * from the next line, so the rest of the file still comes in.
 */

export interface DelimitedRow {
  /** 1-based line the record starts on. */
  line: number;
  fields: string[];
}

export interface DelimitedProblem {
  line: number;
  message: string;
}

export type Dialect = 'csv' | 'tsv';

/** A record (a row, with its quoted line breaks) longer than this is malformed. */
export const MAX_RECORD_CHARS = 1 << 20;

export interface DelimitedSink {
  row(r: DelimitedRow): void;
  problem(p: DelimitedProblem): void;
}

/** Feeds text chunks (any split, CRLF or LF) and emits complete records. */
export class DelimitedReader {
  private pending = '';
  /** Line number of `pending`'s first character. */
  private line = 1;
  private first = true;

  constructor(
    readonly dialect: Dialect,
    private readonly sink: DelimitedSink,
  ) {}

  push(chunk: string): void {
    if (this.first && chunk.length > 0) {
      this.first = false;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    this.pending += chunk;
    this.drain(false);
  }

  end(): void {
    this.drain(true);
  }

  private drain(final: boolean): void {
    if (this.dialect === 'tsv') this.drainTsv(final);
    else this.drainCsv(final);
  }

  private drainTsv(final: boolean): void {
    const text = this.pending;
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      this.emitTsv(text.slice(start, end));
      this.line++;
      start = nl + 1;
    }
    let rest = text.slice(start);
    if (final) {
      if (rest.endsWith('\r')) rest = rest.slice(0, -1);
      if (rest !== '') this.emitTsv(rest);
      rest = '';
    } else if (rest.length > MAX_RECORD_CHARS) {
      this.sink.problem({
        line: this.line,
        message: `the line is longer than ${MAX_RECORD_CHARS} characters`,
      });
      rest = '';
      this.skipToNextLine = true;
    }
    this.pending = rest;
  }

  private skipToNextLine = false;

  private emitTsv(s: string): void {
    if (this.skipToNextLine) {
      this.skipToNextLine = false;
      return;
    }
    if (s === '') return;
    this.sink.row({ line: this.line, fields: s.split('\t') });
  }

  /**
   * Parses complete records from `pending`. An incomplete record (open quote, no final line break)
   * stays pending until more text or the end comes.
   */
  private drainCsv(final: boolean): void {
    const text = this.pending;
    const n = text.length;
    let pos = 0;
    if (this.skipping) {
      // The rest of a malformed record's first line, arriving in later chunks.
      const nl = text.indexOf('\n');
      if (nl < 0) {
        this.pending = '';
        if (final) this.skipping = false;
        return;
      }
      this.skipping = false;
      this.line++;
      pos = nl + 1;
    }
    while (pos < n) {
      const r = parseCsvRecord(text, pos, final);
      if (r.kind === 'incomplete') {
        if (n - pos > MAX_RECORD_CHARS) {
          this.sink.problem({
            line: this.line,
            message: `a record longer than ${MAX_RECORD_CHARS} characters (an unbalanced quote?)`,
          });
          pos = this.skipLine(text, pos, final);
          continue;
        }
        break;
      }
      if (r.kind === 'error') {
        this.sink.problem({ line: this.line, message: r.message });
        pos = this.skipLine(text, pos, final);
        continue;
      }
      const lines = r.lineBreaks;
      if (!(r.fields.length === 1 && r.fields[0] === '' && !r.quoted)) {
        this.sink.row({ line: this.line, fields: r.fields });
      }
      this.line += lines;
      pos = r.next;
    }
    this.pending = text.slice(pos);
  }

  private skipping = false;

  /**
   * Skips the rest of the line starting at `pos`; returns the next line's start. When that line's
   * end has not arrived yet, the next chunks are skipped up to it.
   */
  private skipLine(text: string, pos: number, final: boolean): number {
    const nl = text.indexOf('\n', pos);
    if (nl < 0) {
      if (!final) this.skipping = true;
      return text.length;
    }
    this.line++;
    return nl + 1;
  }
}

type CsvResult =
  | { kind: 'record'; fields: string[]; next: number; lineBreaks: number; quoted: boolean }
  | { kind: 'incomplete' }
  | { kind: 'error'; message: string };

function parseCsvRecord(text: string, pos: number, final: boolean): CsvResult {
  const fields: string[] = [];
  const n = text.length;
  let lineBreaks = 0;
  let quoted = false;
  let i = pos;
  for (;;) {
    if (i < n && text.charCodeAt(i) === 34 /* " */) {
      quoted = true;
      let value = '';
      let j = i + 1;
      for (;;) {
        const q = text.indexOf('"', j);
        if (q < 0) {
          if (final) return { kind: 'error', message: 'an unbalanced quote: the quoted field never ends' };
          return { kind: 'incomplete' };
        }
        value += text.slice(j, q);
        if (q + 1 < n && text.charCodeAt(q + 1) === 34) {
          value += '"';
          j = q + 2;
          continue;
        }
        if (q + 1 >= n && !final) return { kind: 'incomplete' };
        i = q + 1;
        break;
      }
      for (let k = 0; k < value.length; k++) if (value.charCodeAt(k) === 10) lineBreaks++;
      fields.push(value.replace(/\r\n/g, '\n'));
      if (i >= n) return { kind: 'record', fields, next: i, lineBreaks, quoted };
      const c = text.charCodeAt(i);
      if (c === 44 /* , */) {
        i++;
        continue;
      }
      if (c === 10 || c === 13) return endOfLine(text, i, final, fields, lineBreaks, quoted);
      return { kind: 'error', message: 'text after a closing quote (an unbalanced or unescaped quote?)' };
    }
    // Unquoted field: up to the next comma or line break.
    let j = i;
    while (j < n) {
      const c = text.charCodeAt(j);
      if (c === 44 || c === 10 || c === 13) break;
      j++;
    }
    const value = text.slice(i, j);
    if (value.includes('"')) {
      return {
        kind: 'error',
        message: 'a quote inside an unquoted field (quote the field and double the quote)',
      };
    }
    fields.push(value);
    if (j >= n) {
      if (!final) return { kind: 'incomplete' };
      return { kind: 'record', fields, next: n, lineBreaks, quoted };
    }
    if (text.charCodeAt(j) === 44) {
      i = j + 1;
      continue;
    }
    return endOfLine(text, j, final, fields, lineBreaks, quoted);
  }
}

function endOfLine(
  text: string,
  i: number,
  final: boolean,
  fields: string[],
  lineBreaks: number,
  quoted: boolean,
): CsvResult {
  if (text.charCodeAt(i) === 13) {
    if (i + 1 >= text.length && !final) return { kind: 'incomplete' };
    if (text.charCodeAt(i + 1) === 10) i++;
  }
  return { kind: 'record', fields, next: i + 1, lineBreaks: lineBreaks + 1, quoted };
}

/** Reads a whole text (tests and small files). */
export function readDelimited(
  text: string,
  dialect: Dialect,
): { rows: DelimitedRow[]; problems: DelimitedProblem[] } {
  const rows: DelimitedRow[] = [];
  const problems: DelimitedProblem[] = [];
  const r = new DelimitedReader(dialect, { row: (x) => rows.push(x), problem: (p) => problems.push(p) });
  r.push(text);
  r.end();
  return { rows, problems };
}

/** A CSV field, quoted only when it must be (a comma, quote, CR or LF), as pandas and Python's csv write. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function csvLine(fields: readonly string[]): string {
  return fields.map(csvField).join(',') + '\n';
}

/** Release TSV: no quoting, so a field must hold no tab and no line break ({@link tsvSafe}). */
export function tsvLine(fields: readonly string[]): string {
  return fields.join('\t') + '\n';
}

/** Whether a value can be written to an unquoted TSV field as it is. */
export function tsvSafe(value: string): boolean {
  return !/[\t\r\n]/.test(value);
}

/**
 * A TSV field for readers that *do* apply quoting (pandas `read_csv(sep='\t')`, as HELM reads):
 * quoted when it holds a tab, a line break or a quote.
 */
export function quotedTsvField(value: string): string {
  return /["\t\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
