// Bundles the three entry points. `vscode` stays external (the editor provides it).
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

/** @type {import('esbuild').BuildOptions} */
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  external: ['vscode'],
};

/**
 * gpt-tokenizer's BPE tables are 6 of the 7 MB of each node bundle: each encoding becomes a bundle of
 * its own (dist/encoding-<name>.js), required at run time on first use of that encoding, so a process
 * that never counts (`medalign check`) or counts one encoding never loads (parses) the other tables.
 */
const ENCODINGS = ['cl100k_base', 'o200k_base'];
const splitEncodings = {
  name: 'split-encodings',
  setup(build) {
    build.onResolve({ filter: /^gpt-tokenizer\/encoding\/(cl100k_base|o200k_base)$/ }, (args) => ({
      path: `./encoding-${args.path.split('/').pop()}.js`,
      external: true,
    }));
  },
};

const entries = [
  { entryPoints: ['client/src/extension.ts'], outfile: 'dist/client.js' },
  {
    entryPoints: ['server/src/node/main.ts'],
    outfile: 'dist/server.js',
    banner: { js: '#!/usr/bin/env node' },
  },
  { entryPoints: ['server/src/node/recordWorker.ts'], outfile: 'dist/recordWorker.js' },
  { entryPoints: ['engine/src/host/countWorker.ts'], outfile: 'dist/countWorker.js' },
  // The built-in metrics' worker threads (engine/src/run/metricsPool.ts), for the CLI, the server and the extension.
  { entryPoints: ['engine/src/run/metricsWorker.ts'], outfile: 'dist/metricsWorker.js' },
  // The `medalign` executable: a small entry that runs `count` in an encoding from its own bundle
  // (no whole-CLI load) and anything else from the whole CLI (engine/src/cli/bin.ts).
  {
    entryPoints: ['engine/src/cli/bin.ts'],
    outfile: 'dist/cli.js',
    banner: { js: '#!/usr/bin/env node' },
    external: ['vscode', './cliCount.js', './cliMain.js'],
  },
  { entryPoints: ['engine/src/cli/main.ts'], outfile: 'dist/cliMain.js' },
  { entryPoints: ['engine/src/cli/countMain.ts'], outfile: 'dist/cliCount.js' },
];

for (const e of entries) e.plugins = [splitEncodings];
for (const name of ENCODINGS) {
  entries.push({ entryPoints: [`gpt-tokenizer/encoding/${name}`], outfile: `dist/encoding-${name}.js` });
}

/**
 * Webview scripts: browser bundles (iife), inlined into their pages under the CSP nonce. The Record
 * Timeline's renderer also goes into the page `medalign timeline --html` writes.
 */
const webviews = [
  {
    entryPoints: ['client/webview/timeline.ts'],
    outfile: 'dist/timelineView.js',
    platform: 'browser',
    target: 'chrome120',
    format: 'iife',
    external: [],
    sourcemap: false,
    minify: true,
  },
];

// Codicons for the webviews' icons, served from dist/ (the views' only local resource root besides media/).
mkdirSync('dist/codicons', { recursive: true });
for (const f of ['codicon.css', 'codicon.ttf'])
  copyFileSync(`node_modules/@vscode/codicons/dist/${f}`, `dist/codicons/${f}`);

const contexts = await Promise.all([
  ...entries.map((e) => esbuild.context({ ...common, ...e })),
  ...webviews.map((e) => esbuild.context({ ...common, ...e })),
]);
if (watch) {
  await Promise.all(contexts.map((c) => c.watch()));
} else {
  await Promise.all(contexts.map((c) => c.rebuild()));
  await Promise.all(contexts.map((c) => c.dispose()));
}
