import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cutBetween, recordLayout } from '../../engine/src/core/record/layout';
import { parseRecord } from '../../engine/src/core/record/parse';
import { TokenCounter } from '../../engine/src/core/tokens/counter';
import type { EncodingName } from '../../engine/src/core/tokens/encodings';
import { ENCODINGS, getTokenizer } from '../../engine/src/core/tokens/encodings';
import {
  formatTokenCount,
  knownEncodingForModel,
  normaliseModelName,
  tokenizerForModel,
} from '../../engine/src/core/tokens/models';
import { synthRecord } from '../fixtures/recordGenerator';

const sample = readFileSync(
  join(__dirname, '..', '..', '..', 'test', 'fixtures', 'records', 'sample-ehr-clean.xml'),
  'utf8',
);

const whole = (enc: EncodingName, s: string): number => getTokenizer(enc).count(s);

test('model -> encoding map', () => {
  const o200k = [
    'gpt-4o',
    'gpt-4o-mini',
    'gpt-4o-2024-08-06',
    'chatgpt-4o-latest',
    'gpt-4.1',
    'gpt-4.1-mini',
    'o1',
    'o1-mini',
    'o3',
    'o3-mini',
    'o4-mini',
    'gpt-5',
    'openai/gpt-4o',
    'ft:gpt-4o-mini:org::abc',
    'GPT-4O',
  ];
  const cl100k = [
    'gpt-4',
    'gpt-4-turbo',
    'gpt-4-32k',
    'gpt-4-0613',
    'gpt-3.5-turbo',
    'gpt-35-turbo',
    'azure/gpt-35-turbo-16k',
    'text-embedding-3-small',
  ];
  const unknown = [
    'llama3:8b',
    'meta-llama/Llama-3.1-8B-Instruct',
    'mistral-7b',
    'claude-3-5-sonnet',
    'baseline',
    'o10',
    'gpt-40',
    '',
  ];
  for (const m of o200k) assert.equal(knownEncodingForModel(m), 'o200k_base', m);
  for (const m of cl100k) assert.equal(knownEncodingForModel(m), 'cl100k_base', m);
  for (const m of unknown) assert.equal(knownEncodingForModel(m), undefined, m);
  assert.equal(normaliseModelName(' OpenAI/GPT-4o '), 'gpt-4o');
  assert.equal(normaliseModelName('llama3:8b'), 'llama3');
});

test('endpoint encoding overrides the model; unknown models are estimates', () => {
  assert.deepEqual(tokenizerForModel('gpt-4o'), {
    encoding: 'o200k_base',
    estimated: false,
    source: 'model',
    chat: { kind: 'openai' },
  });
  assert.deepEqual(tokenizerForModel('gpt-4'), {
    encoding: 'cl100k_base',
    estimated: false,
    source: 'model',
    chat: { kind: 'openai' },
  });
  assert.deepEqual(tokenizerForModel('gpt-4', 'o200k_base'), {
    encoding: 'o200k_base',
    estimated: false,
    source: 'endpoint',
    chat: { kind: 'openai' },
  });
  assert.deepEqual(tokenizerForModel('my-local-model', 'cl100k_base'), {
    encoding: 'cl100k_base',
    estimated: false,
    source: 'endpoint',
    chat: { kind: 'openai' },
  });
  const est = tokenizerForModel('llama3:70b');
  assert.equal(est.estimated, true);
  assert.equal(est.source, 'fallback');
  assert.deepEqual(est.chat, { kind: 'openai' }); // OpenAI's chat overhead, as part of the estimate
  assert.equal(tokenizerForModel(undefined).estimated, true);
  assert.equal(tokenizerForModel('gpt-4o', 'p50k_base').source, 'model'); // unsupported override ignored
});

test('formatting: exact counts exact, estimates rounded and marked', () => {
  assert.equal(formatTokenCount(668_123, false), '668,123');
  assert.equal(formatTokenCount(668_123, true), '≈668,000');
  assert.equal(formatTokenCount(12_345, true), '≈12,300');
  assert.equal(formatTokenCount(87, true), '≈87');
  assert.ok(formatTokenCount(5, true).startsWith('≈'));
});

