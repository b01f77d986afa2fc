/** The sections an instruction file may have, with what each is for (hover, completion, checks). */
export const SECTION_INSTRUCTION = 'Instruction';
export const SECTION_GOLD = 'Gold response';
export const SECTION_NOTES = 'Notes';

export const SECTION_DOCS: Record<string, string> = {
  [SECTION_INSTRUCTION]: 'The question or task a clinician asks of the patient record. Required, non-empty.',
  [SECTION_GOLD]: 'The clinician-written reference answer that model responses are compared with. Optional.',
  [SECTION_NOTES]: 'Free notes for curators and reviewers; never sent to a model. Optional.',
};

export const KNOWN_SECTIONS: readonly string[] = [SECTION_INSTRUCTION, SECTION_GOLD, SECTION_NOTES];
