/**
 * The strategy picker's numbers (core/features/strategyFit.ts): for every strategy of the schema, at
 * the instruction's model and context, what it keeps equals what `packPrompt` gives for that strategy
 * (packed here independently of the workspace's engine), well-formedness agrees with fast-xml-parser's
 * validator on the text sent, and the cut is said where it falls.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { XMLValidator } from 'fast-xml-parser';
import { strategyInfos, isWellFormedXml } from '../../engine/src/core/features/strategyFit';
import { packRequest, resolveRunSettings } from '../../engine/src/core/features/runSettings';
import { packPrompt } from '../../engine/src/core/packing/pack';
import type { PackResult } from '../../engine/src/core/packing/pack';
import { parseRecord } from '../../engine/src/core/record/parse';
import { TokenCounter } from '../../engine/src/core/tokens/counter';
import { parseTemplate } from '../../engine/src/core/template/template';
import { getDefaultRefineTemplate } from '../../engine/src/core/template/defaults';
import { parseInstruction } from '../../engine/src/core/format/parse';
import { generateRecord } from '../fixtures/recordGenerator';
import { makeWorkspace, publicSampleXml, validInstruction } from '../helpers/fixtures';
import { MemFs } from '../helpers/memfs';

const counter = new TokenCounter();
const big = generateRecord({ seed: 41, targetChars: 90_000 });

/** The packer on its own, with the settings the instruction resolves to for `strategy`. */
async function reference(
  ws: Awaited<ReturnType<typeof makeWorkspace>>,
  uri: string,
  text: string,
  record: string,
  overrides: { context: string; strategy: string },
): Promise<PackResult> {
  const s = await resolveRunSettings(parseInstruction(text), uri, ws.ws, ws.fs, overrides);
  const req = packRequest(s);
  return packPrompt({
    text: record,
    record: parseRecord(record),
    instruction: req.instruction,
    context: req.context,
    reserve: req.reserve,
    strategy: req.strategy,
    encoding: req.encoding,
    estimated: req.estimated,
    counter,
    ...(req.template !== undefined ? { template: parseTemplate(req.template) } : {}),
    ...(req.chat !== undefined ? { chat: req.chat } : {}),
    ...(req.refine !== undefined
      ? {
          refine: {
            template:
              req.refine.template !== undefined
                ? parseTemplate(req.refine.template)
                : getDefaultRefineTemplate(),
            order: req.refine.order,
            maxSteps: req.refine.maxSteps,
          },
        }
      : {}),
  });
}

const validXml = (x: string) => XMLValidator.validate(x) === true;

for (const [name, patient, record] of [
  ['the public sample', '1234555', publicSampleXml],
  ['a generated 90 kB record', '7000001', big],
] as const) {
  for (const context of ['2k', '8k', '32k']) {
    test(`strategy fit of ${name} at ${context}: every strategy's numbers are packPrompt's`, async () => {
      const w = await makeWorkspace({ 'records/7000001.xml': big });
      const text = validInstruction(7000000001)
        .replace('patient: 1234555', `patient: ${patient}`)
        .replace('context: 32k', `context: ${context}`);
      const d = w.doc('instructions/a.medalign', text);
      const fit = await w.service.strategyFit(d, w.ws);
      assert.equal(fit.ok, true, fit.message);
      assert.equal(fit.strategy, 'recent');
      assert.equal(fit.contextLabel, context);
      assert.deepEqual(
        fit.rows.map((r) => r.name),
        ['recent', 'bm25', 'none', 'helm', 'refine'],
      );
      assert.deepEqual(
        fit.rows.filter((r) => r.current).map((r) => r.name),
        ['recent'],
      );
      for (const row of fit.rows) {
        const ref = await reference(w, d.uri, text, record, { context, strategy: row.name });
        assert.equal(row.ok, ref.ok, `${row.name}: ok`);
        assert.equal(row.encoding, ref.encoding, `${row.name}: encoding`);
        assert.equal(row.keptTokens, ref.ok ? ref.kept.tokens : 0, `${row.name}: tokens kept`);
        if (ref.ok && row.name !== 'refine') {
          // Checked against an independent validator on the exact text sent.
          assert.equal(
            row.wellFormed,
            ref.ehr === '' ? undefined : validXml(ref.ehr),
            `${row.name}: well-formed`,
          );
        }
        if (row.name === 'refine') {
          assert.equal(row.steps, ref.refine?.steps.length, 'refine: steps');
          for (const st of ref.refine?.steps ?? []) {
            assert.ok(validXml(st.ranges.map((g) => record.slice(g.start, g.end)).join('')), 'refine chunk');
          }
          assert.equal(row.wellFormed, true);
        }
        if (row.name === 'helm') {
          assert.equal(row.totalTokens, ref.helm?.recordTokens);
          assert.equal(row.midElement, !ref.helm!.wellFormed);
          if (row.midElement) {
            assert.equal(row.wellFormed, false);
            assert.match(
              row.cut,
              new RegExp(`^mid-element at line ${ref.helm!.cutLine}, column ${ref.helm!.cutColumn} `),
            );
          }
        }
        if (row.name === 'recent' && ref.ok && !row.whole) {
          assert.equal(row.wellFormed, true);
          assert.equal(row.firstKept, ref.kept.firstDate?.iso.slice(0, 10));
          assert.equal(row.cut, `between elements, the newest part from ${row.firstKept}`);
        }
        if (row.name === 'none') {
          assert.equal(row.cut, ref.ok ? 'none, the whole record' : 'does not fit');
          if (!ref.ok) assert.equal(row.error, ref.error);
        }
      }
      if (context === '32k') {
        // Everything fits: every strategy but refine sends the whole record, as well-formed XML.
        for (const row of fit.rows) {
          assert.equal(row.whole, true, `${row.name} whole at 32k`);
          assert.equal(row.wellFormed, true, `${row.name} well-formed at 32k`);
        }
      }
    });
  }
}

