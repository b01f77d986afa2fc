/**
 * `medalign` command line: the same core as the editor. Each command lives in its own file and is
 * listed in COMMANDS; main only dispatches.
 */
import { runCheck } from './check';
import { version } from '../../../package.json';

export interface CliIo {
  cwd: string;
  out: (s: string) => void;
  err: (s: string) => void;
  env: NodeJS.ProcessEnv;
}

interface Command {
  usage: string;
  run: (args: string[], io: CliIo) => Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  check: {
    usage: `  medalign check [paths...] [--json]
      Check .medalign files (folders are searched recursively). Prints file:line:col severity
      message [code]; --json prints an array of LSP diagnostics with their file.
      Exit code 1 when any error is found.`,
    run: (args, io) => runCheck(args, io.cwd, io.out),
  },
};

function usage(): string {
  return `medalign ${version}\n\nUsage:\n${Object.values(COMMANDS)
    .map((c) => c.usage)
    .join('\n')}\n  medalign --version | --help\n`;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(usage());
    return command ? 0 : 2;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${version}\n`);
    return 0;
  }
  const c = COMMANDS[command];
  if (!c) {
    process.stderr.write(`medalign: unknown command '${command}'.\n\n${usage()}`);
    return 2;
  }
  return c.run(rest, {
    cwd: process.cwd(),
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
    env: process.env,
  });
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
