/**
 * The record timeline (`medalign/timeline`, `medalign timeline`): for an instruction, its record
 * with the instruction's model, context, strategy and template (the one run resolution,
 * runSettings.ts); for a record file, that record with the config's defaults. Overrides (a picker's
 * window choice, CLI flags) go over both. The model itself is built by the record engine (the
 * server's worker) from its cached counts; see core/timeline/build.ts.
 *
 * Never throws and never fails: a missing, refused or broken record, or a setting the schema
 * refuses, gives a model with `problems` saying why.
 */
import { serverCountWarning, withServerCounts } from './serverPack';
import type { FileSystem } from '../host';
import { parseInstruction } from '../format/parse';
import type { InstructionFile } from '../format/parse';
import { emptyTimeline } from '../timeline/model';
import type { TimelineModel } from '../timeline/model';
import { encodeTimeline } from '../timeline/wire';
import type { ViewWire } from '../timeline/wire';
import type { Cancel, RecordEngine, TimelinePreviews, TimelineRequest } from '../workspace/recordEngine';
import type { Workspace } from '../workspace/workspace';
import { packRequest, resolveRunSettings } from './runSettings';
import type { RunOverrides, RunSettings } from './runSettings';

/** A record open in an editor: its text under the editor's version (instead of the file on disk). */
export interface OpenRecord {
  key: string;
  text: string;
}

function base(s: RunSettings, uri: string) {
  return {
    encoding: s.tokenizer.label ?? s.tokenizer.encoding,
    model: s.model,
    strategy: s.strategy,
    context: s.context,
    uri,
  };
}

/**
 * What is asked of the record engine once the record and settings are resolved: the model (the
 * default), its columns for the view, or previews of its events. `empty` gives a model without a
 * record (why) in that form; `amend` adds what the caller knows besides (a server count's warning,
 * whether counts are estimates, the tokenizer's label such as `hf:models/llama3`).
 */
export interface TimelineForm<T> {
  get(
    engine: RecordEngine,
    uri: string,
    key: string,
    req: TimelineRequest,
    cancel?: Cancel,
  ): Promise<T | undefined>;
  empty(model: TimelineModel): T;
  /** The model's header amended: a problem added, whether counts are estimates, the tokenizer's label. */
  amend(t: T, change: Amendment): T;
  /**
   * The view's first answer (asFirstWire): the counted form when it is ready, else one that counts
   * nothing. Not used for `tokenizer: server` (its counts are the server's: `get` is asked instead).
   */
  first?(
    engine: RecordEngine,
    uri: string,
    key: string,
    req: TimelineRequest,
    cancel?: Cancel,
  ): Promise<T | undefined>;
}

export interface Amendment {
  problem?: string;
  estimated?: boolean;
  encoding?: string;
}

function amended<H extends Pick<TimelineModel, 'problems' | 'estimated' | 'encoding'>>(
  h: H,
  c: Amendment,
): H {
  const out = { ...h };
  if (c.problem !== undefined) out.problems = [...h.problems, c.problem];
  if (c.estimated !== undefined) out.estimated = c.estimated;
  if (c.encoding !== undefined) out.encoding = c.encoding;
  return out;
}

export const asModel: TimelineForm<TimelineModel> = {
  get: (engine, uri, key, req, cancel) => engine.timeline(uri, key, req, cancel),
  empty: (m) => m,
  amend: amended,
};

/**
 * The model in columns for the view (`medalign/timelineView`), a big model's packed where the engine
 * packs them (RecordEngine.timelineView); `previews`: EncodeOptions.previews.
 */
export function asWire(previews: boolean | number): TimelineForm<ViewWire> {
  return {
    get: (engine, uri, key, req, cancel) =>
      engine.timelineView
        ? engine.timelineView(uri, key, req, previews, false, cancel)
        : engine.timelineWire(uri, key, req, previews, cancel),
    empty: (m) => encodeTimeline(m, { previews: true }),
    amend: (w, change) => ({ ...w, header: amended(w.header, change) }),
  };
}

/**
 * The view's first answer (`medalign/timelineView` with `progressive`): the counted columns when
 * they are ready, else the record's structure marked `counting` (RecordEngine.timelineFirst).
 */
export function asFirstWire(previews: boolean | number): TimelineForm<ViewWire> {
  return {
    ...asWire(previews),
    first: (engine, uri, key, req, cancel) =>
      engine.timelineView
        ? engine.timelineView(uri, key, req, previews, true, cancel)
        : engine.timelineFirst(uri, key, req, previews, cancel),
  };
}

/** Previews of the model's events by id (`medalign/timelinePreviews`). */
export function asPreviews(ids: number[]): TimelineForm<TimelinePreviews> {
  return {
    get: (engine, uri, key, req, cancel) => engine.timelinePreviews(uri, key, req, ids, cancel),
    empty: () => ({ stamp: '', previews: ids.map(() => null) }),
    amend: (p) => p,
  };
}

