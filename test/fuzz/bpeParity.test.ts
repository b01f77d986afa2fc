/**
 * The merge-queue BPE (core/tokens/bpe.ts) against tiktoken's algorithm, on thousands of random and
 * adversarial pieces, for cl100k_base and o200k_base:
 *
 * - `bytePairMergeQueue` alone against a straight transcription of tiktoken's quadratic merge
 *   (lowest rank, leftmost on ties), both over the same rank table (built here from gpt-tokenizer's
 *   published rank data), on byte strings including invalid UTF-8;
 * - whole texts through `getTokenizer` (which routes pieces of LONG_PIECE_BYTES or more through the
 *   merge queue) against js-tiktoken (an independent implementation) and against an unpatched
 *   gpt-tokenizer instance, token id for token id.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { bytePairMergeQueue, LONG_PIECE_BYTES } from '../../engine/src/core/tokens/bpe';
import type { RankOf } from '../../engine/src/core/tokens/bpe';
import type { EncodingName } from '../../engine/src/core/tokens/encodings';
import { decodeUtf8, ENCODINGS, getTokenizer, longPieceStats } from '../../engine/src/core/tokens/encodings';
import { rng } from '../fixtures/recordGenerator';

interface Encoder {
  encode(text: string): number[];
}

// js-tiktoken ships as an ES module: load it with import().
const references = (async (): Promise<Record<EncodingName, Encoder>> => {
  const { Tiktoken: Impl } = await import('js-tiktoken/lite');
  const cl100k = new Impl((await import('js-tiktoken/ranks/cl100k_base')).default);
  const o200k = new Impl((await import('js-tiktoken/ranks/o200k_base')).default);
  return {
    cl100k_base: { encode: (s) => cl100k.encode(s, [], []) },
    o200k_base: { encode: (s) => o200k.encode(s, [], []) },
  };
})();
let tiktoken: Record<EncodingName, Encoder>;
test.before(async () => {
  tiktoken = await references;
});

type RawRanks = readonly (string | readonly number[])[];
interface GptEncodingClass {
  getEncodingApi(name: string, ranks: () => RawRanks): { encode(text: string, o: object): number[] };
}
/* eslint-disable @typescript-eslint/no-require-imports */
const rawRanks = (enc: EncodingName): RawRanks =>
  (require(`gpt-tokenizer/bpeRanks/${enc}`) as { default: RawRanks }).default;
/** A fresh gpt-tokenizer instance whose merge is not routed (the library as published). */
function unpatched(enc: EncodingName): Encoder {
  const { GptEncoding } = require('gpt-tokenizer/GptEncoding') as { GptEncoding: GptEncodingClass };
  const api = GptEncoding.getEncodingApi(enc, () => rawRanks(enc));
  const opts = { disallowedSpecial: new Set<string>() };
  return { encode: (s) => api.encode(s, opts) };
}
/* eslint-enable @typescript-eslint/no-require-imports */

/** bytes -> rank over the published rank data, keyed by the bytes as a latin1 string. */
function rankTable(enc: EncodingName): RankOf {
  const map = new Map<string, number>();
  const utf8 = new TextEncoder();
  rawRanks(enc).forEach((v, rank) => {
    const bytes = typeof v === 'string' ? utf8.encode(v) : Uint8Array.from(v);
    map.set(String.fromCharCode(...bytes), rank);
  });
  return (piece, start, end) => map.get(String.fromCharCode(...piece.subarray(start, end))) ?? -1;
}

/** tiktoken's `byte_pair_merge`, transcribed: scan for the lowest rank (leftmost), merge, rescan. */
function tiktokenMerge(piece: Uint8Array, rankOf: RankOf): number[] {
  const parts: number[] = [];
  for (let i = 0; i <= piece.length; i++) parts.push(i);
  const rank = (i: number): number => (i + 2 < parts.length ? rankOf(piece, parts[i], parts[i + 2]) : -1);
  const ranks = parts.map((_, i) => rank(i));
  for (;;) {
    let best = -1;
    for (let i = 0; i < ranks.length; i++) {
      if (ranks[i] >= 0 && (best < 0 || ranks[i] < ranks[best])) best = i;
    }
    if (best < 0) break;
    parts.splice(best + 1, 1);
    ranks.splice(best + 1, 1);
    ranks[best] = rank(best);
    if (best > 0) ranks[best - 1] = rank(best - 1);
  }
  const out: number[] = [];
  for (let i = 0; i + 1 < parts.length; i++) out.push(rankOf(piece, parts[i], parts[i + 1]));
  return out;
}

const UNITS = [
  'a',
  'Z',
  'é',
  'ß',
  'ñ',
  'ж',
  'Ω',
  '中',
  '語',
  'ㅎ',
  'ا',
  'ह',
  'e\u0301',
  '🙂',
  '👩🏽‍⚕️',
  '🇺🇸',
  ' ',
  '\t',
  '\n',
  '\r\n',
  '\u00a0',
  '.',
  '!',
  '-',
  '/',
  '<',
  '>',
  '&',
  '0',
  '7',
  '42',
  "'",
  '_',
];
const WORD_PARTS = ['pneumono', 'ultra', 'micro', 'scopic', 'silico', 'volcano', 'coniosis', 'XML', 'Http'];

