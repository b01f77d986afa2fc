/**
 * The names of an instruction file's sections, apart from sections.ts (which reaches the YAML
 * parser) so that code bundled into the extension host can name them too.
 */
export const SECTION_INSTRUCTION = 'Instruction';
export const SECTION_GOLD = 'Gold response';
export const SECTION_NOTES = 'Notes';
/** Sections `medalign import` writes from the MedAlign release (docs/format.md, "Imported instructions"). */
export const SECTION_EVIDENCE = 'Evidence';
export const SECTION_OTHER_RESPONSES = 'Other responses';
export const SECTION_RELEASE_ROWS = 'Release rows';
