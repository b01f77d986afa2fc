/**
 * Differential test of the one-pass well-formedness check in engine/src/core/record/xmlScan.ts
 * against fast-xml-parser's XMLValidator (the reference it replaced in parseRecord; used here only).
 *
 * On thousands of seeded mutations of generated records the verdicts must agree, with one
 * exception stated up front: where XMLValidator accepts a real well-formedness error it misses
 * (an unclosed comment/CDATA/PI at the end, `</a/>`, a second root or text after a self-closing
 * root, a start tag cut off by the end of the file), the scanner may reject it, and only with a
 * problem code listed in STRICTER. Never the other way round. The first error's line is compared
 * with XMLValidator's and the share of differing lines is printed (not asserted).
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { XMLValidator } from 'fast-xml-parser';
import { STRICTER, scanXml } from '../../engine/src/core/record/xmlScan';
import { parseRecord } from '../../engine/src/core/record/parse';
import { generateRecord, mulberry32 } from '../fixtures/recordGenerator';

type Rng = () => number;

const JUNK = [
  '<',
  '>',
  '</',
  '/>',
  '/',
  '"',
  "'",
  '=',
  '&',
  '&amp;',
  '&lt',
  '&#x41;',
  '&#65;',
  '&#X41;',
  '&#;',
  '&nbsp;',
  '&abcdefghijklmnopqrstuvw;',
  '& ',
  '<!--',
  '-->',
  '<!-- c -->',
  '<![CDATA[',
  ']]>',
  '<![CDATA[x < y & z]]>',
  '<?',
  '?>',
  '<?pi x?>',
  '<?xml version="1.0"?>',
  '<!x>',
  '<!DOCTYPE r>',
  ' ',
  '\n',
  '\t',
  '\r\n',
  '\u00a0',
  '\ufeff',
  'x',
  'é',
  '1',
  '-',
  ':',
  '<a>',
  '</a>',
  '<a/>',
  '<b x="1">',
  ' x="1"',
  ' x=1',
  ' x',
  ' type="dup"',
  '<record>',
  '</record>',
  '</visit>',
  '<day start="2018-01-01">',
  '\u0000',
];

/** One seeded mutation of `s`: 1 to 4 edits biased towards the markup around tags. */
function mutateXml(s: string, rnd: Rng): string {
  const edits = 1 + Math.floor(rnd() * 4);
  for (let e = 0; e < edits; e++) {
    // Half the time aim at a `<` or `>` (tags, attributes), else anywhere.
    let pos = Math.floor(rnd() * (s.length + 1));
    if (rnd() < 0.5 && s.length > 0) {
      const ch = rnd() < 0.6 ? '<' : rnd() < 0.5 ? '>' : rnd() < 0.5 ? '"' : '=';
      const at = s.indexOf(ch, pos);
      if (at >= 0) pos = at + Math.floor(rnd() * 4) - 1;
      pos = Math.max(0, Math.min(s.length, pos));
    }
    const op = Math.floor(rnd() * 9);
    switch (op) {
      case 8: {
        // duplicate the next attribute in place (a repeated attribute), or drop its quotes
        const re = / [a-z_]+=("[^"<]*")/g;
        re.lastIndex = pos;
        const m = re.exec(s);
        if (m !== null) {
          const at = m.index + m[0].length;
          s =
            rnd() < 0.7
              ? s.slice(0, at) + m[0] + s.slice(at)
              : s.slice(0, at - m[1].length) + m[1].slice(1, -1).replace(/ /g, '') + s.slice(at);
        }
        break;
      }
      case 0: // delete a few characters
        s = s.slice(0, pos) + s.slice(pos + 1 + Math.floor(rnd() * 6));
        break;
      case 1: // duplicate a few characters
        s = s.slice(0, pos) + s.slice(pos, pos + 1 + Math.floor(rnd() * 8)) + s.slice(pos);
        break;
      case 2: // swap two neighbours
        if (pos + 1 < s.length) s = s.slice(0, pos) + s[pos + 1] + s[pos] + s.slice(pos + 2);
        break;
      case 3: // truncate
        if (rnd() < 0.3) s = s.slice(0, pos);
        break;
      case 4: // replace one character
        s = s.slice(0, pos) + JUNK[Math.floor(rnd() * JUNK.length)] + s.slice(pos + 1);
        break;
      default: // inject
        s = s.slice(0, pos) + JUNK[Math.floor(rnd() * JUNK.length)] + s.slice(pos);
    }
  }
  return s;
}

function lineOf(text: string, off: number): number {
  let line = 1;
  for (let k = text.indexOf('\n'); k >= 0 && k < off; k = text.indexOf('\n', k + 1)) line++;
  return line;
}

