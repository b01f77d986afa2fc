/**
 * Markdown from file text. Hovers and completion documentation are Markdown, and the text they
 * quote (endpoint ids, model names, base URLs, record content, key names, paths) comes from files a
 * stranger may have written: unescaped, `[x](command:…)` would be a live link that runs a command,
 * and `<img src=…>` raw HTML. Every file-controlled string goes through one of these two.
 */

/**
 * Text that renders as itself, inline: the characters that can start inline Markdown (`\` `` ` ``
 * `*` `_` `~` `[` `]` `(` `)` `|`) get a backslash, `<`, `>` and `&` become entities (no raw HTML,
 * no autolinks, no entities from the text), line breaks become spaces (no new block: a heading, a
 * list, a link reference definition), and a leading block marker (`#`, `-`, `+`, `=`, `1.`) is
 * escaped. Letters, digits, `-`, `.`, `/` and `:` inside stay as written (`gpt-4o`, dates, URLs).
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/\r\n?|\n|\u2028|\u2029/g, ' ')
    .replace(/[\\`*_~[\]()|<>&]/g, (c) =>
      c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '&' ? '&amp;' : `\\${c}`,
    )
    .replace(/^(\s*)([#+=-]|\d+[.)])/, (_m, sp: string, mark: string) =>
      mark.length === 1 ? `${sp}\\${mark}` : `${sp}${mark.slice(0, -1)}\\${mark.slice(-1)}`,
    );
}

/**
 * An inline code span holding `text` verbatim: the fence is one backtick longer than the longest run
 * of backticks inside, and padded with a space when the text starts or ends with a backtick.
 */
export function codeSpan(text: string): string {
  const oneLine = text.replace(/\r\n?|\n|\u2028|\u2029/g, ' ');
  const longest = Math.max(0, ...(oneLine.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longest + 1);
  const pad = oneLine.startsWith('`') || oneLine.endsWith('`') || oneLine === '' ? ' ' : '';
  return `${fence}${pad}${oneLine}${pad}${fence}`;
}
