/**
 * The page shell of every MedAlign HTML page that runs a script or shows text from a record or a
 * model: the webviews (response panel, prompt preview, gold diff, timeline, review, report view)
 * and the CLI's self-contained timeline page. One strict Content-Security-Policy: nothing loads from
 * anywhere; the page's own style and script only by nonce; no script at all when the page has none.
 * Pure string code (the nonce comes from the caller).
 */

function escapeHtmlText(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface WebviewDocument {
  nonce: string;
  /** Plain text (escaped here). */
  title: string;
  style: string;
  /** The body's markup: every string from a record, a prompt or a model already escaped. */
  body: string;
  /** The page's script, run with the nonce; without one the CSP allows no script (`script-src 'none'`). */
  script?: string;
  /**
   * Local files the page loads (the codicon font and its stylesheet): `cspSource` (`webview.cspSource`,
   * the extension's own files under its `localResourceRoots`) is allowed for styles and fonts only,
   * and `head` (the `<link>`s) goes into the head.
   */
  resources?: { cspSource: string; head: string };
  /** More of the head, before the style (fixed markup, e.g. `<meta name="robots" ...>`). */
  head?: string;
  /** Attributes of `<body>` (fixed markup, e.g. `data-mode="static"`). */
  bodyAttributes?: string;
}

export function webviewHtml(d: WebviewDocument): string {
  const scriptSrc = d.script === undefined ? "'none'" : `'nonce-${d.nonce}'`;
  const local = d.resources ? ` ${d.resources.cspSource}` : '';
  const fonts = d.resources ? d.resources.cspSource : "'none'";
  const csp = `default-src 'none'; style-src 'nonce-${d.nonce}'${local}; script-src ${scriptSrc}; img-src 'none'; font-src ${fonts}; connect-src 'none'; frame-src 'none'; form-action 'none'; base-uri 'none'`;
  const script = d.script === undefined ? '' : `<script nonce="${d.nonce}">${d.script}</script>\n`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${d.head ? `${d.head}\n` : ''}<title>${escapeHtmlText(d.title)}</title>
${d.resources ? `${d.resources.head}\n` : ''}<style nonce="${d.nonce}">${d.style}</style>
</head>
<body${d.bodyAttributes ? ` ${d.bodyAttributes}` : ''}>
${d.body}
${script}</body>
</html>`;
}
