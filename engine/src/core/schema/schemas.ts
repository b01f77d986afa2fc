/**
 * The JSON Schemas (single source of key names, types, enums and descriptions) and their compiled
 * validators. Validation, completion and hover all read from here.
 */
import Ajv from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import instructionSchemaJson from './instruction.schema.json';
import configSchemaJson from './config.schema.json';
import experimentSchemaJson from './experiment.schema.json';
import taxonomyJson from '../data/taxonomy.json';

export interface PropertySchema {
  description?: string;
  type?: string | string[];
  enum?: (string | number)[];
  enumDescriptions?: string[];
  anyOf?: PropertySchema[];
  items?: PropertySchema;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  minLength?: number;
}

export interface ObjectSchema {
  description?: string;
  properties: Record<string, PropertySchema>;
  required?: string[];
}

export const instructionSchema = instructionSchemaJson as unknown as ObjectSchema;
export const configSchema = configSchemaJson as unknown as ObjectSchema;
export const experimentSchema = experimentSchemaJson as unknown as ObjectSchema;

export interface TaxonomyEntry {
  category: string;
  subcategory: string;
  description: string;
}
export const taxonomy: readonly TaxonomyEntry[] = taxonomyJson;

/** Key names in schema order. */
export const instructionKeys: readonly string[] = Object.keys(instructionSchema.properties);

/** Context sizes offered by the schema (`2k` ... `128k`). */
export const contextSizes: readonly string[] = (instructionSchema.properties['context']?.anyOf ?? []).flatMap(
  (s) => (s.enum ?? []).map(String),
);

export const strategies: readonly string[] = (instructionSchema.properties['strategy']?.enum ?? []).map(
  String,
);

let ajv: Ajv | undefined;
let instructionValidator: ValidateFunction | undefined;
let configValidator: ValidateFunction | undefined;
let experimentValidator: ValidateFunction | undefined;

function getAjv(): Ajv {
  // strict: false lets the schemas carry editor keywords such as `enumDescriptions`.
  ajv ??= new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
  return ajv;
}

export function validateInstructionData(data: unknown): ErrorObject[] {
  instructionValidator ??= getAjv().compile(instructionSchemaJson);
  return instructionValidator(data) ? [] : [...(instructionValidator.errors ?? [])];
}

export function validateConfigData(data: unknown): ErrorObject[] {
  configValidator ??= getAjv().compile(configSchemaJson);
  return configValidator(data) ? [] : [...(configValidator.errors ?? [])];
}

/** Where the experiment schema's `$ref`s point: the instruction schema, relative to its own file. */
const INSTRUCTION_SCHEMA_REF = 'instruction.schema.json';

/**
 * Validates an experiment file's data. Its `context` and `strategy` items are `$ref`s into the
 * instruction schema (`instruction.schema.json#/properties/…`), so a strategy added there is accepted
 * here too. The experiment schema has no `$id`: editors resolve the reference against the schema's
 * own file (VS Code would otherwise try to fetch it from the `$id`'s host); here the instruction
 * schema is registered under that relative name.
 */
export function validateExperimentData(data: unknown): ErrorObject[] {
  if (experimentValidator === undefined) {
    const a = getAjv();
    if (a.getSchema(INSTRUCTION_SCHEMA_REF) === undefined) {
      a.addSchema({ ...instructionSchemaJson, $id: INSTRUCTION_SCHEMA_REF });
    }
    experimentValidator = a.compile(experimentSchemaJson);
  }
  return experimentValidator(data) ? [] : [...(experimentValidator.errors ?? [])];
}

/** The integer bounds of a context written as a token count, from the schema. */
export const contextBounds: { min: number; max: number } = (() => {
  const int = (instructionSchema.properties['context']?.anyOf ?? []).find((s) => s.type === 'integer');
  return { min: int?.minimum ?? 1, max: int?.maximum ?? Number.MAX_SAFE_INTEGER };
})();

/** What the schema accepts for `context`, in words (every message about a bad context says this). */
export function contextSizeHint(): string {
  return `${contextSizes.join(', ')}, or a token count from ${contextBounds.min} to ${contextBounds.max}`;
}

/**
 * A context value as the schema accepts it: one of its labels (`2k` … `128k`) or a whole number of
 * tokens within its bounds (a number, or digits in a string, as a CLI flag or picker gives it).
 * Everything that takes a context (front matter, config defaults, pickers, CLI flags) checks it
 * here, so an invalid value is refused the same way everywhere.
 */
export function checkContext(
  value: unknown,
): { ok: true; tokens: number; label: string } | { ok: false; message: string } {
  const text =
    typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : undefined;
  if (text !== undefined && contextSizes.includes(text)) {
    return { ok: true, tokens: parseContextSize(text)!, label: text };
  }
  if (text !== undefined && /^[0-9]+$/.test(text)) {
    const n = Number(text);
    if (n >= contextBounds.min && n <= contextBounds.max) return { ok: true, tokens: n, label: text };
  }
  const shown = text !== undefined ? `'${text}'` : (JSON.stringify(value) ?? String(value));
  return { ok: false, message: `${shown} is not a context size: use ${contextSizeHint()}.` };
}

/** A strategy the schema knows, or a message that lists them. */
export function checkStrategy(
  value: unknown,
): { ok: true; strategy: string } | { ok: false; message: string } {
  if (typeof value === 'string' && strategies.includes(value)) return { ok: true, strategy: value };
  return {
    ok: false,
    message: `${typeof value === 'string' ? `'${value}'` : String(value)} is not a strategy: use ${strategies.join(', ')}.`,
  };
}

/** Parses a `2k`/`32K`/`8000` context value into tokens; `undefined` when it is not one. */
export function parseContextSize(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value > 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = /^([1-9][0-9]*)([kK]?)$/.exec(value.trim());
  if (!m) return undefined;
  return Number(m[1]) * (m[2] ? 1024 : 1);
}
