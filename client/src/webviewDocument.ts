/**
 * What every MedAlign webview shares: a fresh nonce, the page shell (`webviewHtml`, in the engine's
 * core so the CLI's static pages use the same one), and requests answered by the page.
 */
import { randomBytes } from 'node:crypto';

/** A fresh nonce for the CSP (128 random bits, hex). */
export function makeNonce(): string {
  return randomBytes(16).toString('hex');
}

export { webviewHtml } from '../../engine/src';
export type { WebviewDocument } from '../../engine/src';

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
