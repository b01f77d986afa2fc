// Part of `npm run compile`: deletes compiled test files under out/test/ whose source is gone (moved or
// renamed), which `tsc -b` leaves behind, so `node --test out/test/<tier>/` never runs stale output.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';

const OUTPUTS = ['.js', '.js.map', '.d.ts', '.d.ts.map'];

function prune(dir) {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      prune(file);
      if (readdirSync(file).length === 0) rmSync(file, { recursive: true });
      continue;
    }
    const ext = OUTPUTS.find((e) => entry.name.endsWith(e));
    if (!ext) continue;
    const source = path.relative('out', file).slice(0, -ext.length) + '.ts';
    if (!existsSync(source)) rmSync(file);
  }
}

prune(path.join('out', 'test'));
