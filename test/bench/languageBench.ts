/**
 * Language benchmarks (issue 2): diagnostics after an edit, indexing a 1,000-file workspace, and the
 * server start that extension activation waits for.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { getLanguageService } from '../../engine/src/core/languageService';
import { Workspace } from '../../engine/src/core/workspace/workspace';
import { nodeFileSystem } from '../../engine/src/host/nodeFileSystem';
import { CONFIG, TEMPLATE, publicSampleXml, repoRoot, validInstruction } from '../helpers/fixtures';
import { startServer } from '../helpers/lspClient';
import { fmt, median, p95, row, timeMs } from './stats';
import { generateRecord } from '../fixtures/recordGenerator';
import { DocumentSymbolRequest, HoverRequest } from 'vscode-languageserver-protocol/node';
import type { MarkupContent } from 'vscode-languageserver-protocol/node';
import { ServerStatsRequest } from '../../server/src/protocol';

const CATEGORIES = ['retrieve medication information', 'retrieve vitals', 'provide risk assessment', 'other'];

function makeWorkspaceOnDisk(files: number): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'medalign-bench-'));
  mkdirSync(path.join(dir, 'records'));
  mkdirSync(path.join(dir, 'templates'));
  writeFileSync(path.join(dir, 'medalign.config.json'), CONFIG);
  writeFileSync(path.join(dir, 'records/1234555.xml'), publicSampleXml);
  writeFileSync(path.join(dir, 'templates/medalign.prompt'), TEMPLATE);
  for (let i = 0; i < files; i++) {
    const sub = path.join(dir, 'instructions', `batch${Math.floor(i / 100)}`);
    mkdirSync(sub, { recursive: true });
    writeFileSync(
      path.join(sub, `i${i}.medalign`),
      validInstruction(1_000_000_000 + i)
        .replace('retrieve medication information', CATEGORIES[i % CATEGORIES.length])
        .replace('../templates/medalign.prompt', '../../templates/medalign.prompt'),
    );
  }
  return dir;
}

export async function runLanguageBench(): Promise<void> {
  console.log('\nLanguage (issue 2)');
  const dir = makeWorkspaceOnDisk(1000);
  try {
    // 1. Diagnostics after an edit of a typical file, in the core (warm workspace and record cache).
    const root = pathToFileURL(dir).toString();
    const ws = new Workspace(nodeFileSystem, root);
    await ws.loadConfig();
    await ws.scan();
    const service = getLanguageService(nodeFileSystem);
    const uri = pathToFileURL(path.join(dir, 'instructions/batch0/i0.medalign')).toString();
    const base = readFileSync(new URL(uri), 'utf8');
    const core: number[] = [];
    for (let i = 0; i < 300; i++) {
      const text = base.replace('Which antihypertensives', `Which antihypertensives (${i})`);
      const doc = TextDocument.create(uri, 'medalign', i + 1, text);
      ws.updateInstruction(uri, text);
      const [ms] = await timeMs(() => service.doValidation(doc, ws));
      if (i >= 20) core.push(ms);
    }
    row('diagnostics after an edit, core (median of 280)', fmt(median(core)), '< 10 ms');
    row('diagnostics after an edit, core (p95)', fmt(p95(core)));

    // 2. Indexing a workspace of 1,000 instruction files (duplicate-id check ready), cold.
    const index: number[] = [];
    for (let i = 0; i < 5; i++) {
      const w = new Workspace(nodeFileSystem, root);
      const [ms, r] = await timeMs(async () => {
        await w.loadConfig();
        return w.scan();
      });
      if (r.instructions !== 1000) throw new Error(`indexed ${r.instructions}, expected 1000`);
      index.push(ms);
    }
    row('index 1,000 instruction files, core (median of 5)', fmt(median(index)), '< 2,000 ms');

    // 2b. Workspace diagnostics: what the server does in the background for files that are not
    //     open (issue 9): every instruction read from disk and validated, one after the other.
    const all: number[] = [];
    for (let run = 0; run < 3; run++) {
      const files = ws.filesWithExtension('.medalign');
      const [ms] = await timeMs(async () => {
        for (const [k, f] of files.entries()) {
          const text = await nodeFileSystem.readFile(f);
          if (text !== undefined)
            await service.doValidation(
              TextDocument.create(f, 'medalign', -(run * 10_000 + k + 1), text),
              ws,
              true,
            );
        }
      });
      all.push(ms);
    }
    row('check 1,000 closed instruction files from disk, core (median of 3)', fmt(median(all)), '< 2,000 ms');

    // 3. Through the real server over JSON-RPC: start-up (what activation waits for), indexing, and
    //    an edit until its diagnostics are published.
    const starts: number[] = [];
    const ready: number[] = [];
    const roundTrips: number[] = [];
    for (let run = 0; run < 3; run++) {
      const t0 = process.hrtime.bigint();
      const session = await startServer(root);
      starts.push(Number(process.hrtime.bigint() - t0) / 1e6);
      const openUri = pathToFileURL(path.join(dir, `instructions/batch1/i${100 + run}.medalign`)).toString();
      const text = readFileSync(new URL(openUri), 'utf8');
      await session.open(openUri, text);
      await session.diagnostics(openUri, undefined, 30_000);
      ready.push(Number(process.hrtime.bigint() - t0) / 1e6);
      for (let v = 2; v < 60; v++) {
        const t = process.hrtime.bigint();
        await session.change(openUri, v, text.replace('Which', `Which (${v})`));
        await session.diagnostics(openUri, (p) => p.version === v);
        if (v > 10) roundTrips.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
      await session.close();
    }
    row('server spawn + initialize (median of 3)', fmt(median(starts)));
    row('server ready: 1,000 files indexed, first diagnostics (median)', fmt(median(ready)), '< 2,000 ms');
    row('edit -> diagnostics published over JSON-RPC (median)', fmt(median(roundTrips)), '< 10 ms');

    await eventLoopWhileCounting(dir);

    const act = path.join(repoRoot, 'test-artifacts', 'e2e', 'activation.json');
    if (existsSync(act)) {
      const a = JSON.parse(readFileSync(act, 'utf8')) as { activationMs?: number };
      row('extension activation in real VS Code (last e2e run)', fmt(a.activationMs ?? NaN), '< 200 ms');
    } else {
      row('extension activation in real VS Code', 'run npm run test:e2e first', '< 200 ms');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The server's event loop while a ~2M-character record is counted for the first time: cheap
 * requests (document symbols) are sent every 5 ms until the hover has the count, and their
 * response times are measured. With the worker the loop stays free; counting on the main thread
 * (MEDALIGN_RECORD_ENGINE=local) is shown for comparison.
 */