interface Stats {
  cases: number;
  bothBad: number;
  stricter: Map<string, number>;
  lineDiffers: number;
  unclosedMany: number;
}

function compare(xml: string, stats: Stats, label: string): void {
  const ref = XMLValidator.validate(xml);
  const scan = scanXml(xml);
  const ours = scan.problems.length === 0 && scan.roots.length === 1;
  stats.cases++;
  if (ref === true) {
    if (!ours) {
      const code = scan.problems[0]?.code ?? '(no problem)';
      assert.ok(
        STRICTER.has(code),
        `${label}: XMLValidator accepts, scanner rejects with ${code}: ${scan.problems[0]?.message}\n${JSON.stringify(xml.slice(Math.max(0, (scan.problems[0]?.start ?? 0) - 80), (scan.problems[0]?.start ?? 0) + 80))}`,
      );
      stats.stricter.set(code, (stats.stricter.get(code) ?? 0) + 1);
    }
    return;
  }
  assert.equal(
    ours,
    false,
    `${label}: XMLValidator rejects (${ref.err.msg} at ${ref.err.line}:${ref.err.col}), scanner accepts`,
  );
  stats.bothBad++;
  // XMLValidator puts "several tags unclosed" at 1:1; the scanner at the innermost unclosed tag.
  if (ref.err.msg.startsWith("Invalid '[")) stats.unclosedMany++;
  else if (lineOf(xml, scan.problems[0].start) !== ref.err.line) stats.lineDiffers++;
  // parseRecord agrees with the scan and never throws.
  const r = parseRecord(xml);
  assert.equal(r.ok, false, label);
}

function report(name: string, s: Stats): void {
  const strict = [...s.stricter].map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  console.log(
    `# ${name}: ${s.cases} cases, ${s.bothBad} rejected by both (${s.unclosedMany} as several unclosed tags, which XMLValidator puts at 1:1; ` +
      `of the others the first-error line differs in ${s.lineDiffers}, ${((100 * s.lineDiffers) / Math.max(1, s.bothBad - s.unclosedMany)).toFixed(1)}%), ` +
      `${s.cases - s.bothBad - [...s.stricter.values()].reduce((a, b) => a + b, 0)} accepted by both, stricter than XMLValidator: ${strict}`,
  );
}

test('well-formedness: seeded mutations of generated records agree with XMLValidator', () => {
  const stats: Stats = { cases: 0, bothBad: 0, stricter: new Map(), lineDiffers: 0, unclosedMany: 0 };
  const bases: string[] = [];
  for (let seed = 1; seed <= 8; seed++) {
    bases.push(generateRecord({ seed, targetChars: 3_000 + seed * 700, quirks: seed % 2 === 0 }));
  }
  // Small documents too, so that edits reach the prolog, the end and self-closing roots.
  bases.push(
    '<?xml version="1.0" encoding="UTF-8"?>\n<!-- export -->\n<record>\n<visit type="A &amp; B" start="2018-10-08">' +
      '<day start="2018-10-08"><note type="n">5 &lt; 7 &#x41;&#66; <![CDATA[<raw & text>]]></note></day></visit>\n</record>\n<!-- end -->\n',
    '<record/>\n',
    '<record><person>Gender: F</person><visit start="10/08/2018"/></record>',
  );
  const rnd = mulberry32(20261130);
  for (let k = 0; k < 8000; k++) {
    const base = bases[k % bases.length];
    compare(mutateXml(base, rnd), stats, `mutation ${k}`);
  }
  report('mutations', stats);
  assert.ok(stats.bothBad > 3000, 'most mutations break the record');
});

test('well-formedness: every truncation of a small record', () => {
  const stats: Stats = { cases: 0, bothBad: 0, stricter: new Map(), lineDiffers: 0, unclosedMany: 0 };
  const xml = generateRecord({ seed: 5, visits: 1, quirks: true }).slice(0, 4000);
  for (let cut = 0; cut <= xml.length; cut += 1) compare(xml.slice(0, cut), stats, `cut ${cut}`);
  report('truncations', stats);
});

test('well-formedness: unmutated generated records are accepted by both', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const xml = generateRecord({ seed, targetChars: 20_000, quirks: seed % 3 !== 0 });
    assert.equal(XMLValidator.validate(xml), true);
    assert.deepEqual(scanXml(xml).problems, [], `seed ${seed}`);
  }
});