test('the cut rule: chunks add up exactly; the naive rule does not for tab or 1-space indents', () => {
  for (const enc of ENCODINGS) {
    for (const indent of ['    ', '  ', ' ', '\t\t', '']) {
      const a = `${indent}<visit start="1"><note>hello world</note></visit>\n`;
      const b = `${indent}<visit start="2"><note>more text 12</note></visit>\n`;
      const text = `<record>\n${a}${b}</record>\n`;
      const r = parseRecord(text);
      const layout = recordLayout(text, r);
      assert.deepEqual(layout.exact, [true, true, true]);
      assert.equal(text.slice(layout.visits[0].start, layout.visits[0].end), a);
      assert.equal(text.slice(layout.visits[1].start, layout.visits[1].end), b);
      const parts = [layout.head, ...layout.visits, layout.tail].map((s) =>
        whole(enc, text.slice(s.start, s.end)),
      );
      assert.equal(
        parts.reduce((x, y) => x + y),
        whole(enc, text),
        `${enc} indent ${JSON.stringify(indent)}`,
      );
    }
    // Cutting just before `<visit` (whitespace with the previous chunk) is off by one here.
    const text = '<record>\n\t\t<visit>a</visit>\n\t\t<visit>b</visit>\n</record>';
    const cut = text.indexOf('<visit', text.indexOf('</visit>'));
    assert.notEqual(whole(enc, text.slice(0, cut)) + whole(enc, text.slice(cut)), whole(enc, text));
  }
  // Abutting tags cannot be cut exactly (`><` is one token): flagged.
  assert.deepEqual(cutBetween('</visit><visit>', 8, 8), { pos: 8, exact: false });
  assert.deepEqual(cutBetween('</visit>\n  <visit>', 8, 11), { pos: 9, exact: true });
  assert.deepEqual(cutBetween('</visit>  <visit>', 8, 10), { pos: 8, exact: true });
});

test('per-visit counts sum to the whole-text count exactly (property over generated records)', () => {
  for (const enc of ENCODINGS) {
    let adjusted = 0;
    for (let seed = 1; seed <= 25; seed++) {
      const text = synthRecord({ seed, targetChars: 12_000, quirks: seed % 2 === 0 });
      const r = parseRecord(text);
      const counter = new TokenCounter();
      const c = counter.countRecord(text, r, enc);
      assert.equal(c.total, whole(enc, text), `${enc} seed ${seed}`);
      assert.equal(c.visits.length, r.visits.length);
      const sum = c.head + c.tail + c.visits.reduce((a, b) => a + b, 0);
      assert.equal(c.total, sum + c.seamAdjustment);
      if (c.layout.exact.every((e) => e)) assert.equal(c.seamAdjustment, 0, `${enc} seed ${seed}`);
      else adjusted++;
      // The chunks tile the text.
      let at = 0;
      for (const s of [c.layout.head, ...c.layout.visits, c.layout.tail]) {
        assert.equal(s.start, at);
        at = s.end;
      }
      assert.equal(at, text.length);
      // Inside visits: days and events add up too, wherever the seams are exact.
      for (let v = 0; v < r.visits.length; v++) {
        const vc = counter.countVisit(text, r, c, v);
        if (vc.split.exact.every((e) => e)) {
          assert.equal(vc.open + vc.close + vc.days.reduce((a, d) => a + d.total, 0), c.visits[v]);
        }
        for (const d of vc.days) {
          if (d.split.exact.every((e) => e))
            assert.equal(d.open + d.close + d.events.reduce((a, b) => a + b, 0), d.total);
        }
      }
    }
    assert.ok(adjusted > 0, 'the quirky records include abutting visits');
  }
});

test('public sample: visit counts', () => {
  const r = parseRecord(sample);
  for (const enc of ENCODINGS) {
    const c = new TokenCounter().countRecord(sample, r, enc);
    assert.equal(c.total, whole(enc, sample));
    assert.equal(c.seamAdjustment, 0);
    assert.equal(c.visits.length, 3);
    assert.ok(c.visits.every((n) => n > 500));
  }
});

