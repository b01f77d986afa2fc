/**
 * Entry of dist/cliCount.js: `medalign count <record> [--encoding …]`, run by the `medalign` entry
 * (bin.ts) without loading the whole CLI (whose bundle alone takes about 90 ms to load).
 */
import { countTarget, parseCountArgs } from './countArgs';
import { runEncodingCount } from './count';
import { finish, processIo } from './process';

finish(
  (async () => {
    const p = parseCountArgs(process.argv.slice(3));
    const target = countTarget(p);
    if (target.kind !== 'encoding') throw new Error('an endpoint count runs in the whole CLI');
    return runEncodingCount(target, p, processIo());
  })(),
);
