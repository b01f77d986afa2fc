/**
 * `medalign` command line: the same core as the editor. Each command lives in its own file and is
 * listed in COMMANDS; main only dispatches.
 */
import type * as CheckModule from './check';
import type * as RunModule from './run';
import type * as RunsModule from './runs';
import type * as BatchModule from './batch';
import type * as RecordsModule from './records';
import type * as ImportModule from './import';
import type * as TimelineModule from './timeline';
import type * as MetricsModule from './metrics';
import type * as ReportModule from './report';
import type * as ExperimentModule from './experiment';
import type { CliIo, Command } from './io';
import { version } from '../../../package.json';
import { finish, processIo } from './process';

// Each command's module is loaded when that command runs: `medalign count` never evaluates the
// run engine's model client (`openai`), `check` never the tokenizer.
/* eslint-disable @typescript-eslint/no-require-imports */
const check = () => require('./check') as typeof CheckModule;
const records = () => require('./records') as typeof RecordsModule;
const timeline = () => require('./timeline') as typeof TimelineModule;
const run = () => require('./run') as typeof RunModule;
const runs = () => require('./runs') as typeof RunsModule;
const batch = () => require('./batch') as typeof BatchModule;
const metrics = () => require('./metrics') as typeof MetricsModule;
const report = () => require('./report') as typeof ReportModule;
const dataset = () => require('./import') as typeof ImportModule;
const experiment = () => require('./experiment') as typeof ExperimentModule;
/* eslint-enable @typescript-eslint/no-require-imports */

export type { CliIo };