async function build<T>(
  recordUri: string,
  s: RunSettings,
  problems: string[],
  workspace: Workspace,
  open: OpenRecord | undefined,
  cancel: Cancel | undefined,
  form: TimelineForm<T>,
): Promise<T> {
  const label = workspace.label(recordUri);
  const fail = (why: string) => form.empty(emptyTimeline(label, [...problems, why], base(s, recordUri)));
  let key: string;
  if (open !== undefined) {
    const r = await workspace.engine.load(recordUri, open.key, () => Promise.resolve(open.text), cancel);
    if (!r) return fail(`${label} could not be read.`);
    key = open.key;
  } else {
    const info = await workspace.records.get(recordUri, cancel);
    if (!info.exists || !info.key) return fail(`Record not found: ${label}.`);
    // Refused before reading (too large): the engine never saw it. Other broken records are
    // described by the engine, with the error's place in the file.
    const tooLarge = info.record?.diagnostics.some((d) => d.code === 'record-too-large') === true;
    if (info.record && !info.record.ok && tooLarge) {
      const error = info.record.diagnostics.find((d) => d.severity === 'error');
      return fail(`${label} is not a valid MedAlign record${error ? `: ${error.message}` : '.'}`);
    }
    key = info.key;
  }
  if (cancel?.isCancellationRequested) return fail('Cancelled.');
  const req = (s2: RunSettings) => ({ ...packRequest(s2), label, model: s.model, problems });
  if (form.first !== undefined && s.tokenizer.server !== true) {
    const first = await form.first(workspace.engine, recordUri, key, req(s), cancel);
    if (first === undefined)
      return fail(cancel?.isCancellationRequested ? 'Cancelled.' : `${label} could not be read.`);
    return s.tokenizer.label !== undefined ? form.amend(first, { encoding: s.tokenizer.label }) : first;
  }
  // tokenizer: server → the server's counts of every event where allowed (serverPack.ts).
  const counted = await withServerCounts(workspace, s, (s2) =>
    form.get(workspace.engine, recordUri, key, req(s2), cancel),
  );
  const model = counted.value;
  if (model === undefined) {
    return fail(cancel?.isCancellationRequested ? 'Cancelled.' : `${label} could not be counted.`);
  }
  const warning = serverCountWarning(counted.status, s.tokenizer.encoding);
  // An hf tokenizer's name is a hash: the model says it as the config does (`hf:models/llama3`).
  return form.amend(model, {
    ...(warning !== undefined ? { problem: warning } : {}),
    ...(counted.status !== undefined ? { estimated: counted.tokenizer.estimated === true } : {}),
    ...(counted.tokenizer.label !== undefined ? { encoding: counted.tokenizer.label } : {}),
  });
}

/** The timeline of an instruction's record, with the instruction's settings. */
export async function instructionTimeline<T = TimelineModel>(
  file: InstructionFile,
  uri: string,
  workspace: Workspace,
  fs: FileSystem,
  overrides: RunOverrides = {},
  cancel?: Cancel,
  form: TimelineForm<T> = asModel as unknown as TimelineForm<T>,
): Promise<T> {
  const s = await resolveRunSettings(file, uri, workspace, fs, overrides);
  // An empty instruction still has a record to show; other problems are said as they are.
  const problems = s.problems.filter((p) => p.field !== 'instruction').map((p) => p.message);
  if (!file.data) return form.empty(emptyTimeline('', ['The front matter could not be read.'], base(s, uri)));
  const resolved = await workspace.resolveRecord(uri, file.data);
  if (!resolved) {
    return form.empty(
      emptyTimeline('', ['No record: add `patient:` or `record:` to the front matter.'], base(s, uri)),
    );
  }
  if (resolved.outside) {
    return form.empty(
      emptyTimeline(workspace.label(resolved.uri), [resolved.outside.message], base(s, resolved.uri)),
    );
  }
  return build(resolved.uri, s, problems, workspace, undefined, cancel, form);
}

/**
 * The timeline of a record file with the config's defaults (model, context, strategy, template),
 * resolved by the same function as an instruction's, and no question. `open`: the editor's text.
 */
export async function recordTimeline<T = TimelineModel>(
  uri: string,
  workspace: Workspace,
  fs: FileSystem,
  overrides: RunOverrides = {},
  cancel?: Cancel,
  open?: OpenRecord,
  form: TimelineForm<T> = asModel as unknown as TimelineForm<T>,
): Promise<T> {
  const s = await resolveRunSettings(parseInstruction(''), uri, workspace, fs, overrides);
  const problems = s.problems.filter((p) => p.field !== 'instruction').map((p) => p.message);
  return build(uri, s, problems, workspace, open, cancel, form);
}
