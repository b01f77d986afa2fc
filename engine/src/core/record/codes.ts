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

export function parseCode(text: string, range: SourceRange, withValue: boolean): CodeEntry {
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
