/**
 * The typed model of a MedAlign EHR XML record (see docs/records.md). Pure data; produced by
 * `parseRecord` in ./parse.ts. Every element keeps its source range (offsets into the XML text).
 */

export interface SourceRange {
  /** Offset of the first character of the element's start tag. */
  start: number;
  /** Offset just past the element's end tag. */
  end: number;
}

export type RecordSeverity = 'error' | 'warning' | 'information';

export interface RecordDiagnostic {
  range: SourceRange;
  severity: RecordSeverity;
  message: string;
  /** Stable code, e.g. `xml-malformed`, `record-root`, `date-unparseable`. */
  code: string;
}

export interface RecordDate {
  /** Exactly as written in the file. */
  raw: string;
  /** Normalised `YYYY-MM-DDTHH:mm` (minutes precision, no zone: records are local time). */
  iso: string;
  /** `Date.UTC(...)` of the normalised value, for sorting and spans. */
  epochMs: number;
}

export interface CodeEntry {
  /** `ICD`, `LOINC`, `SNOMED`, `RxNorm`, `CARE_SITE`, ... when the text starts with `[VOCAB/CODE]`. */
  vocabulary?: string;
  code?: string;
  description: string;
  /** Trailing value (e.g. `165`, `96`), and unit (e.g. `mm Hg`, `%`) when one follows it. */
  value?: string;
  unit?: string;
  range: SourceRange;
}

export interface RecordEvent {
  /** Element name: `condition_occurrence`, `measurement`, `drug_exposure`, `procedure_occurrence`,
   * `observation`, `visit_detail`, `note`, or any other element (kept as a generic event). */
  kind: string;
  /** `type` attribute (notes have one). */
  type?: string;
  start?: RecordDate;
  codes: CodeEntry[];
  /** Free text (a note's body), whitespace-collapsed. */
  text?: string;
  range: SourceRange;
}

export interface Person {
  birth?: RecordDate;
  race?: string;
  gender?: string;
  ethnicity?: string;
  ageInDays?: number;
  ageInYears?: number;
  range: SourceRange;
}

export interface Day {
  start?: RecordDate;
  events: RecordEvent[];
  range: SourceRange;
}

export interface Visit {
  type?: string;
  start?: RecordDate;
  days: Day[];
  range: SourceRange;
}

export interface EhrRecord {
  /** True when the text is well-formed XML with a `<record>` root. */
  ok: boolean;
  /** Name of the root element, when there is one. */
  rootName?: string;
  /** Demographics: the most recent `<person>` block (records repeat it in every day; the last one
   * carries the age at the end of the record). */
  person?: Person;
  /** How many `<person>` blocks the record has. */
  personCount?: number;
  visits: Visit[];
  /** Number of events in all visits (person excluded). */
  eventCount: number;
  noteCount: number;
  /** Earliest and latest parseable dates found on visits, days and events. */
  firstDate?: RecordDate;
  lastDate?: RecordDate;
  /** Length of the XML text in characters. */
  size: number;
  diagnostics: RecordDiagnostic[];
}
