/**
 * Issue 12: `medalign export helm` is read by a faithful TypeScript re-implementation of HELM's
 * MedAlign reading code, and gives the same instructions and references as the workspace.
 *
 * Re-implemented from stanford-crfm/helm:
 * - `src/helm/benchmark/scenarios/medalign_scenario_helper.py` at commit
 *   dc180d2952973ea60ec8828ef4e80598d4ecd458: `get_instructions` (`pd.read_csv(path, sep='\t')`,
 *   required columns `instruction_id, question, person_id`, a dict keyed by instruction_id: the last
 *   row of an id wins), `extract_patient_id_from_fname` / `get_ehrs` (`int(fname.split('.')[0])` for
 *   every file of `medalign_ehr_xml/`), `pack_and_trim_prompts` (`ehrs[int(patient_id)]`, a KeyError
 *   when the record is missing) and `add_reference_responses` (`pd.read_csv(path)` — comma-separated
 *   — then `annotator_num == 'Annotator_1'`, the columns `instruction_id, clinician_response`, and an
 *   inner merge with the prompts on `instruction_id`, in the references' order);
 * - `src/helm/benchmark/scenarios/medalign_scenario.py` at commit
 *   0679d3db29ccc333dc10099f86dda373a1473119: the earlier `get_instructions`, which also required
 *   `is_selected_ehr` and kept only `is_selected_ehr == 'yes'` (checked here too).
 * The token packing (tiktoken, BM25) is not re-implemented: it decides how much record goes into
 * a prompt, not which instructions and references HELM reads.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TempDirs, runCliProcess } from '../helpers/cliProcess';
import { RECORD_XML, writeReleaseFolder } from '../helpers/releaseFiles';

const dirs = new TempDirs();
after(() => {
  for (const d of dirs.all) fs.rmSync(d, { recursive: true, force: true });
});

type Row = Record<string, string | undefined>;

/**
 * `pandas.read_csv` (C parser, defaults) as far as these files need it: a header row, `sep`, a
 * field that starts with `"` is quoted (`""` inside is a quote; it may hold `sep` and line breaks),
 * a quote elsewhere is text, an empty field is NaN (`undefined` here), blank lines are skipped.
 */
function pandasReadCsv(text: string, sep: ',' | '\t'): { columns: string[]; rows: Row[] } {
  const records: string[][] = [];
  let fields: (string | undefined)[] = [];
  let i = 0;
  const n = text.length;
  let field = '';
  let quotedField = false;
  let atFieldStart = true;
  const endField = () => {
    fields.push(field === '' && !quotedField ? undefined : field);
    field = '';
    quotedField = false;
    atFieldStart = true;
  };
  const endRecord = () => {
    endField();
    if (!(fields.length === 1 && fields[0] === undefined)) records.push(fields.map((f) => f ?? ''));
    fields = [];
  };
  while (i < n) {
    const c = text[i];
    if (atFieldStart && c === '"') {
      quotedField = true;
      atFieldStart = false;
      i++;
      for (;;) {
        if (i >= n) throw new Error('EOF inside string');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += text[i++];
      }
      continue;
    }
    atFieldStart = false;
    if (c === sep) {
      endField();
      i++;
    } else if (c === '\n' || c === '\r') {
      endRecord();
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
    } else {
      field += c;
      i++;
    }
  }
  if (field !== '' || fields.length) endRecord();
  const [columns, ...data] = records;
  const rows = data.map((r) => {
    if (r.length !== columns.length) throw new Error(`Expected ${columns.length} fields, saw ${r.length}`);
    const o: Row = {};
    columns.forEach((c, k) => (o[c] = r[k] === '' ? undefined : r[k]));
    return o;
  });
  return { columns, rows };
}

/** pandas reads an integer column as int64: the key HELM's dicts and merge use. */
function int(v: string | undefined): number {
  if (v === undefined || !/^-?\d+$/.test(v)) throw new Error(`ValueError: invalid literal for int(): ${v}`);
  return Number(v);
}

interface HelmInstance {
  instruction_id: number;
  instruction: string;
  patient_id: number;
  ehr: string;
  reference: string;
}

