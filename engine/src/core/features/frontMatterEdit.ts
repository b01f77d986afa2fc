/**
 * The edit that writes `key: value` into an instruction's front matter: the value replaced where
 * the key is, or the key added before the closing fence. The pickers' "Write to the front matter"
 * uses it through the language server (`medalign/frontMatterEdit`).
 */
import { isMap, isScalar } from 'yaml';
import type { InstructionFile } from '../format/parse';

export interface TextReplace {
  start: number;
  end: number;
  newText: string;
}

/** YAML text for a value: plain when it stays a string (or a number, for contexts), else quoted. */
export function yamlScalar(key: string, value: string): string {
  if (key === 'context' && /^[1-9][0-9]*[kK]?$/.test(value)) return value;
  const plain =
    /^[A-Za-z_][A-Za-z0-9._/-]*$/.test(value) && !/^(true|false|yes|no|on|off|null|y|n)$/i.test(value);
  return plain ? value : JSON.stringify(value);
}

export function frontMatterEdit(
  text: string,
  file: InstructionFile,
  key: string,
  value: string,
): TextReplace | undefined {
  const fm = file.frontMatter;
  if (!fm || !fm.close) return undefined;
  const scalar = yamlScalar(key, value);
  const contents = fm.doc.contents;
  if (isMap(contents)) {
    for (const pair of contents.items) {
      if (!isScalar(pair.key) || pair.key.value !== key) continue;
      const range = (pair.value as { range?: [number, number, number] } | null)?.range;
      if (range)
        return { start: fm.content.start + range[0], end: fm.content.start + range[1], newText: scalar };
      // `key:` with no value: rewrite the key's line.
      const kr = pair.key.range;
      if (kr) {
        const at = fm.content.start + kr[0];
        const lineStart = text.lastIndexOf('\n', at - 1) + 1;
        let lineEnd = text.indexOf('\n', at);
        if (lineEnd < 0) lineEnd = text.length;
        if (text[lineEnd - 1] === '\r') lineEnd--;
        return { start: lineStart, end: lineEnd, newText: `${key}: ${scalar}` };
      }
    }
  }
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  return { start: fm.close.start, end: fm.close.start, newText: `${key}: ${scalar}${eol}` };
}
