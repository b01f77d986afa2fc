/**
 * The sample workspace (samples/) and the grammars (syntaxes/): generated records are current, instruction
 * ids are unique, categories come from the taxonomy, the valid files really are valid (checked with the
 * project's own checker), the deliberate mistakes are reported, and the grammar / language configuration
 * patterns do what they claim.
 */
import { strict as assert } from 'node:assert';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import Ajv from 'ajv';
import { XMLValidator } from 'fast-xml-parser';
import { parse as parseYaml } from 'yaml';
import { checkFiles } from '../../engine/src/cli/check';
import type { FileDiagnostic } from '../../engine/src/cli/check';
import { KNOWN_SECTIONS } from '../../engine/src/core/features/sections';
import { parseRecord } from '../../engine/src/core/record/parse';
import { DEFAULT_TEMPLATE_SOURCE } from '../../engine/src/core/template/defaults';
import { PLACEHOLDERS, parseTemplate } from '../../engine/src/core/template/template';
import { SAMPLE_RECORDS, repoRoot } from '../fixtures/generateSamples';
import { generateRecord } from '../fixtures/recordGenerator';

const ROOT = repoRoot();
const SAMPLES = path.join(ROOT, 'samples');
const INSTRUCTIONS = path.join(SAMPLES, 'instructions');
const read = (...p: string[]): string => readFileSync(path.join(...p), 'utf8');

/** A YAML scalar as text (lists and mappings as JSON, so a mistake shows up in the message). */
const str = (v: unknown): string =>
  typeof v === 'string' || typeof v === 'number' ? String(v) : JSON.stringify(v);

/** Files that are broken on purpose. */
const MISTAKES = 'mistakes.medalign';
const BROKEN = new Set([MISTAKES, 'broken-front-matter.medalign', 'broken-record.medalign']);
const INTENDED_DUPLICATE = { id: '90000000302', files: ['broken-record.medalign', MISTAKES] };

const instructionFiles = readdirSync(INSTRUCTIONS)
  .filter((f) => f.endsWith('.medalign'))
  .sort();
const validFiles = instructionFiles.filter((f) => !BROKEN.has(f));

/** The front matter text of an instruction file (between the first two `---` lines). */
function frontMatter(text: string): string {
  const m = /^---\r?\n([\s\S]*?)\r?\n---[ \t]*(\r?\n|$)/.exec(text);
  assert.ok(m, 'no front matter');
  return m[1];
}

/** RFC 4180-ish CSV rows (quoted fields may hold commas). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim()) continue;
    const cells: string[] = [];
    let cell = '';
    let quoted = false;
    for (let i = 0; i < line.length; i++) {
      const ch = line[i];
      if (quoted) {
        if (ch === '"' && line[i + 1] === '"') {
          cell += '"';
          i++;
        } else if (ch === '"') quoted = false;
        else cell += ch;
      } else if (ch === '"') quoted = true;
      else if (ch === ',') {
        cells.push(cell);
        cell = '';
      } else cell += ch;
    }
    cells.push(cell);
    rows.push(cells);
  }
  return rows;
}

let checked: Promise<FileDiagnostic[]> | undefined;
/** Diagnostics of every instruction file, from the same checker as `medalign check` (computed once). */
function diagnostics(): Promise<FileDiagnostic[]> {
  return (checked ??= checkFiles([INSTRUCTIONS], SAMPLES));
}

// ---------------------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------------------

test('committed generated records are byte-identical to what the generator produces now', () => {
  assert.ok(SAMPLE_RECORDS.length >= 2);
  for (const spec of SAMPLE_RECORDS) {
    const committed = read(SAMPLES, 'records', spec.file);
    const fresh = generateRecord(spec.options);
    assert.ok(
      committed === fresh,
      `samples/records/${spec.file} is stale: run \`npx tsc -b && node out/test/fixtures/generateSamples.js\``,
    );
  }
});