const COMMANDS: Record<string, Command> = {
  check: {
    usage: `  medalign check [paths...] [--json] [--allow-root <folder>]
      Check .medalign instructions, .prompt templates and .xml records (folders are searched
      recursively; XML that is not a MedAlign record is skipped). Prints file:line:col severity
      message [code]; --json prints an array of LSP diagnostics with their file.
      Exit code 1 when any error is found. Records and templates must be inside the workspace;
      --allow-root (repeatable) allows another folder for this command.`,
    run: (args, io) => check().runCheck(args, io.cwd, io.out),
  },
  count: {
    usage: `  medalign count <record.xml> [--encoding cl100k_base|o200k_base] [--json]
      Exact token count of an EHR record, with visits, events, notes and date span.
  medalign count <record.xml> --model <endpoint> | --verify <endpoint> [--allow-phi-endpoint id@origin] [--trust] [--json]
      The count in the endpoint's tokenizer (its "tokenizer" in medalign.config.json; "server": the
      endpoint's own count); --verify also asks the endpoint's /tokenize route (vLLM, llama.cpp) and says
      whether the counts agree (exit 1 if not). The record is sent only as a run would send it: trusted
      folder, PHI guard.`,
    run: (args, io) => records().runCount(args, io),
  },
  pack: {
    usage: `  medalign pack <file.medalign> [--context 32k] [--strategy recent|bm25|none|helm|refine] [--model id] [--json]
               [--allow-root <folder>] [--trust] [--allow-phi-endpoint id@origin]
      Prints the exact prompt (the budget goes to stderr); --json prints the messages, tokens per
      part and in total, and what was kept and cut. Exit code 1 when the prompt cannot be built.
      An endpoint with "tokenizer": "server" packs with its /tokenize counts, sent only as a run
      would send the record (trusted folder, PHI guard); otherwise estimates, with a warning.`,
    run: (args, io) => records().runPack(args, io),
  },
  timeline: {
    usage: `  medalign timeline <record.xml|file.medalign> [--context 8k] [--strategy recent|bm25|none|helm|refine] [--model id]
               [--json] [--html <file>] [--allow-root <folder>] [--trust] [--allow-phi-endpoint id@origin]
      The record on a time axis: visits, days and events (kind, date, tokens, range) and, for 2k…128k
      and the instruction's own context, what \`medalign pack\` keeps (tokens, visits, back to which
      date). A record uses the config's defaults; an instruction its own settings. --json prints the
      model the Record Timeline view draws; --html <file> writes it as a self-contained page (the view's
      renderer; the file holds patient data). Exit code 1 when the record is missing or broken.
      An endpoint with "tokenizer": "server" counts with its /tokenize as \`pack\` does.`,
    run: (args, io) => timeline().runTimeline(args, io),
  },
  run: {
    usage: `  medalign run <paths...> [--model a,b] [--context 2k,32k] [--strategy recent|bm25|none|helm|refine] [--template a.prompt,b.prompt]
               [--concurrency N] [--resume] [--export out.jsonl|out.csv] [--allow-phi-endpoint id@origin]
               [--remember-approval] [--no-store-prompt] [--no-stream] [--timeout seconds] [--quiet]
               [--allow-root <folder>] [--trust]
      Run instructions against models at context lengths (and templates: \`builtin\` is MedAlign's own prompt);
      every run is saved in .medalign/runs/.
      One run streams its answer to stdout; several show progress on stderr and a table. Keys come
      from the env var named by the endpoint's apiKeyEnv. Non-local endpoints need your approval
      (--allow-phi-endpoint <id>@<origin>, e.g. gpt-4o@https://api.openai.com, or the approvals
      file in your home directory). The first run in a project folder asks whether you trust it
      (remembered in your home directory); without a terminal, --trust trusts it for this command.
      Exit code 1 when a run fails or is refused.`,
    run: (args, io) => run().runRun(args, io),
  },
  experiment: {
    usage: `  medalign experiment <name.experiment.json> [--resume] [--json | --csv | --html out.html] [--out file]
               [--dry-run] [--concurrency N] [--resamples N] [--seed N] [--scorer id,...|all] [--no-cache]
               [--allow-phi-endpoint id@origin] [--remember-approval] [--allow-root <folder>] [--trust] [--quiet]
      Run a prompt experiment (its instructions in every cell: each combination of the templates, models,
      contexts and strategies it lists) and print the verdict: per cell runs, failures, mean prompt tokens
      and each metric; per pair of cells differing in one dimension the paired difference per instruction
      with a seeded paired-bootstrap 95% interval, in a sentence. Runs already made with identical inputs
      are reused, never sent again (so an interrupted experiment resumes; --resume is the default).
      --dry-run prints the cells and the number of runs and sends nothing. Exit code 1 when a run failed.`,
    run: (args, io) => experiment().runExperiment(args, io),
  },
  runs: {
    usage: `  medalign runs [paths...] [--json]
      List saved runs (newest first), of the given instruction files or of the workspace.`,
    run: (args, io) => runs().runRuns(args, io),
  },
  batch: {
    usage: `  medalign batch export <paths...> [--model a,b] [--context 2k,32k] [--template a.prompt,b.prompt] [--out requests.jsonl]
                       [--allow-root <folder>] [--trust]
  medalign batch import <results.jsonl> --requests <requests.jsonl>
      Write runs as an OpenAI Batch API / vLLM run-batch JSONL file (plus a manifest), and bring
      the results file back into the run store.`,
    run: (args, io) => batch().runBatch(args, io),
  },
  metrics: {
    usage: `  medalign metrics --gold <file> --answer <file> [--src <file>] [--scorer id,...|all] [--json] [--trust]
      Score one answer against its gold response: ROUGE-1/2/L F-measures (0-1, as Google's rouge_score
      with stemming), BLEU, chrF and chrF++ (0-100, as sacrebleu's sentence-level defaults). --json prints
      {rouge1, rouge2, rougeL, bleu, chrf, chrfpp}. --scorer also runs external scorers declared in
      medalign.config.json (commands: a trusted folder only; --src is the instruction they receive).`,
    run: (args, io) => metrics().runMetrics(args, io),
  },
  report: {
    usage: `  medalign report [folder] [--json | --csv | --html out.html] [--out file] [--scorer id,...|all] [--trust]
               [--no-cache] [--resamples N] [--seed N]
      The review report of the instructions under the folder (default: the current one): per model and
      context, percent correct (with counts), mean rank and the mean of each metric; the same by category
      and by record-length quartile; largest vs smallest context per model; Kendall's tau-b of each metric
      with the clinicians' ranks and between reviewers (per instruction, averaged over instructions, with
      a bootstrap 95% interval). --html writes a page with charts. Scores are cached in .medalign/scores.`,
    run: (args, io) => report().runReport(args, io),
  },
  review: {
    usage: `  medalign review export [folder] [--out reviews.csv]
      Every reviewer's labels, tags, comments and ranks as one CSV (one row per reviewed answer, with
      whether the judgement is stale).`,
    run: (args, io) => report().runReview(args, io),
  },
  import: {
    usage: `  medalign import <file-or-folder> [--into <folder>] [--records <ehr-folder>] [--dry-run]
                  [--overwrite] [--link-records|--copy-records]
      Bring in MedAlign instructions: the public instructions-sample.csv, a release file or the
      release folder (clinician-reviewed-model-responses.tsv + clinician-instruction-responses.tsv),
      one .medalign per instruction in the project's instructions folder (or --into). Records
      (<person_id>.xml, from --records or the release folder's EHR folder) are copied, or linked,
      into the records folder. A second import changes nothing; a file edited since it was imported
      is never overwritten without --overwrite. Malformed rows are reported with their line and
      skipped. Exit code 1 when a row was skipped or a file was in conflict.`,
    run: (args, io) => dataset().runImport(args, io),
  },
  export: {
    usage: `  medalign export medalign <folder> --out <dir> [--with-runs] [--with-reviews]
  medalign export helm <folder> --out <dir>
      Write instructions back as the MedAlign release's files (instructions.csv,
      clinician-reviewed-model-responses.tsv, clinician-instruction-responses.tsv), or as what HELM's
      MedAlign scenario reads (those two TSVs, clinician-instruction-responses.csv and
      medalign_ehr_xml/<person_id>.xml). --with-runs adds each instruction's latest complete run per
      model and context as rows (model_name, model_response, context_length). --with-reviews (implies
      --with-runs, no other answer text) adds the clinicians' submitted labels and ranks from the review
      files, one row per answer and reviewer (clinician_rank, correct, annotator, error_tags); stale
      judgements and drafts are left out, stale ones counted in a warning.`,
    run: (args, io) => dataset().runExport(args, io),
  },
};

function usage(): string {
  return `medalign ${version}\n\nUsage:\n${Object.values(COMMANDS)
    .map((c) => c.usage)
    .join('\n')}\n  medalign --version | --help\n`;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(usage());
    return command ? 0 : 2;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${version}\n`);
    return 0;
  }
  const c = COMMANDS[command];
  if (!c) {
    process.stderr.write(`medalign: unknown command '${command}'.\n\n${usage()}`);
    return 2;
  }
  return c.run(rest, processIo());
}

finish(main(process.argv.slice(2)));
