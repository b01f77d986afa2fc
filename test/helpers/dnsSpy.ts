/**
 * Preloaded into a CLI process (`node --require out/test/helpers/dnsSpy.js dist/cli.js ...`) by tests
 * that must see which names the process asks DNS for. Replaces `dns.lookup` and
 * `dns.promises.lookup`: every name asked is appended to the file in `DNS_SPY_LOG` (one a line), and
 * the answer is always 127.0.0.1, so no real resolver is ever asked (hermetic). It stands in for an
 * attacker's resolver: a name the guard wrongly trusts then reaches the local fake server, where the
 * test can count the requests.
 */
import dns from 'node:dns';
import { appendFileSync } from 'node:fs';

const log = process.env['DNS_SPY_LOG'];

function record(hostname: string): void {
  if (log) appendFileSync(log, `${hostname}\n`);
}

type Callback = (err: NodeJS.ErrnoException | null, address: unknown, family?: number) => void;

function fakeLookup(hostname: string, options: unknown, callback?: Callback): void {
  const cb = (typeof options === 'function' ? options : callback) as Callback;
  const all = typeof options === 'object' && options !== null && (options as { all?: boolean }).all;
  record(hostname);
  process.nextTick(() => {
    if (all) cb(null, [{ address: '127.0.0.1', family: 4 }]);
    else cb(null, '127.0.0.1', 4);
  });
}

(dns as { lookup: unknown }).lookup = fakeLookup;
(dns.promises as { lookup: unknown }).lookup = (hostname: string, options?: { all?: boolean }) => {
  record(hostname);
  return Promise.resolve(
    options?.all ? [{ address: '127.0.0.1', family: 4 }] : { address: '127.0.0.1', family: 4 },
  );
};