test('generated sample records have the advertised sizes and spans, and parse cleanly', () => {
  const expect: Record<string, { chars: number; years: number }> = {
    '2000001.xml': { chars: 250_000, years: 4 },
    '2000002.xml': { chars: 1_000_000, years: 8 },
  };
  for (const [file, want] of Object.entries(expect)) {
    const xml = read(SAMPLES, 'records', file);
    assert.ok(Math.abs(xml.length / want.chars - 1) < 0.1, `${file}: ${xml.length} characters`);
    const r = parseRecord(xml);
    assert.equal(r.ok, true, file);
    assert.deepEqual(
      r.diagnostics.filter((d) => d.severity === 'error'),
      [],
      file,
    );
    const spanYears = (r.lastDate!.epochMs - r.firstDate!.epochMs) / (365.25 * 86_400_000);
    assert.ok(Math.abs(spanYears - want.years) < 0.75, `${file}: ${spanYears.toFixed(2)} years`);
    assert.equal(r.person?.gender, 'MALE');
  }
});

test('1234555.xml is the public MedAlign sample, unchanged', () => {
  const sample = read(SAMPLES, 'records', '1234555.xml');
  assert.equal(sample, read(ROOT, 'test', 'fixtures', 'records', 'sample-ehr-clean.xml'));
  assert.match(sample, /MRN: \[1234555\]/);
  assert.equal(parseRecord(sample).ok, true);
});

test('the diagnostics demo records are broken in the intended ways', () => {
  const broken = read(SAMPLES, 'records', 'broken.xml');
  assert.notEqual(XMLValidator.validate(broken), true);
  assert.equal(parseRecord(broken).ok, false);
  const notRecord = read(SAMPLES, 'records', 'not-a-record.xml');
  assert.equal(XMLValidator.validate(notRecord), true);
  const r = parseRecord(notRecord);
  assert.equal(r.ok, false);
  assert.notEqual(r.rootName, 'record');
  assert.ok(r.diagnostics.some((d) => d.code === 'record-root'));
});

// ---------------------------------------------------------------------------------------------------------
// Config and templates
// ---------------------------------------------------------------------------------------------------------

test('medalign.config.json follows its schema and declares the two example endpoints', () => {
  const config = JSON.parse(read(SAMPLES, 'medalign.config.json')) as {
    $schema: string;
    recordsFolder: string;
    defaults: Record<string, unknown>;
    endpoints: { id: string; kind: string; contextWindow: number; encoding: string; baseUrl?: string }[];
  };
  const schema = JSON.parse(read(ROOT, 'engine', 'src', 'core', 'schema', 'config.schema.json')) as object;
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(schema);
  assert.equal(validate(config), true, JSON.stringify(validate.errors));
  assert.equal(
    path.resolve(SAMPLES, config.$schema),
    path.join(ROOT, 'engine/src/core/schema/config.schema.json'),
  );
  assert.ok(existsSync(path.join(SAMPLES, config.recordsFolder)));
  assert.deepEqual(config.defaults, {
    model: 'baseline',
    context: '32k',
    strategy: 'recent',
    template: 'templates/medalign.prompt',
    generationReserve: 256,
  });
  assert.ok(existsSync(path.join(SAMPLES, String(config.defaults.template))));
  const byId = new Map(config.endpoints.map((e) => [e.id, e]));
  assert.equal(byId.get('local-vllm')?.kind, 'openai-compatible');
  assert.equal(byId.get('local-vllm')?.baseUrl, 'http://127.0.0.1:8000/v1');
  assert.equal(byId.get('local-vllm')?.contextWindow, 32768);
  assert.equal(byId.get('local-vllm')?.encoding, 'cl100k_base');
  assert.equal(byId.get('gpt-4o')?.kind, 'openai');
  assert.equal(byId.get('gpt-4o')?.contextWindow, 128000);
  assert.equal(byId.get('gpt-4o')?.encoding, 'o200k_base');
});