test('well-formedness: hand-written cases, one per rule', () => {
  const bad: [string, string][] = [
    ['<r><a></r>', 'tag-mismatch'],
    ['<r></a></r>', 'tag-mismatch'],
    ['</r>', 'end-tag-unopened'],
    ['<r><a></r', 'end-tag-unterminated'],
    ['<r></r x>', 'end-tag-attrs'],
    ['<r><1a/></r>', 'tag-name'],
    ['<r>< a/></r>', 'tag-name'],
    ['<r><a b/c/></r>', 'attr-boolean'],
    ['<r a="1"b="2"/>', 'attr-space'],
    ['<r a=1/>', 'attr-value'],
    ['<r a/>', 'attr-boolean'],
    ['<r 1a="x"/>', 'attr-name'],
    ['<r a="1" a="2"/>', 'attr-duplicate'],
    ['<r a="1/>', 'attr-quote'],
    ['<r>a & b</r>', 'bad-entity'],
    ['<r>&#x4G;</r>', 'bad-entity'],
    ['<r>&;</r>', 'bad-entity'],
    ['<r>', 'unclosed-tag'],
    ['<r><a>', 'unclosed-tag'],
    ['x<r/>', 'text-outside-root'],
    ['<r/>x', 'text-outside-root'],
    ['<r></r>x', 'text-outside-root'],
    ['<r></r><r></r>', 'multiple-roots'],
    ['<r/><r/>', 'multiple-roots'],
    ['<r></r><!-- open', 'unclosed-comment'],
    ['<r></r><![CDATA[ open', 'unclosed-cdata'],
    ['<r></r><?pi open', 'unclosed-pi'],
    ['<r></a/></r>', 'closing-tag-slash'],
    ['<r/', 'start-tag-unterminated'],
    [' <?xml version="1.0"?><r/>', 'xml-decl'],
    ['<!-- only a comment -->', 'no-root'],
  ];
  for (const [xml, code] of bad) {
    const scan = scanXml(xml);
    assert.equal(scan.problems[0]?.code, code, `${JSON.stringify(xml)}: ${JSON.stringify(scan.problems)}`);
    if (XMLValidator.validate(xml) === true) assert.ok(STRICTER.has(code), `${xml}: XMLValidator accepts`);
    else assert.ok(!STRICTER.has(code) || code === 'multiple-roots' || code === 'text-outside-root', xml);
  }
  const good = [
    '<r/>',
    '\ufeff<?xml version="1.0"?>\n<!-- c --><r a="1" b=\'2\'>x &amp; &#65;&#x41; &lt;<![CDATA[<&>]]><?pi?></r>\n',
    '<r>a > b</r>',
    '<r a="<&>"/>',
    '<r ></r >',
    '<ns:r xmlns:ns="u"><ns:a/></ns:r>',
    '<r><!x></r>',
    '<r>&abc;</r>',
  ];
  for (const xml of good) {
    assert.deepEqual(scanXml(xml).problems, [], xml);
    assert.equal(XMLValidator.validate(xml), true, xml);
  }
});

test('scanner tree: offsets, attributes and names as written', () => {
  const xml = '<r><day start="1" x = \'a &amp; b\'><code>c</code><code/>t</day><a\u1680/><a></a\u1680></r>';
  const scan = scanXml(xml);
  assert.deepEqual(scan.problems, []);
  const [day, a1, a2] = scan.roots[0].children;
  assert.deepEqual(
    day.attrs.map((a) => [a.name, a.value, xml.slice(a.valueStart, a.valueEnd)]),
    [
      ['start', '1', '1'],
      ['x', 'a & b', 'a &amp; b'],
    ],
  );
  assert.deepEqual(
    day.children.map((c) => [c.name, xml.slice(c.start, c.end), c.attrs.length, c.text.length]),
    [
      ['code', '<code>c</code>', 0, 2],
      ['code', '<code/>', 0, 0],
    ],
  );
  assert.equal(xml.slice(day.text[0], day.text[1]), 't');
  // `<a\u1680/>` is an element named `a\u1680` (the slash goes after trimming), `</a\u1680>` closes `a`.
  assert.deepEqual(
    [a1, a2].map((n) => [n.name, n.closed]),
    [
      ['a\u1680', true],
      ['a', true],
    ],
  );
});

test('scanner: `&` references are checked wherever the first one is (none, or only at the end)', () => {
  // The scanner remembers the next `&` for the text ranges after it (it used to search from each
  // range to the end of the file, quadratic on a record without any `&`).
  const xml = generateRecord({ seed: 3, targetChars: 60_000 }).replace(/&[#\w]+;/g, 'x');
  assert.equal(xml.indexOf('&'), -1);
  assert.deepEqual(scanXml(xml).problems, []);
  assert.deepEqual(scanXml(xml.replace('</record>', '<x>&amp;</x></record>')).problems, []);
  const bare = xml.replace('</record>', '<x>a & b</x></record>');
  assert.deepEqual(
    scanXml(bare).problems.map((p) => [p.code, p.start]),
    [['bad-entity', bare.indexOf('&')]],
  );
});