const utf8 = new TextEncoder();

/** `s` cut to at most `maxBytes` bytes of UTF-8, on a code point boundary. */
function capBytes(s: string, maxBytes: number): string {
  if (utf8.encode(s).length <= maxBytes) return s;
  let out = '';
  let bytes = 0;
  for (const ch of s) {
    bytes += utf8.encode(ch).length;
    if (bytes > maxBytes) break;
    out += ch;
  }
  return out;
}

/**
 * Adversarial and random texts of at most `maxLen` bytes (the references are quadratic); most
 * contain a piece of LONG_PIECE_BYTES or more.
 */
function corpus(seed: number, count: number, maxLen: number): string[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const len = (): number =>
    r() < 0.3
      ? LONG_PIECE_BYTES - 8 + Math.floor(r() * 16) // around the routing threshold (in chars)
      : 1 + Math.floor(r() * maxLen);
  const out: string[] = [];
  for (let k = 0; k < count; k++) {
    const n = len();
    let s = '';
    switch (k % 8) {
      case 0: // one repeated character (single- or multi-byte)
        s = pick(UNITS).repeat(n);
        break;
      case 1: // a repeated multi-character unit
        s = (pick(UNITS) + pick(UNITS) + (r() < 0.5 ? pick(UNITS) : '')).repeat(Math.ceil(n / 2));
        break;
      case 2: // random letters of one script, mixed case
        for (let i = 0; i < n; i++) s += pick(['a', 'b', 'e', 'q', 'E', 'Q', 'x', 'é', 'ж', '中', 'ß']);
        break;
      case 3: // digits and letters mixed
        for (let i = 0; i < n; i++) s += r() < 0.5 ? String(Math.floor(r() * 10)) : pick(['a', 'B', 'z']);
        break;
      case 4: // emoji and symbols (a long punctuation piece, 4-byte UTF-8)
        for (let i = 0; i < n; i++) s += pick(['🙂', '🏥', '💉', '👩🏽‍⚕️', '🇫🇷', '—', '°', '±', '#']);
        break;
      case 5: // long words
        while (s.length < n) s += pick(WORD_PARTS);
        break;
      case 6: // random from every unit
        for (let i = 0; i < n; i++) s += pick(UNITS);
        break;
      default: // a long run inside ordinary text
        s = `Note: BP 120/80 ${pick(UNITS).repeat(n)} end of note.\n`;
    }
    out.push(capBytes(s, maxLen));
  }
  return out;
}

test('bytePairMergeQueue equals tiktoken merge order on random and adversarial byte strings', () => {
  const r = rng(7);
  for (const enc of ENCODINGS) {
    const rankOf = rankTable(enc);
    const pieces: Uint8Array[] = corpus(11, 500, 600).map((s) => utf8.encode(s));
    // Random bytes (invalid UTF-8 included) and runs of one byte.
    for (let k = 0; k < 200; k++) {
      const n = 1 + Math.floor(r() * 300);
      const b = new Uint8Array(n);
      const alphabet = 1 + Math.floor(r() * 255);
      for (let i = 0; i < n; i++) b[i] = k % 4 === 0 ? 0xe4 : Math.floor(r() * alphabet) + (k % 2) * 0x80;
      pieces.push(b);
    }
    for (const p of pieces) {
      assert.deepEqual(bytePairMergeQueue(p, rankOf), tiktokenMerge(p, rankOf), `${enc}: ${p.length} bytes`);
    }
  }
});

test('getTokenizer equals js-tiktoken and unpatched gpt-tokenizer, token for token (long pieces routed)', () => {
  for (const enc of ENCODINGS) {
    const library = unpatched(enc);
    const ours = getTokenizer(enc);
    const before = longPieceStats.pieces;
    const texts = [...corpus(enc === 'cl100k_base' ? 1 : 2, 1200, 700), ...corpus(3, 8, 4000)];
    for (const s of texts) {
      const ids = ours.encode(s);
      const label = `${enc}: ${JSON.stringify(s.slice(0, 40))} (${s.length} chars)`;
      assert.deepEqual(ids, tiktoken[enc].encode(s), label);
      assert.deepEqual(ids, library.encode(s), label);
      assert.equal(ours.count(s), ids.length, label);
    }
    // Most of the corpus went through the merge queue (the rest is the library's own merge).
    assert.ok(longPieceStats.pieces - before > 200, `${enc}: ${longPieceStats.pieces - before} long pieces`);
  }
});

test('decodeUtf8 accepts exactly what the library treats as valid UTF-8', () => {
  const valid = new TextEncoder().encode('aé中🙂\u0000\u007f\u0080\u07ff\u0800\uffff');
  assert.equal(decodeUtf8(valid, 0, valid.length), 'aé中🙂\u0000\u007f\u0080\u07ff\u0800\uffff');
  const invalid = [
    [0xc0, 0x80], // overlong
    [0xe0, 0x80, 0x80], // overlong
    [0xed, 0xa0, 0x80], // surrogate
    [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
    [0xe4, 0xb8], // truncated
    [0x80], // lone continuation
    [0xff],
  ];
  for (const b of invalid) assert.equal(decodeUtf8(Uint8Array.from(b), 0, b.length), undefined, String(b));
});
