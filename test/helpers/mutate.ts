/** Seeded generator of broken instruction files for fuzz tests. */
export { mulberry32 } from '../fixtures/recordGenerator';

const SNIPPETS = [
  '---',
  '---\n',
  '## ',
  '## Instruction\n',
  '## Gold response',
  ': ',
  ':',
  '[',
  ']',
  '{',
  '}',
  '{{ehr}}',
  '"',
  "'",
  '\t',
  '\r\n',
  '\n',
  '- ',
  '&anchor ',
  '*anchor',
  '!!binary ',
  '|\n  ',
  '>-\n',
  '<!--',
  '-->',
  'id: ',
  'patient: ',
  'record: ../../../../etc/passwd',
  'context: [32k]',
  'tags: stroke',
  'strategy: recnt',
  'cateogry: x',
  '\u0000',
  '\ufeff',
  '\ud83e\udec0',
  '\u202e',
  'é',
  '%YAML 1.2\n',
  '? ',
  '#',
];

export function mutate(base: string, rnd: () => number): string {
  let s = base;
  const n = 1 + Math.floor(rnd() * 6);
  for (let i = 0; i < n; i++) {
    const pos = Math.floor(rnd() * (s.length + 1));
    const op = Math.floor(rnd() * 9);
    switch (op) {
      case 0: // delete a range
        s = s.slice(0, pos) + s.slice(pos + Math.floor(rnd() * 40));
        break;
      case 1: // insert a YAML/markdown-significant snippet
        s = s.slice(0, pos) + SNIPPETS[Math.floor(rnd() * SNIPPETS.length)] + s.slice(pos);
        break;
      case 2: {
        // binary junk
        let junk = '';
        const len = 1 + Math.floor(rnd() * 64);
        for (let j = 0; j < len; j++) junk += String.fromCharCode(Math.floor(rnd() * 0xffff));
        s = s.slice(0, pos) + junk + s.slice(pos);
        break;
      }
      case 3: {
        // A huge line: mostly words (10k-110k characters), sometimes one long unbroken run. Runs are
        // kept to a few thousand letters because exact BPE is quadratic in a run's length (100k
        // letters take ~11 s in any tiktoken implementation); the parser itself gets 2M-letter lines in
        // fuzz.test.ts.
        const long =
          rnd() < 0.8
            ? 'lorem ipsum dolor '.repeat(Math.floor((10_000 + rnd() * 100_000) / 18))
            : 'x'.repeat(200 + Math.floor(rnd() * 3000));
        s = s.slice(0, pos) + long + s.slice(pos);
        break;
      }
      case 4: {
        // duplicate a line
        const lines = s.split('\n');
        const k = Math.floor(rnd() * lines.length);
        lines.splice(k, 0, lines[k] ?? '');
        s = lines.join('\n');
        break;
      }
      case 5: // truncate
        s = s.slice(0, pos);
        break;
      case 6: {
        // swap two lines
        const lines = s.split('\n');
        const a = Math.floor(rnd() * lines.length);
        const b = Math.floor(rnd() * lines.length);
        [lines[a], lines[b]] = [lines[b], lines[a]];
        s = lines.join('\n');
        break;
      }
      case 7: // deep nesting
        s = s.slice(0, pos) + '['.repeat(Math.floor(rnd() * 2000)) + s.slice(pos);
        break;
      default: // wrong-typed values
        s = s.replace(/: .*$/m, rnd() < 0.5 ? ': {a: [1, {b: null}]}' : ': 1e309');
    }
  }
  return s;
}