function helmRead(dataPath: string, o: { selectedOnly: boolean }): HelmInstance[] {
  // get_instructions
  const instr = pandasReadCsv(
    fs.readFileSync(path.join(dataPath, 'clinician-reviewed-model-responses.tsv'), 'utf8'),
    '\t',
  );
  const required = [
    'instruction_id',
    'question',
    'person_id',
    ...(o.selectedOnly ? ['is_selected_ehr'] : []),
  ];
  if (!required.every((c) => instr.columns.includes(c)))
    throw new Error('The CSV file is missing one or more of the required columns');
  const instructions = new Map<number, { instruction: string; patient_id: number }>();
  for (const row of instr.rows) {
    if (o.selectedOnly && row['is_selected_ehr'] !== 'yes') continue;
    instructions.set(int(row['instruction_id']), {
      instruction: row['question']!,
      patient_id: int(row['person_id']),
    });
  }
  // get_ehrs
  const ehrDir = path.join(dataPath, 'medalign_ehr_xml');
  const ehrs = new Map<number, string>();
  for (const fname of fs.readdirSync(ehrDir))
    ehrs.set(int(fname.split('.')[0]), fs.readFileSync(path.join(ehrDir, fname), 'utf8'));
  // pack_and_trim_prompts: every instruction's record is looked up (KeyError when missing)
  const prompts = new Map<number, { instruction: string; patient_id: number; ehr: string }>();
  for (const [id, v] of instructions) {
    const ehr = ehrs.get(v.patient_id);
    if (ehr === undefined) throw new Error(`KeyError: ${v.patient_id}`);
    prompts.set(id, { ...v, ehr });
  }
  // add_reference_responses: pd.read_csv (comma), Annotator_1, inner merge on instruction_id
  const gold = pandasReadCsv(
    fs.readFileSync(path.join(dataPath, 'clinician-instruction-responses.csv'), 'utf8'),
    ',',
  );
  const out: HelmInstance[] = [];
  for (const row of gold.rows) {
    if (row['annotator_num'] !== 'Annotator_1') continue;
    const id = int(row['instruction_id']);
    const p = prompts.get(id);
    if (!p) continue;
    out.push({
      instruction_id: id,
      instruction: p.instruction,
      patient_id: p.patient_id,
      ehr: p.ehr,
      reference: row['clinician_response']!,
    });
  }
  return out;
}

function project(): string {
  const dir = dirs.make('medalign-helm-');
  fs.writeFileSync(
    path.join(dir, 'medalign.config.json'),
    JSON.stringify({ recordsFolder: 'records', instructionsFolder: 'instructions' }),
  );
  return dir;
}

test('HELM reads the export: the same instructions, patients, records and Annotator_1 references as the workspace', async () => {
  const dir = project();
  const g = writeReleaseFolder(path.join(dir, 'rel'), {
    instructions: 30,
    models: 2,
    annotators: 3,
    patients: 5,
  });
  assert.equal((await runCliProcess(dir, ['import', 'rel'])).status, 0);
  // A curator's edits: a question with a tab, a quote at the start and a line break; a multi-line gold.
  const f = path.join(dir, 'instructions', `${g.ids[0]}.medalign`);
  fs.writeFileSync(
    f,
    fs
      .readFileSync(f, 'utf8')
      .replace(/## Instruction\n.*\n/, '## Instruction\n"Quoted" start,\tthen a tab\nand a second line\n')
      .replace(/## Gold response\n.*\n/, '## Gold response\nLine 1, with "quotes"\nLine 2\n'),
  );
  // An instruction without a record and one without a gold response are left out, with reasons.
  fs.writeFileSync(
    path.join(dir, 'instructions', 'norecord.medalign'),
    '---\nid: 99\npatient: 424242\n---\n\n## Instruction\nQ?\n\n## Gold response\nA\n',
  );
  fs.writeFileSync(
    path.join(dir, 'instructions', 'nogold.medalign'),
    `---\nid: 98\npatient: ${g.patients[0]}\n---\n\n## Instruction\nQ?\n`,
  );

  const r = await runCliProcess(dir, ['export', 'helm', 'instructions', '--out', 'helm']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /instruction 99 left out: its record 424242\.xml is not in the records folder/);
  assert.match(r.stderr, /instruction 98 left out: it has no gold response/);

  const withGold = g.ids.filter((id) => g.gold.get(id) !== '');
  const expected = withGold.map((id) => ({
    instruction_id: Number(id),
    instruction: id === g.ids[0] ? '"Quoted" start,\tthen a tab\nand a second line' : g.questions.get(id)!,
    reference: id === g.ids[0] ? 'Line 1, with "quotes"\nLine 2' : g.gold.get(id)!,
  }));
  for (const selectedOnly of [false, true]) {
    const got = helmRead(path.join(dir, 'helm'), { selectedOnly });
    assert.deepEqual(
      got.map((x) => ({
        instruction_id: x.instruction_id,
        instruction: x.instruction,
        reference: x.reference,
      })),
      expected,
      `selectedOnly=${selectedOnly}`,
    );
    for (const x of got) assert.equal(x.ehr, RECORD_XML(String(x.patient_id)));
  }
  // The release's own name for the references, tab-separated, holds the same rows.
  const tsv = pandasReadCsv(
    fs.readFileSync(path.join(dir, 'helm', 'clinician-instruction-responses.tsv'), 'utf8'),
    '\t',
  );
  const csv = pandasReadCsv(
    fs.readFileSync(path.join(dir, 'helm', 'clinician-instruction-responses.csv'), 'utf8'),
    ',',
  );
  assert.deepEqual(tsv.rows, csv.rows);
  assert.deepEqual(
    fs.readdirSync(path.join(dir, 'helm', 'medalign_ehr_xml')).sort(),
    g.patients.map((p) => `${p}.xml`).sort(),
  );
});
