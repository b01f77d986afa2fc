/**
 * A deterministic corpus of answer/gold pairs that exercises every path of the built-in metrics:
 * clinical prose, punctuation next to numbers, entities and `<skipped>` (13a), Python whitespace
 * other than ASCII (no-break space, U+2028, U+3000), accented and CJK letters, astral characters
 * (emoji, surrogate pairs, a lone surrogate), irregular Porter forms, repeated n-grams, empty and
 * one-character texts. Used by test/unit/metricsExact.test.ts and by makeScoreSnapshot.ts, which
 * wrote test/fixtures/metrics/score-snapshot.json.
 */
import { Prng } from '../../engine/src/core/metrics/agreement';

const WORDS = (
  'the patient was admitted with chest pain and shortness of breath troponin elevated started on aspirin ' +
  'heparin metoprolol atorvastatin cardiology consulted echocardiogram showed reduced ejection fraction ' +
  'discharged home follow up in clinic two weeks blood pressure creatinine history of diabetes hypertension ' +
  'generalizations dying lying tying skies sky news innings outings cannings howe proceed exceed succeed ' +
  'happy enjoy relational conditional rational valenci hesitanci digitizer conformabli radicalli ' +
  'differentli vileli analogousli vietnamization predication operator feudalism decisiveness hopefulness ' +
  'callousness formaliti sensitiviti sensibiliti triplicate formative formalize electriciti electrical ' +
  'hopeful goodness revival allowance inference airliner gyroscopic adjustable defensible irritant ' +
  'replacement adjustment dependent adoption homologou communism activate angulariti homologous effective ' +
  'bowdlerize probate rate cease controll roll fall agreed feed plastered bled motoring sing conflated ' +
  'troubled sized hopping tanned falling hissing fizzed failing filing happy sky caresses ponies ties ' +
  'caress cats IV PO mg/dL mmol/L q.i.d. b.i.d. 10.5 1,000 3-4 -5 x-ray follow-up pt.'
).split(' ');

const EXTRAS = [
  'naïve',
  'café',
  'Über',
  'ĳssel',
  '患者',
  '血压',
  '😀',
  '𝔘𝔫𝔦',
  'a😀b',
  '&amp;',
  '&lt;tag&gt;',
  '&quot;q&quot;',
  '<skipped>',
  'end-\nline',
  '(parenthesis)',
  '"quoted"',
  "it's",
  '[1]',
  '{x}',
  '~tilde~',
  'e.g.,',
  '$5.00',
  '50%',
  '#1',
  '@home',
  'A/B',
  '\ud800',
];

const SPACES = [' ', ' ', ' ', ' ', '  ', '\t', '\n', '\u00a0', '\u2028', '\u3000', '\r\n', ' \u000b'];

function text(rng: Prng, words: number): string {
  let s = '';
  for (let i = 0; i < words; i++) {
    const r = rng.next();
    let w = r < 0.08 ? EXTRAS[rng.int(EXTRAS.length)] : WORDS[Math.floor(WORDS.length * rng.next() ** 2)];
    // Upper case one word in ten, else capitalised one in ten (two draws, as written).
    const upper = rng.next() < 0.1;
    if (upper) w = w.toUpperCase();
    else if (rng.next() < 0.1) w = w[0].toUpperCase() + w.slice(1);
    const p = rng.next();
    if (p < 0.08) w += '.';
    else if (p < 0.14) w += ',';
    else if (p < 0.16) w += '?!';
    else if (p < 0.18) w = `(${w})`;
    s += (i === 0 ? '' : SPACES[rng.int(SPACES.length)]) + w;
  }
  return s;
}

/** `n` pairs (default 600): short and long, sharing some words and n-grams with their gold text. */
export function metricsCorpus(n = 600, seed = 20261201): { gold: string; answer: string }[] {
  const rng = new Prng(seed);
  const fixed: { gold: string; answer: string }[] = [
    { gold: '', answer: '' },
    { gold: 'a', answer: '' },
    { gold: '', answer: 'a' },
    { gold: 'x', answer: 'x' },
    { gold: '  \t ', answer: 'word' },
    { gold: 'The quick brown fox jumps over the lazy dog', answer: 'The quick brown dog jumps on the log.' },
    { gold: 'the the the the the the the', answer: 'the the the' },
    { gold: 'aaaaaaaaaaaaaaaaaaaa', answer: 'aaaaaaaaaa' },
    { gold: '😀😀😀 😀', answer: '😀 😀😀' },
  ];
  const out = [...fixed];
  while (out.length < n) {
    const long = rng.next() < 0.3;
    const gold = text(rng, long ? 150 + rng.int(250) : 1 + rng.int(40));
    const kind = rng.next();
    let answer: string;
    if (kind < 0.1) answer = gold;
    else if (kind < 0.2) answer = text(rng, 1 + rng.int(30));
    else {
      // Half copied from the gold text (shuffled chunks), half new.
      const g = gold.split(' ');
      const chunks: string[] = [];
      for (let k = 0; k < 1 + rng.int(6); k++) {
        const at = rng.int(g.length);
        chunks.push(g.slice(at, at + 1 + rng.int(12)).join(' '));
        chunks.push(text(rng, rng.int(long ? 40 : 8)));
      }
      answer = chunks.join(rng.next() < 0.5 ? ' ' : '\n');
    }
    out.push(rng.next() < 0.5 ? { gold, answer } : { gold: answer, answer: gold });
  }
  return out;
}