test('strategy fit at 2k on the public sample: helm cuts mid-element where recent cuts between elements; none does not fit; refine takes steps', async () => {
  const w = await makeWorkspace();
  const text = validInstruction(7000000002)
    .replace('context: 32k', 'context: 2k')
    .replace('strategy: recent', 'strategy: helm');
  const fit = await w.service.strategyFit(w.doc('instructions/b.medalign', text), w.ws);
  assert.equal(fit.ok, true, fit.message);
  assert.equal(fit.strategy, 'helm');
  const row = (n: string) => fit.rows.find((r) => r.name === n)!;
  assert.equal(row('helm').current, true);
  assert.equal(row('helm').wellFormed, false);
  assert.equal(row('helm').midElement, true);
  assert.match(
    row('helm').summaryLine,
    /^1,\d{3} of 2,949 tokens \(\d+%, cl100k_base as HELM counts\) · not well-formed XML · cut: mid-element at line \d+, column \d+ \(the middle of a <\w+> event \(visit \d of \d, \d{4}-\d\d-\d\d\)\)/,
  );
  assert.equal(row('recent').wellFormed, true);
  assert.match(
    row('recent').summaryLine,
    /^1,\d{3} of 2,9\d\d tokens \(\d+%, cl100k_base\) · well-formed XML · cut: between elements, the newest part from \d{4}-\d\d-\d\d$/,
  );
  assert.equal(row('none').ok, false);
  assert.match(row('none').summaryLine, /^does not fit: The whole record needs/);
  assert.ok((row('refine').steps ?? 0) >= 2, 'refine needs steps at 2k');
  assert.match(row('refine').cut, /^none, the whole record in \d+ steps$/);
  // The window's choice overrides the front matter, as the pickers pass it.
  const o = await w.service.strategyFit(w.doc('instructions/b.medalign', text), w.ws, {
    strategy: 'bm25',
    context: '4k',
  });
  assert.equal(o.strategy, 'bm25');
  assert.equal(o.contextLabel, '4k');
  assert.deepEqual(
    o.rows.filter((r) => r.current).map((r) => r.name),
    ['bm25'],
  );
});

