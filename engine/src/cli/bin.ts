/**
 * The `medalign` executable (dist/cli.js): a count in an encoding runs from its own small bundle
 * (dist/cliCount.js, countMain.ts), so it starts counting as soon as a bare script would; every
 * other command runs from the whole CLI (dist/cliMain.js, main.ts).
 */
import { countTarget, parseCountArgs } from './countArgs';

function plainCount(argv: readonly string[]): boolean {
  if (argv[0] !== 'count') return false;
  try {
    return countTarget(parseCountArgs(argv.slice(1))).kind === 'encoding';
  } catch {
    return false; // the whole CLI reports a bad command line
  }
}

/* eslint-disable @typescript-eslint/no-require-imports */
if (plainCount(process.argv.slice(2))) require('./cliCount.js');
else require('./cliMain.js');
/* eslint-enable @typescript-eslint/no-require-imports */
