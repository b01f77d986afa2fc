/**
 * Exact parity of our counts (gpt-tokenizer) with a second, independent implementation of
 * tiktoken's BPE (js-tiktoken), token id for token id, for cl100k_base and o200k_base.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { EncodingName } from '../../engine/src/core/tokens/encodings';
import { ENCODINGS, getTokenizer, longPieceStats } from '../../engine/src/core/tokens/encodings';
import { rng, synthRecord } from '../fixtures/recordGenerator';

const sample = readFileSync(
  join(__dirname, '..', '..', '..', 'test', 'fixtures', 'records', 'sample-ehr-clean.xml'),
  'utf8',
);

// js-tiktoken ships as an ES module: load it with import().
interface Reference {
  encode(text: string, allowedSpecial: string[], disallowedSpecial: string[]): number[];
}
const reference = (async (): Promise<Record<EncodingName, Reference>> => {
  const { Tiktoken: Impl } = await import('js-tiktoken/lite');
  const cl100k = (await import('js-tiktoken/ranks/cl100k_base')).default;
  const o200k = (await import('js-tiktoken/ranks/o200k_base')).default;
  return { cl100k_base: new Impl(cl100k), o200k_base: new Impl(o200k) };
})();

let ref: Record<EncodingName, Reference>;

function refEncode(enc: EncodingName, text: string): number[] {
  return ref[enc].encode(text, [], []);
}

test.before(async () => {
  ref = await reference;
});

const ADVERSARIAL: string[] = [
  '',
  ' ',
  '\n',
  // Long unbroken words (js-tiktoken is quadratic on these, so they stay moderate here).
  'a'.repeat(1500),
  'abc'.repeat(400),
  'Pneumonoultramicroscopicsilicovolcanoconiosis'.repeat(20),
  '1234567890'.repeat(200),
  'x'.repeat(700) + ' ' + 'y'.repeat(700),
  '</visit><visit type="V" start="10/08/2018 20:00">',
  '</visit>\n<visit>',
  '</visit>\n <visit>',
  '</visit>\n\t\t<visit>',
  '</day></visit></record>',
  '<|endoftext|> <|im_start|>user<|im_end|> <|fim_prefix|>',
  ' '.repeat(1) + 'a' + ' '.repeat(2) + 'b' + ' '.repeat(3) + 'c' + ' '.repeat(17) + 'd' + ' '.repeat(100),
  '\t\t\t\n\n\n\r\n\r\n   \u00a0\u2003\u3000 end',
  '   \n   \n   ',
  'café naïve coöperate résumé Ångström',
  '日本語のテキストと中文字符和한국어 텍스트',
  'emoji 🙂🏥💉👩🏽‍⚕️ flags 🇺🇸🇫🇷 zwj 👨‍👩‍👧‍👦',
  'combining e\u0301 a\u0308 \u0915\u094d\u0937 Hindi हिन्दी Arabic العربية Hebrew עברית',
  "it's I'M they'RE we've he'll she'd don't O'Brien's",
  'HTTPS://Example.COM/Path?query=1&amp;x=%20 &lt;tag&gt;',
  'BP 120/80 mmHg, HR 85 bpm, SpO2 96 %, T 38.1°C, Wt 80 kg, 5-/5 strength, INR 1.0',
  '\ud800 lone surrogate \udfff',
  'MixedCaseWORDSAndCamelCaseIdentifiersXMLHttpRequest',
  '...!!!???---___***+++===###@@@$$$%%%^^^&&&((()))[[[]]]{{{}}}|||\\\\\\///',
];

test('parity with js-tiktoken on adversarial strings', () => {
  for (const enc of ENCODINGS) {
    const ours = getTokenizer(enc);
    for (const s of ADVERSARIAL) {
      const ids = ours.encode(s);
      assert.deepEqual(ids, refEncode(enc, s), `${enc}: ${JSON.stringify(s.slice(0, 60))}`);
      assert.equal(ours.count(s), ids.length);
    }
  }
});

test('parity with js-tiktoken on records (public sample and generated, with quirks)', () => {
  const corpus = [sample];
  for (let seed = 1; seed <= 4; seed++) corpus.push(synthRecord({ seed, targetChars: 30_000, quirks: true }));
  for (const enc of ENCODINGS) {
    const ours = getTokenizer(enc);
    for (const text of corpus) {
      const ids = ours.encode(text);
      const ref = refEncode(enc, text);
      assert.equal(ids.length, ref.length, enc);
      assert.deepEqual(ids, ref, enc);
      assert.equal(ours.decode(ids), text);
    }
  }
});

test('parity on random strings built from tricky fragments (property)', () => {
  const fragments = [
    '<',
    '>',
    '</',
    '/>',
    '<visit',
    '</visit>',
    '<day start="1/2/2020 9:00 PM">',
    ' ',
    '  ',
    '\t',
    '\n',
    '\r\n',
    'a',
    'Z',
    'é',
    '日本',
    '🙂',
    '\u0301',
    '0',
    '12',
    '345',
    "'s",
    "'LL",
    '&amp;',
    '—',
    '\u00a0',
    'word',
    'WORD',
  ];
  const r = rng(42);
  for (let k = 0; k < 300; k++) {
    let s = '';
    const n = 1 + Math.floor(r() * 40);
    for (let i = 0; i < n; i++) s += fragments[Math.floor(r() * fragments.length)];
    for (const enc of ENCODINGS) {
      assert.deepEqual(getTokenizer(enc).encode(s), refEncode(enc, s), `${enc}: ${JSON.stringify(s)}`);
    }
  }
});

test('long unbroken words go through the merge queue (no quadratic blow-up) and round-trip', () => {
  for (const enc of ENCODINGS) {
    const t = getTokenizer(enc);
    const word = 'a'.repeat(10_000) + enc;
    const before = longPieceStats.pieces;
    const ids = t.encode(word);
    assert.equal(longPieceStats.pieces, before + 1, 'one long piece routed');
    assert.equal(t.decode(ids), word);
    assert.ok(ids.length > 1000 && ids.length < 10_000, String(ids.length));
  }
});