test('strategy fit says why nothing is packed, and still lists the schema strategies', async () => {
  const w = await makeWorkspace();
  const noRecord = await w.service.strategyFit(
    w.doc(
      'instructions/c.medalign',
      validInstruction(7000000003).replace('patient: 1234555', 'patient: 404'),
    ),
    w.ws,
  );
  assert.equal(noRecord.ok, false);
  assert.match(noRecord.message ?? '', /record not found: records\/404\.xml/);
  assert.deepEqual(noRecord.rows, []);
  assert.deepEqual(
    noRecord.strategies.map((s) => s.name),
    ['recent', 'bm25', 'none', 'helm', 'refine'],
  );
  const badContext = await w.service.strategyFit(
    w.doc('instructions/d.medalign', validInstruction(7000000004).replace('context: 32k', 'context: 32x')),
    w.ws,
  );
  assert.equal(badContext.ok, false);
  assert.match(badContext.message ?? '', /^Context /);
  // An unknown strategy in the front matter is what the picker is there to change: the others pack.
  const badStrategy = await w.service.strategyFit(
    w.doc(
      'instructions/e.medalign',
      validInstruction(7000000005).replace('strategy: recent', 'strategy: newest'),
    ),
    w.ws,
  );
  assert.equal(badStrategy.ok, true, badStrategy.message);
  assert.equal(badStrategy.strategy, 'newest');
  assert.equal(badStrategy.rows.filter((r) => r.current).length, 0);
});

test('strategy descriptions come from the schema; the well-formedness check agrees with fast-xml-parser', () => {
  const infos = strategyInfos();
  assert.equal(
    infos.find((i) => i.name === 'helm')?.summary,
    "Reproduce HELM's MedAlign request byte for byte",
  );
  assert.equal(
    infos.find((i) => i.name === 'recent')?.summary,
    'Keep the most recent part of the record, cut between visits, days or events',
  );
  for (const x of [
    publicSampleXml,
    publicSampleXml.slice(1000),
    publicSampleXml.slice(0, -20),
    '<record></record>',
    'abc</note></day></visit></record>',
  ]) {
    assert.equal(isWellFormedXml(x), validXml(x), x.slice(0, 40));
  }
});

test('the record hover under helm: beside what helm keeps, what recent keeps and back to which day, and where they differ, in a hover’s width', async () => {
  const w = await makeWorkspace({ 'records/7000001.xml': big });
  const text = validInstruction(7000000006)
    .replace('patient: 1234555', 'patient: 7000001')
    .replace('context: 32k', 'context: 8k')
    .replace('strategy: recent', 'strategy: helm');
  const d = w.doc('instructions/h.medalign', text);
  const h = await w.service.doHover(d, d.positionAt(text.indexOf('7000001') + 2), w.ws);
  const md = h === undefined || h === null ? '' : (h.contents as { value: string }).value;
  assert.match(md, /\*\*[\d,]+ tokens\*\* \(cl100k_base, as HELM counts · model baseline\)/);
  assert.match(md, /^\| context \| kept \(helm\) \| recent keeps, back to \|$/m);
  assert.match(
    md,
    /\*\*helm differs from recent:\*\* .*mid-element.*not well-formed XML.*between visits, days and events/,
  );
  // The numbers are the fit tables' of each strategy; the instruction's context is marked.
  const fitOf = async (strategy: 'helm' | 'recent') => {
    const s = await resolveRunSettings(parseInstruction(text), d.uri, w.ws, w.fs, { strategy });
    const rec = await w.ws.records.get(MemFs.uri('records/7000001.xml'));
    const f = await w.ws.engine.fit(rec.uri, rec.key!, packRequest(s), true);
    assert.ok(f && f !== 'pending');
    return f;
  };
  const helm = await fitOf('helm');
  const recent = await fitOf('recent');
  const row8k = md.split('\n').find((l) => l.startsWith('| 8k ◀ |'));
  const h8 = helm.rows.find((r) => r.context === 8192)!;
  const r8 = recent.rows.find((r) => r.context === 8192)!;
  assert.ok(!h8.fitsWhole && !r8.fitsWhole, 'the 90 kB record is cut at 8k');
  assert.equal(
    row8k,
    `| 8k ◀ | ${h8.keptTokens.toLocaleString('en-US')} · ${Math.round(h8.fraction * 100)}% | ${r8.keptTokens.toLocaleString('en-US')} · ${Math.round(r8.fraction * 100)}% · ${r8.keptFrom!.iso.slice(0, 10)} |`,
  );
  for (const row of md.split('\n').filter((l) => l.startsWith('|'))) {
    assert.equal(row.split('|').length - 2, 3, `three cells: ${row}`);
    assert.ok(row.replace(/^\|?|\|?$/g, '').length <= 64, `fits a hover: ${row}`);
  }
});