test('prompt templates parse without problems; the default one is the built-in MedAlign prompt', () => {
  const def = read(SAMPLES, 'templates', 'medalign.prompt');
  assert.equal(def, DEFAULT_TEMPLATE_SOURCE);
  for (const file of ['medalign.prompt', 'clinician-system.prompt']) {
    const t = parseTemplate(read(SAMPLES, 'templates', file));
    assert.deepEqual(t.diagnostics, [], file);
    assert.ok(t.placeholders.some((p) => p.name === 'ehr'));
    assert.ok(t.placeholders.some((p) => p.name === 'instruction'));
  }
  const clinician = parseTemplate(read(SAMPLES, 'templates', 'clinician-system.prompt'));
  assert.deepEqual(
    clinician.messages.map((m) => m.role),
    ['system', 'user'],
  );
  const used = new Set(clinician.placeholders.map((p) => p.name));
  // `{{answer}}` belongs to refine prompts (strategy refine) only.
  for (const p of PLACEHOLDERS.filter((x) => x.name !== 'answer'))
    assert.ok(used.has(p.name), `clinician-system.prompt does not use {{${p.name}}}`);
});

// ---------------------------------------------------------------------------------------------------------
// Instructions
// ---------------------------------------------------------------------------------------------------------

test('every instruction id is unique except the intended duplicate in mistakes.medalign', () => {
  assert.ok(validFiles.length >= 12, `${validFiles.length} valid instruction files`);
  const byId = new Map<string, string[]>();
  for (const file of instructionFiles) {
    const m = /^id:[ \t]*(.+?)[ \t]*$/m.exec(frontMatter(read(INSTRUCTIONS, file)));
    assert.ok(m, `${file} has no id line`);
    byId.set(m[1], [...(byId.get(m[1]) ?? []), file]);
  }
  const duplicates = [...byId].filter(([, files]) => files.length > 1);
  assert.deepEqual(duplicates, [[INTENDED_DUPLICATE.id, INTENDED_DUPLICATE.files]]);
});

test('every category of the valid files is a subcategory of the MedAlign taxonomy', () => {
  const [header, ...rows] = parseCsv(read(ROOT, 'engine', 'src', 'core', 'data', 'instruction-taxonomy.csv'));
  const col = header.indexOf('subcategory');
  assert.ok(col >= 0);
  const subcategories = new Set(rows.map((r) => r[col]));
  assert.ok(subcategories.has('retrieve coding & billing information'));
  const used = new Set<string>();
  for (const file of [...validFiles, 'broken-record.medalign']) {
    const data = parseYaml(frontMatter(read(INSTRUCTIONS, file))) as Record<string, unknown>;
    assert.equal(typeof data.category, 'string', `${file}: category`);
    assert.ok(subcategories.has(data.category as string), `${file}: category '${str(data.category)}'`);
    used.add(data.category as string);
  }
  assert.ok(used.size >= 8, `only ${used.size} categories used`);
});

