/**
 * The CLI's stance on untrusted folders, like VS Code's Restricted Mode: commands that read a
 * project's records and send them somewhere (`run`, `batch export`) need the user's trust in the
 * project folder. `check`, `count`, `pack` and `runs` do not. Trust is asked on an interactive
 * terminal and remembered in the user's home (run/trust.ts), or given for one command by `--trust`.
 */
import type { TrustedFolders } from '../run/trust';
import type { CliIo } from './io';

export async function ensureTrusted(
  folders: readonly string[],
  o: { command: string; flag: boolean; io: CliIo; store: TrustedFolders },
): Promise<boolean> {
  for (const folder of [...new Set(folders)].sort()) {
    if (o.flag || (await o.store.isTrusted(folder))) continue;
    const why =
      `${folder} is not a trusted folder. \`medalign ${o.command}\` reads its instructions, config and ` +
      `records and sends them to the endpoints its config names.`;
    if (o.io.ask) {
      o.io.err(`medalign: ${why}\n`);
      const answer = (await o.io.ask(`Trust ${folder}? [y/N] `))?.trim().toLowerCase();
      if (answer === 'y' || answer === 'yes') {
        try {
          await o.store.add(folder);
        } catch (err) {
          o.io.err(`medalign ${o.command}: ${(err as Error).message}\n`);
          return false;
        }
        o.io.err(`medalign: trusted ${folder} (saved in ${o.store.file}).\n`);
        continue;
      }
      o.io.err(`medalign ${o.command}: not trusted; nothing was run.\n`);
      return false;
    }
    o.io.err(
      `medalign ${o.command}: ${why}\n` +
        `  To trust it: run the command on an interactive terminal and answer y (remembered in ${o.store.file}),\n` +
        `  or add --trust (this command only).\n`,
    );
    return false;
  }
  return true;
}
