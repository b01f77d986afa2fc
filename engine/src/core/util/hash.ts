/**
 * Pure-JS 64-bit content hash for cache keys (no `node:crypto` in the core). Two independent
 * 32-bit lanes (MurmurHash3-style mixing over UTF-16 code units) plus the length: collisions are
 * vanishingly unlikely for cache use (~2^-64 per pair), and it hashes 2 MB in a few milliseconds.
 * Not a cryptographic hash.
 */

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** 64-bit hash of `text[start, end)` as two unsigned 32-bit numbers. */
export function hash64(text: string, start = 0, end = text.length): [number, number] {
  let h1 = 0x9747b28c ^ (end - start);
  let h2 = 0x3c6ef372 ^ Math.imul(end - start, 0x27d4eb2f);
  let i = start;
  // Two code units per step.
  for (; i + 1 < end; i += 2) {
    let k = text.charCodeAt(i) | (text.charCodeAt(i + 1) << 16);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h1 ^= k;
    h1 = (h1 << 13) | (h1 >>> 19);
    h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0;
    h2 = Math.imul(h2 ^ k, 0x85ebca77);
    h2 = (h2 << 17) | (h2 >>> 15);
  }
  if (i < end) {
    let k = text.charCodeAt(i);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h1 ^= k;
    h2 = Math.imul(h2 ^ k, 0x85ebca77);
  }
  h1 = fmix(h1 ^ h2);
  h2 = fmix(h2 + Math.imul(h1, 0x9e3779b1));
  return [h1 >>> 0, h2 >>> 0];
}

/** Hex key of `text[start, end)`: 16 hex digits of hash plus the length, e.g. `1f0c…a9:2048`. */
export function hashKey(text: string, start = 0, end = text.length): string {
  const [a, b] = hash64(text, start, end);
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0') + ':' + (end - start).toString(36);
}