test('valid instruction files reference existing records, templates and models', () => {
  const config = JSON.parse(read(SAMPLES, 'medalign.config.json')) as { endpoints: { id: string }[] };
  const models = new Set(['baseline', ...config.endpoints.map((e) => e.id)]);
  const patients = new Set<string>();
  for (const file of validFiles) {
    const text = read(INSTRUCTIONS, file);
    const data = parseYaml(frontMatter(text)) as Record<string, unknown>;
    assert.ok('patient' in data !== 'record' in data, `${file}: exactly one of patient / record`);
    const recordPath =
      'patient' in data
        ? path.join(SAMPLES, 'records', `${str(data.patient)}.xml`)
        : path.resolve(INSTRUCTIONS, str(data.record));
    assert.ok(existsSync(recordPath), `${file}: ${recordPath}`);
    patients.add(path.basename(recordPath));
    if (data.template !== undefined)
      assert.ok(existsSync(path.resolve(INSTRUCTIONS, str(data.template))), file);
    if (data.model !== undefined) assert.ok(models.has(str(data.model)), `${file}: model ${str(data.model)}`);
    const headings = [...text.matchAll(/^##[ \t]+(.+?)[ \t]*$/gm)].map((m) => m[1]);
    assert.ok(headings.includes('Instruction'), file);
    for (const h of headings) assert.ok(KNOWN_SECTIONS.includes(h), `${file}: section ${h}`);
    const instruction = /^## Instruction\s*\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(text)![1].trim();
    assert.ok(instruction.length > 20, `${file}: empty instruction`);
  }
  assert.deepEqual([...patients].sort(), ['1234555.xml', '2000001.xml', '2000002.xml']);
});

test('the checker finds no problem in the valid files, and each deliberate mistake where it is', async () => {
  const diags = await diagnostics();
  const problems = (file: string): FileDiagnostic[] =>
    diags.filter((d) => path.basename(d.file) === file && (d.severity === 1 || d.severity === 2));
  for (const file of validFiles) {
    const found = problems(file).filter(
      // The original of the intended duplicate is reported too.
      (d) => !(file === INTENDED_DUPLICATE.files[0] && d.code === 'duplicate-id'),
    );
    assert.deepEqual(
      found.map((d) => `${String(d.code)}: ${typeof d.message === 'string' ? d.message : d.message.value}`),
      [],
      file,
    );
  }
  // mistakes.medalign: one diagnostic per deliberate mistake, each on the line that holds it.
  const text = read(INSTRUCTIONS, MISTAKES).split(/\r?\n/);
  const lineOf = (re: RegExp): number => text.findIndex((l) => re.test(l));
  const expected: [string, RegExp][] = [
    ['schema-unknown-key', /^cateogry:/],
    ['schema-enum', /^strategy: recnt$/],
    ['schema-type', /^context: \[32k\]$/],
    ['schema-type', /^tags: stroke$/],
    ['record-not-found', /^patient: 9999999$/],
    ['section-unknown', /^## Answer$/],
    ['duplicate-id', /^id: 90000000302$/],
  ];
  const got = problems(MISTAKES);
  for (const [code, re] of expected) {
    const line = lineOf(re);
    assert.ok(line >= 0, `${MISTAKES} has no line ${String(re)}`);
    assert.ok(
      got.some((d) => d.code === code && d.range.start.line === line),
      `${code} not reported on line ${line + 1}: ${got.map((d) => `${String(d.code)}@${d.range.start.line + 1}`).join(', ')}`,
    );
  }
  // Each mistake is on its own line.
  assert.equal(new Set(expected.map(([, re]) => lineOf(re))).size, expected.length);
  assert.ok(problems('broken-front-matter.medalign').some((d) => d.code === 'yaml-syntax'));
  const brokenRecord = problems('broken-record.medalign');
  assert.deepEqual(
    brokenRecord.map((d) => d.code),
    // It also holds the id that mistakes.medalign repeats, so no sample a user starts from shows it.
    ['duplicate-id', 'record-malformed'],
  );
});

// ---------------------------------------------------------------------------------------------------------
// Grammars and language configuration
// ---------------------------------------------------------------------------------------------------------

interface Rule {
  name?: string;
  contentName?: string;
  match?: string;
  begin?: string;
  end?: string;
  include?: string;
  patterns?: Rule[];
  captures?: Record<string, { name: string }>;
  beginCaptures?: Record<string, { name: string }>;
  endCaptures?: Record<string, { name: string }>;
}
interface Grammar {
  scopeName: string;
  patterns: Rule[];
  repository: Record<string, Rule>;
}

/** An Oniguruma pattern as a JS RegExp (only the constructs our grammars use: `\A`, a leading `(?i)`). */
function onig(pattern: string): RegExp {
  let flags = '';
  let p = pattern;
  if (p.startsWith('(?i)')) {
    flags += 'i';
    p = p.slice(4);
  }
  return new RegExp(p.replace(/\\A/g, '^'), flags);
}

function grammar(file: string): Grammar {
  return JSON.parse(read(ROOT, 'syntaxes', file)) as Grammar;
}

function allRules(g: Grammar): Rule[] {
  const out: Rule[] = [];
  const walk = (r: Rule): void => {
    out.push(r);
    for (const c of r.patterns ?? []) walk(c);
  };
  for (const r of [...g.patterns, ...Object.values(g.repository)]) walk(r);
  return out;
}

const GRAMMARS = [
  { file: 'medalign.tmLanguage.json', scope: 'source.medalign', known: [...KNOWN_SECTIONS] },
  {
    file: 'medalign-prompt.tmLanguage.json',
    scope: 'source.medalign-prompt',
    known: ['system', 'user', 'assistant'],
  },
];

test('package.json declarations match the grammar and configuration files', () => {
  const pkg = JSON.parse(read(ROOT, 'package.json')) as {
    contributes: { grammars: { scopeName: string; path: string }[]; languages: { configuration: string }[] };
  };
  for (const g of pkg.contributes.grammars) {
    const file = path.join(ROOT, g.path);
    assert.ok(existsSync(file), g.path);
    assert.equal((JSON.parse(readFileSync(file, 'utf8')) as Grammar).scopeName, g.scopeName);
  }
  for (const l of pkg.contributes.languages) assert.ok(existsSync(path.join(ROOT, l.configuration)));
  assert.deepEqual(
    pkg.contributes.grammars.map((g) => g.scopeName).sort(),
    GRAMMARS.map((g) => g.scope).sort(),
  );
});

test('grammars: includes resolve, every pattern compiles, scopes carry the right suffix', () => {
  for (const { file, scope } of GRAMMARS) {
    const g = grammar(file);
    const suffix = scope.replace('source.', '');
    for (const r of allRules(g)) {
      if (r.include?.startsWith('#')) assert.ok(g.repository[r.include.slice(1)], `${file}: ${r.include}`);
      else if (r.include)
        assert.ok(['source.yaml', 'text.html.markdown#inline'].includes(r.include), r.include);
      for (const p of [r.match, r.begin, r.end]) if (p) assert.doesNotThrow(() => onig(p), `${file}: ${p}`);
      const names = [
        r.name,
        ...Object.values({ ...r.captures, ...r.beginCaptures, ...r.endCaptures }).map((c) => c.name),
      ].filter((n): n is string => !!n);
      for (const n of names)
        for (const s of n.split(' ')) assert.ok(s.endsWith(`.${suffix}`), `${file}: ${s}`);
    }
  }
});

test('grammars: front matter is embedded YAML from the first line to the next --- line', () => {
  for (const { file } of GRAMMARS) {
    const fm = grammar(file).repository['front-matter'];
    assert.equal(fm.contentName, 'meta.embedded.block.frontmatter');
    assert.deepEqual(fm.patterns, [{ include: 'source.yaml' }]);
    assert.ok(fm.begin!.startsWith('\\A'), 'front matter only at the very start');
    const begin = onig(fm.begin!);
    const end = onig(fm.end!);
    assert.ok(begin.test('---'));
    assert.ok(begin.test('---  '));
    assert.ok(!begin.test(' ---'));
    assert.ok(!begin.test('----'));
    assert.ok(end.test('---') && end.test('...'));
    assert.ok(!end.test('id: 1'));
    assert.match(fm.beginCaptures!['1'].name, /^punctuation\.definition\.frontmatter\./);
    assert.match(fm.endCaptures!['1'].name, /^punctuation\.definition\.frontmatter\./);
  }
});

test('grammars: known section headings get an extra scope, other ## headings a plain one', () => {
  for (const { file, known } of GRAMMARS) {
    const [knownRule, otherRule] = grammar(file).repository.heading.patterns!;
    const k = onig(knownRule.match!);
    const o = onig(otherRule.match!);
    assert.match(knownRule.name!, /^markup\.heading\.2\./);
    assert.match(otherRule.name!, /^markup\.heading\.2\./);
    assert.ok(knownRule.name!.split(' ').length > otherRule.name!.split(' ').length);
    for (const name of known) {
      const m = k.exec(`## ${name}`);
      assert.ok(m, `${file}: ## ${name}`);
      assert.equal(m[2], name);
      assert.ok(k.test(`##   ${name}  `));
    }
    for (const h of ['## Answer', '## Summary of findings']) {
      assert.ok(!k.test(h), `${file}: ${h} is not a known section`);
      assert.equal(o.exec(h)?.[2], h.slice(3));
    }
    assert.ok(!k.test('### Instruction') && !o.test('### Notes'));
    assert.ok(!k.test(`text ## ${known[0]}`));
  }
  const prompt = onig(grammar('medalign-prompt.tmLanguage.json').repository.heading.patterns![0].match!);
  assert.ok(prompt.test('## User'), 'message headings are case-insensitive, like the template parser');
});

test('grammars: {{placeholders}} and HTML comments', () => {
  for (const { file } of GRAMMARS) {
    const g = grammar(file);
    const [escape, named, other] = g.repository.placeholder.patterns!;
    assert.ok(onig(escape.match!).test('\\{{ehr}}'));
    const re = onig(named.match!);
    for (const p of PLACEHOLDERS) {
      for (const text of [`{{${p.name}}}`, `{{ ${p.name} }}`]) {
        const m = re.exec(`EHR: ${text}.`);
        assert.ok(m, `${file}: ${text}`);
        assert.equal(m[1], '{{');
        assert.equal(m[2], p.name);
        assert.equal(m[3], '}}');
      }
    }
    assert.match(named.captures!['2'].name, /^variable\.other\.placeholder\./);
    assert.match(named.captures!['1'].name, /^punctuation\.definition\.placeholder\.begin\./);
    assert.match(named.captures!['3'].name, /^punctuation\.definition\.placeholder\.end\./);
    assert.ok(!re.test('{{1st}}') && onig(other.match!).test('{{1st}}'));
    const comment = g.repository.comment;
    assert.match(comment.name!, /^comment\.block\.html\./);
    assert.ok(onig(comment.begin!).test('<!-- note') && onig(comment.end!).test('end -->'));
    // Order in the body: comments and placeholders before headings and markdown.
    const body = g.repository.body.patterns!.map((r) => r.include);
    assert.ok(body.indexOf('#comment') < body.indexOf('text.html.markdown#inline'));
    assert.ok(body.indexOf('#placeholder') < body.indexOf('text.html.markdown#inline'));
  }
});

test('language configuration: comments, brackets, {{ }} auto-closing, heading folding, id-friendly words', () => {
  const conf = JSON.parse(read(ROOT, 'syntaxes', 'medalign.language-configuration.json')) as {
    comments: { lineComment: string; blockComment: [string, string] };
    brackets: [string, string][];
    autoClosingPairs: { open: string; close: string }[];
    surroundingPairs: [string, string][];
    folding: { markers: { start: string; end: string } };
    wordPattern: string;
  };
  assert.equal(conf.comments.lineComment, '#');
  assert.deepEqual(conf.comments.blockComment, ['<!--', '-->']);
  assert.deepEqual(conf.brackets.map((b) => b.join('')).sort(), ['()', '[]', '{}']);
  const pairs = new Map(conf.autoClosingPairs.map((p) => [p.open, p.close]));
  assert.equal(pairs.get('{{'), '}}');
  assert.equal(pairs.get('"'), '"');
  assert.equal(pairs.get('['), ']');
  // VS Code compiles these as JavaScript regular expressions.
  const start = new RegExp(conf.folding.markers.start);
  const end = new RegExp(conf.folding.markers.end);
  assert.ok(start.test('## Instruction') && start.test('## Gold response') && start.test('## user'));
  assert.ok(!start.test('### Detail') && !start.test('text ## x'));
  assert.ok(start.test('<!-- region labs -->') && end.test('<!-- endregion -->'));
  const words = (s: string): string[] => s.match(new RegExp(conf.wordPattern, 'g')) ?? [];
  assert.deepEqual(words('id: hip-fx-2000002'), ['id', 'hip-fx-2000002']);
  assert.deepEqual(words('patient: 1234555'), ['patient', '1234555']);
  assert.deepEqual(words('{{record_start}}'), ['record_start']);
  assert.deepEqual(words('given to the patient.'), ['given', 'to', 'the', 'patient']);
  assert.deepEqual(words('apixabán 5 mg'), ['apixabán', '5', 'mg']);
});
