/**
 * The peers of the CLI benchmark, run as processes of their own (as `medalign` is):
 *
 * - `check <dir>`: the minimal way to validate instruction files: walk the folder, read each
 *   `.medalign`, parse its front matter with `yaml`, validate it with `ajv` against the same
 *   instruction.schema.json, check that its record exists and is well-formed XML (each record
 *   once, with fast-xml-parser's validator). Prints the number of files with errors.
 * - `count <file>`: a bare gpt-tokenizer script: read the record, count its cl100k_base tokens.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type * as YamlModule from 'yaml';
import type AjvClass from 'ajv';
import type * as XmlModule from 'fast-xml-parser';
import type * as Cl100kModule from 'gpt-tokenizer/encoding/cl100k_base';

// Each peer loads only the libraries it uses (as a minimal script would).
/* eslint-disable @typescript-eslint/no-require-imports */

function check(dir: string): void {
  const YAML = require('yaml') as typeof YamlModule;
  const Ajv = (require('ajv') as { default: typeof AjvClass }).default;
  const { XMLValidator } = require('fast-xml-parser') as typeof XmlModule;
  const schema = JSON.parse(
    readFileSync(path.join(__dirname, '../../../engine/src/core/schema/instruction.schema.json'), 'utf8'),
  ) as object;
  const validate = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true }).compile(schema);
  const config = JSON.parse(readFileSync(path.join(dir, 'medalign.config.json'), 'utf8')) as {
    recordsFolder?: string;
  };
  const records = path.join(dir, config.recordsFolder ?? 'records');
  const recordOk = new Map<string, boolean>();
  let bad = 0;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.medalign')) {
        const text = readFileSync(p, 'utf8');
        const m = /^---\r?\n([\s\S]*?)\r?\n---/.exec(text);
        const data = m ? (YAML.parse(m[1]) as Record<string, unknown>) : undefined;
        let ok = !!data && validate(data);
        const patient = data?.['patient'];
        if (typeof patient === 'string' || typeof patient === 'number') {
          const rec = path.join(records, `${patient}.xml`);
          let r = recordOk.get(rec);
          if (r === undefined) {
            try {
              statSync(rec);
              r = XMLValidator.validate(readFileSync(rec, 'utf8')) === true;
            } catch {
              r = false;
            }
            recordOk.set(rec, r);
          }
          ok &&= r;
        }
        if (!ok) bad++;
      }
    }
  };
  walk(dir);
  process.stdout.write(`${bad} file(s) with errors\n`);
}

function count(file: string): void {
  const { countTokens } = require('gpt-tokenizer/encoding/cl100k_base') as typeof Cl100kModule;
  process.stdout.write(`${countTokens(readFileSync(file, 'utf8'))}\n`);
}

if (require.main === module) {
  const [what, arg] = process.argv.slice(2);
  if (what === 'check' && arg && statSync(arg).isDirectory()) check(arg);
  else if (what === 'count' && arg) count(arg);
  else {
    process.stderr.write('usage: cliPeers check <dir> | count <file>\n');
    process.exitCode = 2;
  }
}
