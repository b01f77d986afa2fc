/**
 * Splits a MedAlign `<code>` text such as `[LOINC/8478-0] Mean blood pressure 122 mm Hg` into
 * vocabulary (`LOINC`), code (`8478-0`), description (`Mean blood pressure`), value (`122`) and
 * unit (`mm Hg`). Values are only split off for events that carry results (measurements and
 * observations): for a drug such as `Labetalol 5mg IV x 1` the trailing number is part of the name.
 */
import type { CodeEntry, SourceRange } from './model';
import { collapseWhitespace } from '../util/format';

const BRACKET = /^\s*\[([^\]/]*)\/([^\]]*)\]\s*([\s\S]*)$/;
/** Description, then a number, then an optional short unit (letters, %, /, ^, °, µ, brackets). */
const VALUE =
  /^(.*\S)\s+([-+]?\d+(?:[.,]\d+)?)(?:\s*([A-Za-z%°µ^*([{'][A-Za-z0-9%°µ/^*()[\]{}'. -]{0,23}?))?\s*$/;

/** Event kinds whose codes may end in a result value. */
export const VALUE_KINDS: ReadonlySet<string> = new Set(['measurement', 'observation']);

/**
 * Code texts already split, for a parse that meets the same code again (a record repeats its lab
 * panels and drugs: ~1,700 distinct texts among ~7,800 codes in a 2 MB record). One map per
 * `withValue`; filled and read by `parseCode`.
 */
export interface CodeMemo {
  plain: Map<string, CodeEntry>;
  withValue: Map<string, CodeEntry>;
}

export function newCodeMemo(): CodeMemo {
  return { plain: new Map(), withValue: new Map() };
}

/** `e` at another place: the same fields, in the same order, with `range`. */
function atRange(e: CodeEntry, range: SourceRange): CodeEntry {
  const c: CodeEntry = { description: e.description, range };
  if (e.vocabulary !== undefined) c.vocabulary = e.vocabulary;
  if (e.code !== undefined) c.code = e.code;
  if (e.value !== undefined) c.value = e.value;
  if (e.unit !== undefined) c.unit = e.unit;
  return c;
}

export function parseCode(text: string, range: SourceRange, withValue: boolean, memo?: CodeMemo): CodeEntry {
  const known = memo === undefined ? undefined : withValue ? memo.withValue : memo.plain;
  const seen = known?.get(text);
  if (seen !== undefined) return atRange(seen, range);
  const entry = splitCode(text, range, withValue);
  known?.set(text, entry);
  return entry;
}

function splitCode(text: string, range: SourceRange, withValue: boolean): CodeEntry {
  const collapsed = collapseWhitespace(text);
  const entry: CodeEntry = { description: collapsed, range };
  let rest = collapsed;
  const m = BRACKET.exec(collapsed);
  if (m !== null) {
    const vocabulary = m[1].trim();
    const code = m[2].trim();
    if (vocabulary !== '') entry.vocabulary = vocabulary;
    if (code !== '') entry.code = code;
    rest = m[3].trim();
    entry.description = rest;
  }
  if (withValue && rest !== '') {
    const v = VALUE.exec(rest);
    if (v !== null && /[A-Za-z]/.test(v[1])) {
      entry.description = v[1];
      entry.value = v[2];
      const unit = v[3]?.trim();
      if (unit !== undefined && unit !== '') entry.unit = unit;
    }
  }
  return entry;
}
