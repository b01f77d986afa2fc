/**
 * Date forms found in MedAlign records. All are local times without a zone; they are normalised
 * to `YYYY-MM-DDTHH:mm` and `Date.UTC(...)` of that value (so spans and sorting are exact).
 *
 * Accepted (surrounding whitespace ignored):
 * - `10/08/2018 20:00`, `10/08/2018 20:00:00`          (24-hour)
 * - `10/08/2018 08:00 PM`, `10/08/2018 9:00 PM`, `9:00pm` (12-hour, one or two hour digits)
 * - `10/08/2018`, `7/19/1966`                           (date only: midnight)
 * - `2018-10-08`, `2018-10-08T20:00`, `2018-10-08 20:00:00`, with optional `.fff` and `Z`
 */
import type { RecordDate } from './model';

const US = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp]\.?[Mm]\.?)?)?$/;
const ISO =
  /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*(?:Z|[+-]\d{2}:?\d{2})?$/;

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

function build(
  raw: string,
  y: number,
  mo: number,
  d: number,
  h: number,
  mi: number,
  s: number,
): RecordDate | undefined {
  if (mo < 1 || mo > 12 || d < 1 || d > DAYS_IN_MONTH[mo - 1]) return undefined;
  if (mo === 2 && d === 29 && !(y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0))) return undefined;
  if (h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59) return undefined;
  return {
    raw,
    iso: `${pad(y, 4)}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}`,
    epochMs: Date.UTC(y, mo - 1, d, h, mi),
  };
}

/** Parses one MedAlign date; `undefined` when the text is not a valid date in a known form. */
export function parseRecordDate(raw: string): RecordDate | undefined {
  const t = raw.trim();
  let m = US.exec(t);
  if (m !== null) {
    let h = m[4] === undefined ? 0 : Number(m[4]);
    const mer = m[7];
    if (mer !== undefined) {
      if (h < 1 || h > 12) return undefined;
      const pm = mer[0] === 'p' || mer[0] === 'P';
      h = (h % 12) + (pm ? 12 : 0);
    }
    return build(raw, Number(m[3]), Number(m[1]), Number(m[2]), h, Number(m[5] ?? 0), Number(m[6] ?? 0));
  }
  m = ISO.exec(t);
  if (m !== null) {
    return build(
      raw,
      Number(m[1]),
      Number(m[2]),
      Number(m[3]),
      Number(m[4] ?? 0),
      Number(m[5] ?? 0),
      Number(m[6] ?? 0),
    );
  }
  return undefined;
}

/** `2018-10-08` (day precision) of a parsed date. */
export function isoDay(date: RecordDate): string {
  return date.iso.slice(0, 10);
}
