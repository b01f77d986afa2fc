/**
 * The page shell every MedAlign webview shares (response panel, prompt preview, gold diff): a fresh
 * nonce, one strict Content-Security-Policy (nothing loads from anywhere; the page's own style and
 * script only by nonce; no script at all when the page has none), and the head.
 */
import { randomBytes } from 'node:crypto';

/** A fresh nonce for the CSP (128 random bits, hex). */
export function makeNonce(): string {
  return randomBytes(16).toString('hex');
}

export interface WebviewDocument {
  nonce: string;
  /** Plain text (not escaped here): the callers pass fixed titles. */
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
<title>${d.title}</title>
${d.resources ? `${d.resources.head}\n` : ''}<style nonce="${d.nonce}">${d.style}</style>
</head>
<body>
${d.body}
${script}</body>
</html>`;
}

/**
 * Requests to a webview answered by a message carrying the same `requestId` (the DOM snapshots the
 * tests read): `ask` posts, `answer` settles; no answer within `timeoutMs` gives `undefined`.
 */
export class WebviewRequests<T> {
  private next = 1;
  private readonly waiting = new Map<number, (value: T) => void>();

  ask(post: (requestId: number) => void, timeoutMs: number): Promise<T | undefined> {
    const requestId = this.next++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(requestId);
        resolve(undefined);
      }, timeoutMs);
      this.waiting.set(requestId, (value) => {
        clearTimeout(timer);
        resolve(value);
      });
      post(requestId);
    });
  }

  answer(requestId: number, value: T): void {
    this.waiting.get(requestId)?.(value);
    this.waiting.delete(requestId);
  }
}
