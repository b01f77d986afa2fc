/**
 * The built-in template: MedAlign's own prompt (`Instruction: Answer the following question based on
 * the EHR:\n\nEHR: {ehr}\n\nQuestion: {question}\n\nAnswer:`) with our placeholder names.
 */
import type { EhrRecord } from '../record/model';
import { isoDay } from '../record/dates';
import type { PromptTemplate, TemplateValues } from './template';
import { parseTemplate } from './template';

export const DEFAULT_TEMPLATE_SOURCE = `---
name: medalign-default
description: The prompt used by the MedAlign paper
---
## user
Instruction: Answer the following question based on the EHR:

EHR: {{ehr}}

Question: {{instruction}}

Answer:
`;

/**
 * The built-in refine prompt of `strategy: refine` (every step after the first): the next chunk of the
 * record, the instruction and the previous step's answer, after the refine prompt of LangChain's
 * "refine" chain that multi-step refinement in the MedAlign paper follows.
 */
export const DEFAULT_REFINE_TEMPLATE_SOURCE = `---
name: medalign-refine
description: Multi-step refinement, every step after the first (the next part of the EHR and the answer so far)
---
## user
Instruction: Answer the following question based on the EHR. The EHR below is the next part of the patient's record; an answer based on the earlier parts is given after the question.

EHR: {{ehr}}

Question: {{instruction}}

Existing answer: {{answer}}

Refine the existing answer with this part of the EHR only where it adds to or corrects it; if it adds nothing, repeat the existing answer.

Answer:
`;

let defaultRefineTemplate: PromptTemplate | undefined;

export function getDefaultRefineTemplate(): PromptTemplate {
  return (defaultRefineTemplate ??= parseTemplate(DEFAULT_REFINE_TEMPLATE_SOURCE));
}

/** MedAlign's prompt with `{ehr}` and `{question}` filled, for checking the default reproduces it. */
export function medalignPrompt(ehr: string, question: string): string {
  return `Instruction: Answer the following question based on the EHR:\n\nEHR: ${ehr}\n\nQuestion: ${question}\n\nAnswer:`;
}

let defaultTemplate: PromptTemplate | undefined;

export function getDefaultTemplate(): PromptTemplate {
  return (defaultTemplate ??= parseTemplate(DEFAULT_TEMPLATE_SOURCE));
}

const DAY_MS = 86_400_000;

/** `age`, `sex`, `record_start`, `record_end` for a record (`unknown` where the record says nothing). */
export function recordTemplateValues(
  record: EhrRecord | undefined,
): Omit<TemplateValues, 'ehr' | 'instruction'> {
  const p = record?.person;
  let age = p?.ageInYears !== undefined ? String(p.ageInYears) : 'unknown';
  if (p?.ageInYears === undefined && p?.birth !== undefined && record?.lastDate !== undefined) {
    age = String(Math.floor((record.lastDate.epochMs - p.birth.epochMs) / (365.2425 * DAY_MS)));
  }
  return {
    age,
    sex: p?.gender !== undefined && p.gender.trim() !== '' ? p.gender.trim().toLowerCase() : 'unknown',
    record_start: record?.firstDate !== undefined ? isoDay(record.firstDate) : 'unknown',
    record_end: record?.lastDate !== undefined ? isoDay(record.lastDate) : 'unknown',
  };
}
