/**
 * A re-implementation of HELM's MedAlign request, written from HELM's public Python source and
 * independent of the product code (its own tokenizer library, js-tiktoken, which ports tiktoken):
 *
 * - stanford-crfm/helm `src/helm/benchmark/scenarios/medalign_scenario_helper.py`:
 *   `get_ehrs` reads each record with `open(file_path, encoding="utf-8", mode="r")` (text mode:
 *   universal newlines, `\r\n` and `\r` read as `\n`); `preprocess_prompts` builds the template from
 *   `prompt_string`; `pack_and_trim_prompts` computes `target_ehr_length = context_length −
 *   generation_length − len(encode(prompt_template.template)) − len(encode(instruction))`, formats an
 *   empty EHR when it is <= 0, else `fast_encoded[-(2 * target):]` → decode → encode →
 *   `[-target:]` → decode; `tokenizer = "tiktoken"` is `tiktoken.get_encoding("cl100k_base")`, and
 *   tiktoken decodes with `errors="replace"` (js-tiktoken's TextDecoder does the same).
 * - `medalign_scenario.py`: `PassageQuestionInput(passage="", question=prompt)`, i.e.
 *   `"" + "" + "\n" + "Question: " + prompt`.
 * - `medhelm_run_specs.py` `get_medalign_spec`: `get_generation_adapter_spec(instructions="",
 *   input_noun=None, output_noun=None, ...)`: input prefix "", input suffix "\n", output prefix "".
 *
 * Differences from HELM, on purpose: special-token text is encoded as text (tiktoken's `encode`
 * raises on it), and the helper's guard `if len(fast_encoded) <= target_ehr_length:` (which keeps
 * only instructions whose whole record fits) is not applied: this returns the text the truncation
 * computes, which is what `strategy: helm` shows.
 */
type Encoder = { encode(s: string, a: string[], d: string[]): number[]; decode(ids: number[]): string };

let enc: Encoder | undefined;
// The last text's ids, kept: the tests pack one record at several sizes (encoding is deterministic).
let last: { text: string; ids: number[] } | undefined;
const encode = (s: string): number[] => {
  if (last?.text !== s) last = { text: s, ids: enc!.encode(s, [], []) };
  return [...last.ids];
};
const decode = (ids: number[]): string => enc!.decode(ids);

const PROMPT_STRING =
  'Instruction: Answer the following question based on the EHR:\n\nEHR: {ehr}\n\nQuestion: {question}\n\nAnswer:';

/** `str.format` of a template with the two fields (values inserted literally). */
function format(template: string, values: { ehr: string; question: string }): string {
  return template.replace(/\{(ehr|question)\}/g, (_, k: 'ehr' | 'question') => values[k]);
}

export interface HelmReference {
  /** The adapter's request text. */
  text: string;
  /** `pack_and_trim_prompts`' prompt. */
  prompt: string;
  /** The truncated EHR. */
  ehr: string;
  target: number;
  /** The guard of the current helper: would HELM keep this instruction at this size? */
  keptByCurrentHelm: boolean;
}

/** Loads js-tiktoken (an ES module) once; then `helmReference` can be called. */
export async function loadHelmReference(): Promise<typeof helmReference> {
  if (enc === undefined) {
    const { Tiktoken } = await import('js-tiktoken/lite');
    const ranks = (await import('js-tiktoken/ranks/cl100k_base')).default;
    enc = new Tiktoken(ranks);
  }
  return helmReference;
}

function helmReference(
  fileText: string,
  instruction: string,
  contextLength: number,
  generationLength = 256,
): HelmReference {
  const relevantEhr = fileText.replace(/\r\n|\r/g, '\n');
  const question = instruction.replace(/\r\n|\r/g, '\n');
  const numTokensInstruction = encode(question).length;
  const numTokensPromptTemplate = encode(PROMPT_STRING).length;
  const target = contextLength - generationLength - numTokensPromptTemplate - numTokensInstruction;
  let ehr = '';
  let fits = false;
  if (target > 0) {
    const fastEncoded = encode(relevantEhr);
    fits = fastEncoded.length <= target;
    const fastTruncatedEhr = decode(fastEncoded.slice(-(2 * target)));
    const encodedEhr = encode(fastTruncatedEhr);
    ehr = decode(encodedEhr.slice(-target));
  }
  const prompt = format(PROMPT_STRING, { question, ehr });
  const input = '' + '' + '\n' + 'Question: ' + prompt;
  return { text: '' + input + '\n' + '', prompt, ehr, target, keptByCurrentHelm: target > 0 && fits };
}