test('cache: unchanged chunks are never re-tokenized', () => {
  const text = synthRecord({ seed: 5, targetChars: 60_000 });
  const r = parseRecord(text);
  const counter = new TokenCounter();
  const first = counter.countRecord(text, r, 'cl100k_base');
  const afterCold = counter.stats;
  assert.ok(afterCold.tokenizedChars >= text.length);

  // Same content, new string instance: the whole-record memo answers.
  const again = counter.countRecord((' ' + text).slice(1), r, 'cl100k_base');
  assert.equal(again.total, first.total);
  assert.equal(counter.stats.tokenizedChars, afterCold.tokenizedChars);

  // Edit inside one visit: only that visit's chunk is tokenized again.
  const v = r.visits[Math.floor(r.visits.length / 2)];
  const at = text.indexOf('</visit>', v.range.start);
  const edited = text.slice(0, at) + '<note>extra words here</note>' + text.slice(at);
  const r2 = parseRecord(edited);
  const c2 = counter.countRecord(edited, r2, 'cl100k_base');
  const delta = counter.stats.tokenizedChars - afterCold.tokenizedChars;
  const visitChunk = c2.layout.visits[Math.floor(r.visits.length / 2)];
  // (Chunks under 32 characters, here `<record>` and `</record>` lines, are not worth caching.)
  const tiny = [c2.layout.head, c2.layout.tail].map((x) => x.end - x.start).filter((n) => n < 32);
  assert.equal(delta, visitChunk.end - visitChunk.start + tiny.reduce((a, b) => a + b, 0));
  assert.equal(c2.total, whole('cl100k_base', edited));

  // A different encoding is a different cache entry.
  const o = counter.countRecord(text, r, 'o200k_base');
  assert.equal(o.total, whole('o200k_base', text));
});

test('cache: bounded, least recently used dropped first', () => {
  const counter = new TokenCounter({ maxEntries: 3, minCachedLength: 1 });
  const words = ['alpha alpha', 'beta beta', 'gamma gamma', 'delta delta'];
  for (const w of words.slice(0, 3)) counter.count(w, 'cl100k_base');
  counter.count(words[0], 'cl100k_base'); // refresh alpha
  counter.count(words[3], 'cl100k_base'); // evicts beta
  const before = counter.stats.misses;
  counter.count(words[0], 'cl100k_base');
  assert.equal(counter.stats.misses, before);
  counter.count(words[1], 'cl100k_base');
  assert.equal(counter.stats.misses, before + 1);
  assert.ok(counter.stats.entries <= 3);
});

test("cache: maxEntries 0 caches nothing and counts the same (the CLI's one-shot count)", () => {
  const text = synthRecord({ seed: 8, targetChars: 40_000, quirks: true });
  const r = parseRecord(text);
  const cached = new TokenCounter().countRecord(text, r, 'cl100k_base');
  const counter = new TokenCounter({ maxEntries: 0 });
  const once = counter.countRecord(text, r, 'cl100k_base');
  assert.deepEqual({ ...once, layout: undefined }, { ...cached, layout: undefined });
  assert.equal(once.total, whole('cl100k_base', text));
  assert.equal(counter.stats.entries, 0);
  assert.equal(counter.stats.hits + counter.stats.misses, 0);
  // Counting a range again tokenizes it again.
  const chars = counter.stats.tokenizedChars;
  const span = once.layout.visits[0];
  counter.countSpan(text, span, 'cl100k_base');
  counter.countSpan(text, span, 'cl100k_base');
  assert.equal(counter.stats.tokenizedChars, chars + 2 * (span.end - span.start));
});

test('special-token text and empty text are counted as plain text', () => {
  const counter = new TokenCounter();
  assert.equal(counter.count('', 'cl100k_base'), 0);
  const s = 'note: <|endoftext|> is just text here';
  assert.equal(counter.count(s, 'cl100k_base'), getTokenizer('cl100k_base').encode(s).length);
  assert.ok(counter.count(s, 'o200k_base') > 5);
});