async function eventLoopWhileCounting(dir: string): Promise<void> {
  writeFileSync(path.join(dir, 'records/big.xml'), generateRecord({ seed: 11, targetChars: 2_000_000 }));
  const results: Record<
    string,
    { max: number; median: number; countMs: number; loopMax: number; idleMax: number }
  > = {};
  for (const mode of ['worker', 'local'] as const) {
    const env = { ...process.env, MEDALIGN_RECORD_ENGINE: mode === 'local' ? 'local' : 'worker' };
    const session = await startServer(pathToFileURL(dir).toString(), env);
    const uri = pathToFileURL(path.join(dir, `instructions/big-${mode}.medalign`)).toString();
    await session.open(
      uri,
      validInstruction(5_000_000 + (mode === 'local' ? 1 : 0)).replace(
        'patient: 1234555',
        'record: ../records/big.xml',
      ),
    );
    await session.diagnostics(uri, undefined, 60_000);
    // Noise floor: the same request loop for 400 ms with nothing being counted.
    await session.connection.sendRequest(ServerStatsRequest.type, { reset: true });
    for (const end = Date.now() + 400; Date.now() < end;) {
      await session.connection.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri } });
      await new Promise((r) => setTimeout(r, 5));
    }
    const idle = await session.connection.sendRequest(ServerStatsRequest.type, { reset: true });
    const latencies: number[] = [];
    let done = false;
    const t0 = process.hrtime.bigint();
    const hover = (async () => {
      for (;;) {
        const h = await session.connection.sendRequest(HoverRequest.type, {
          textDocument: { uri },
          position: { line: 2, character: 12 },
        });
        if (h && /tokens\*\*/.test((h.contents as MarkupContent).value)) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      done = true;
      return Number(process.hrtime.bigint() - t0) / 1e6;
    })();
    while (!done) {
      const t = process.hrtime.bigint();
      await session.connection.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri } });
      latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
      await new Promise((r) => setTimeout(r, 5));
    }
    const countMs = await hover;
    const stats = await session.connection.sendRequest(ServerStatsRequest.type, {});
    results[mode] = {
      max: Math.max(...latencies),
      median: median(latencies),
      countMs,
      loopMax: stats.eventLoopDelayMaxMs,
      idleMax: idle.eventLoopDelayMaxMs,
    };
    await session.close();
  }
  const w = results['worker'];
  const l = results['local'];
  row('2M-char record: first count until the hover has it (worker)', fmt(w.countMs));
  row('  server event loop blocked, worst (worker, in-process monitor)', fmt(w.loopMax), '< 20 ms');
  row('  same loop with nothing counted (noise floor), worst', fmt(w.idleMax));
  row(
    '  ratio loop blocked while counting / noise floor',
    `${(w.loopMax / Math.max(w.idleMax, 0.001)).toFixed(2)}x`,
  );
  row('  request latency while counting, median / worst (worker)', `${fmt(w.median)} / ${fmt(w.max)}`);
  row('  same counted on the main thread: count, worst request latency', `${fmt(l.countMs)}, ${fmt(l.max)}`);
  row(
    '  ratio worst request latency, main thread / worker',
    `${(l.max / Math.max(w.max, 0.001)).toFixed(1)}x`,
  );
}
