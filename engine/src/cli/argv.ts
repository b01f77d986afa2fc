/**
 * The `medalign` commands' option parser. It imports nothing, so `main.ts` can read a command's
 * options before the command's module graph is loaded (`medalign count`'s early worker).
 */

export class UsageError extends Error {}

export interface ParsedArgs {
  positional: string[];
  values: Map<string, string[]>;
  flags: Set<string>;
}

/** `--name value`, `--name=value` (repeatable; comma lists split later), boolean `--flag`s. */
export function parseArgs(
  args: readonly string[],
  valued: readonly string[],
  booleans: readonly string[],
): ParsedArgs {
  const r: ParsedArgs = { positional: [], values: new Map(), flags: new Set() };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('--')) {
      r.positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (valued.includes(name)) {
      const v = eq > 0 ? a.slice(eq + 1) : args[++i];
      if (v === undefined || v === '') throw new UsageError(`--${name} needs a value`);
      r.values.set(name, [...(r.values.get(name) ?? []), v]);
    } else if (booleans.includes(name) && eq < 0) {
      r.flags.add(name);
    } else {
      throw new UsageError(`unknown option --${name}`);
    }
  }
  return r;
}
