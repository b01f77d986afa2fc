/**
 * `medalign` command line: the same core as the editor.
 *   medalign check [paths...] [--json]   diagnostics for instruction files (exit 1 on any error)
 */
import { runCheck } from './check';
import { version } from '../../../package.json';

const USAGE = `medalign ${version}

Usage:
  medalign check [paths...] [--json]   Check .medalign files (folders are searched recursively).
                                       Prints file:line:col severity message [code];
                                       --json prints an array of LSP diagnostics with their file.
                                       Exit code 1 when any error is found.
  medalign --version | --help
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${version}\n`);
    return 0;
  }
  switch (command) {
    case 'check':
      return runCheck(rest, process.cwd(), (s) => process.stdout.write(s));
    default:
      process.stderr.write(`medalign: unknown command '${command}'.\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`medalign: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  },
);
