/**
 * The transport for endpoints at the name `localhost`. The PHI guard treats `localhost` as loopback
 * (core/run/guard.ts), so it must also *connect* to loopback: global `fetch` would ask the system
 * resolver (hosts file, DNS), which could answer anything. This fetch goes over node:http(s) with a
 * `lookup` that answers `localhost` itself with 127.0.0.1 and ::1 (tried in that order) and refuses
 * every other name; DNS is never asked. The Host header (and TLS server name) stay `localhost`.
 *
 * Enough of `fetch` for the model client: a string or URL input, a string or byte body, headers, an
 * `AbortSignal`; the response body streams. Redirects are never followed (node:http does not).
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { LookupFunction } from 'node:net';
import { Readable } from 'node:stream';

/** Where `localhost` connects: loopback only, IPv4 first. */
export const LOCALHOST_ADDRESSES: readonly { address: string; family: 4 | 6 }[] = [
  { address: '127.0.0.1', family: 4 },
  { address: '::1', family: 6 },
];

/** A `lookup` for net/http that knows only `localhost` and never asks a resolver. */
export const localhostLookup: LookupFunction = (hostname, options, callback) => {
  if (hostname.toLowerCase() !== 'localhost') {
    const err: NodeJS.ErrnoException = new Error(
      `blocked: ${hostname} is not localhost; it is not looked up`,
    );
    err.code = 'ENOTFOUND';
    process.nextTick(() => callback(err, '', 0));
    return;
  }
  const f = options.family;
  const family = f === 4 || f === 'IPv4' ? 4 : f === 6 || f === 'IPv6' ? 6 : 0;
  const list = LOCALHOST_ADDRESSES.filter((a) => family === 0 || a.family === family);
  process.nextTick(() => {
    if (options.all)
      callback(
        null,
        list.map((a) => ({ ...a })),
      );
    else callback(null, list[0].address, list[0].family);
  });
};

function bodyBytes(body: RequestInit['body']): string | Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  throw new Error('unsupported request body for a localhost endpoint');
}

const NULL_BODY = new Set([204, 205, 304]);

/** Own connection pools: a kept-alive socket another caller opened to `localhost` (through DNS, on
 * the shared global agent) is never reused for a record. */
const agents = {
  http: new http.Agent({ keepAlive: true }),
  https: new https.Agent({ keepAlive: true }),
};

/** `fetch` to `http(s)://localhost[:port]/…`, connecting to loopback without DNS. */
export function localhostFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    let url: URL;
    let data: string | Buffer | undefined;
    try {
      if (typeof input !== 'string' && !(input instanceof URL)) {
        throw new Error('unsupported request for a localhost endpoint (a Request object)');
      }
      url = new URL(input);
      if (url.hostname !== 'localhost' || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
        throw new Error(`blocked: the localhost transport only connects to localhost, not ${url.origin}`);
      }
      data = bodyBytes(init.body);
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    const signal = init.signal ?? undefined;
    if (signal?.aborted) {
      reject(signal.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError'));
      return;
    }
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((v, k) => {
      headers[k] = v;
    });
    // Undecoded compressed bodies would not parse: ask for none.
    headers['accept-encoding'] ??= 'identity';
    if (data !== undefined) headers['content-length'] = String(Buffer.byteLength(data));
    const method = (init.method ?? 'GET').toUpperCase();
    const options: https.RequestOptions = {
      protocol: url.protocol,
      hostname: 'localhost',
      path: `${url.pathname}${url.search}`,
      method,
      headers,
      lookup: localhostLookup,
      agent: url.protocol === 'https:' ? agents.https : agents.http,
      ...(url.port !== '' ? { port: Number(url.port) } : {}),
      ...(signal !== undefined ? { signal } : {}),
    };
    const onResponse = (res: http.IncomingMessage) => {
      const status = res.statusCode ?? 0;
      const h = new Headers();
      for (let i = 0; i + 1 < res.rawHeaders.length; i += 2)
        h.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
      const noBody = NULL_BODY.has(status) || method === 'HEAD';
      if (noBody) res.resume();
      try {
        const body = noBody ? null : (Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>);
        resolve(new Response(body, { status, statusText: res.statusMessage ?? '', headers: h }));
      } catch (err) {
        res.destroy();
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    };
    const req =
      url.protocol === 'https:' ? https.request(options, onResponse) : http.request(options, onResponse);
    req.on('error', reject);
    req.end(data);
  });
}
