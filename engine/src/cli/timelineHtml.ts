/**
 * `medalign timeline … --html <file>`: the Record Timeline as a self-contained page (the view's own
 * renderer, dist/timelineView.js, and the model inlined; no remote resource, a strict CSP). The page
 * holds patient data: it is written only where the user asks, and the CLI says so.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { TimelineModel } from '../core/timeline/model';
import { staticTimelinePage } from '../host/timelinePage';
import { writeFileAtomic } from '../run/store';
import type { CliIo } from './io';
import { display } from './io';

/** The renderer bundle: beside dist/cli.js, or the repository's dist/ when run from out/ (tests). */
function rendererBundle(): string {
  const candidates = [
    path.join(__dirname, 'timelineView.js'),
    path.resolve(__dirname, '..', '..', '..', '..', 'dist', 'timelineView.js'),
  ];
  const found = candidates.find((f) => existsSync(f));
  if (!found)
    throw new Error('the timeline renderer (dist/timelineView.js) is missing: build with `node esbuild.mjs`');
  return readFileSync(found, 'utf8');
}

export async function writeTimelineHtml(model: TimelineModel, target: string, io: CliIo): Promise<void> {
  if (target === '' || target.endsWith(path.sep) || target.endsWith('/'))
    throw new Error(`--html needs a file name, not '${target}'`);
  const file = path.resolve(io.cwd, target);
  if (!existsSync(path.dirname(file)))
    throw new Error(`--html: the folder ${display(io.cwd, path.dirname(file))} does not exist`);
  await writeFileAtomic(file, staticTimelinePage(model, rendererBundle()));
  io.err(
    `medalign timeline: wrote ${display(io.cwd, file)}. It contains patient data from ${model.record}: ` +
      'keep it where the record itself may be kept, and do not send or publish it.\n',
  );
}
