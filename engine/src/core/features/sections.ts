/** The sections an instruction file may have, with what each is for (hover, completion, checks). */
import { didYouMean } from './document';

import {
  SECTION_EVIDENCE,
  SECTION_GOLD,
  SECTION_INSTRUCTION,
  SECTION_NOTES,
  SECTION_OTHER_RESPONSES,
  SECTION_RELEASE_ROWS,
} from './sectionNames';

export {
  SECTION_EVIDENCE,
  SECTION_GOLD,
  SECTION_INSTRUCTION,
  SECTION_NOTES,
  SECTION_OTHER_RESPONSES,
  SECTION_RELEASE_ROWS,
};

export const SECTION_DOCS: Record<string, string> = {
  [SECTION_INSTRUCTION]: 'The question or task a clinician asks of the patient record. Required, non-empty.',
  [SECTION_GOLD]: 'The clinician-written reference answer that model responses are compared with. Optional.',
  [SECTION_NOTES]: 'Free notes for curators and reviewers; never sent to a model. Optional.',
  [SECTION_EVIDENCE]:
    "The passages of the record that support the gold response (MedAlign's `evidence`); never sent to a model. Optional.",
  [SECTION_OTHER_RESPONSES]:
    "Further clinicians' responses, one `### <annotator_num>` heading each (e.g. `### Annotator_2`); never sent to a model. Optional.",
  [SECTION_RELEASE_ROWS]:
    "The release's per-row columns (model responses, review labels) as a fenced tab-separated block, kept so `medalign export medalign` writes them back; never sent to a model. Optional.",
};

export const KNOWN_SECTIONS: readonly string[] = [
  SECTION_INSTRUCTION,
  SECTION_GOLD,
  SECTION_NOTES,
  SECTION_EVIDENCE,
  SECTION_OTHER_RESPONSES,
  SECTION_RELEASE_ROWS,
];

/**
 * Headings people write for a known section (lower case): `## Answer` is the gold response. Used for
 * the did-you-mean of an unknown section when the spelling is too far for an edit distance.
 */
const SECTION_ALIASES: Record<string, string> = {
  answer: SECTION_GOLD,
  'gold answer': SECTION_GOLD,
  'gold standard': SECTION_GOLD,
  gold: SECTION_GOLD,
  'reference answer': SECTION_GOLD,
  'reference response': SECTION_GOLD,
  reference: SECTION_GOLD,
  'expected answer': SECTION_GOLD,
  'expected response': SECTION_GOLD,
  'clinician response': SECTION_GOLD,
  'clinician answer': SECTION_GOLD,
  response: SECTION_GOLD,
  'ground truth': SECTION_GOLD,
  question: SECTION_INSTRUCTION,
  prompt: SECTION_INSTRUCTION,
  task: SECTION_INSTRUCTION,
  query: SECTION_INSTRUCTION,
  instructions: SECTION_INSTRUCTION,
  note: SECTION_NOTES,
  comment: SECTION_NOTES,
  comments: SECTION_NOTES,
  remarks: SECTION_NOTES,
};

/** The known section a heading most likely means (an alias such as `Answer`, else a near spelling). */
export function sectionFor(name: string): string | undefined {
  const alias = SECTION_ALIASES[name.trim().toLowerCase().replace(/\s+/g, ' ').replace(/:$/, '')];
  return alias ?? didYouMean(name, KNOWN_SECTIONS);
}
