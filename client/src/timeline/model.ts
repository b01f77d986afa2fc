/**
 * The timeline model the language server computes (`medalign/timeline`) and the view draws. Until the
 * model's own type lands in server/src/protocol.ts this mirrors the agreed shape; the view reads
 * only these fields.
 */
export type TimelineKind = string;

export interface TimelineRange {
  start: number;
  end: number;
}

export interface TimelineEvent {
  id: string;
  kind: TimelineKind;
  /** ISO date (or date-time); empty when the event has none. */
  date: string;
  tokens: number;
  range: TimelineRange;
  label: string;
  preview: string;
}

export interface TimelineVisit {
  index: number;
  start: string;
  end: string;
  tokens: number;
  range: TimelineRange;
  state: 'kept' | 'partial' | 'cut';
  score?: number;
  matched?: string[];
  days: { date: string; tokens: number; events: number }[];
  events: TimelineEvent[];
}

export interface TimelineCut {
  context: number;
  label: string;
  keptTokens: number;
  keptFrom: string | null;
  keptVisits: number;
  fits: boolean;
  own: boolean;
}

export interface TimelineModel {
  version: 1;
  record: string;
  encoding: string;
  model?: string;
  tokens: number;
  strategy: 'recent' | 'bm25' | 'none';
  context: number;
  visits: TimelineVisit[];
  cuts: TimelineCut[];
  query?: { terms: { term: string; hits: number }[] };
  problems: string[];
}
