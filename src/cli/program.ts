import { Command, Option } from 'commander';
import { ALF_VERSION } from '../model/version.js';
import type { AnalyzeCommandOptions } from './commands/analyze.js';
import type { MergeCommandOptions } from './commands/merge.js';
import type { ScanCommandOptions } from './commands/scan.js';
import type { WorkerCommandOptions } from './commands/worker.js';
import { budgetOption, durationOption, failOnOption, keyFieldOption, parseConfidence, parseDurationOrZero, parseJobs, parseSignedDuration, parseWholeMinutes, REPORT_FORMATS, timeZoneOption, wholeNumber, windowFormatsOption } from './shared-options.js';
import { addSliceOptions } from './slice-options.js';

/**
 * The command registry: argv parsing only. Each action imports its command's module when it runs
 * and calls a plain async function that returns an exit code; src/cli/main.ts is the only place
 * that exits. Loading no command up front keeps `alf --version` and `--help` as quick as Node
 * itself starts: the parsers, detectors and their dependencies are ~0.2 s of imports.
 */

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function buildProgram(setExitCode: (code: number) => void, settings: { quietErrors?: boolean } = {}): Command {
  const program = new Command('alf')
    .description('Access-log forensics: cross-examine proxy, gateway and APM logs to find what really happened to your API requests.')
    .version(ALF_VERSION, '-V, --version')
    .showSuggestionAfterError()
    // Set before adding commands: subcommands inherit it, so main.ts maps every parse error to exit 2.
    .exitOverride()
    // scan and merge under --quiet: the argument error becomes their one JSON line (main.ts), not a plain line too.
    .configureOutput(settings.quietErrors === true ? { outputError: () => {} } : {})
    .addHelpText('after', `
Examples:
  $ alf analyze samples/incident --budget 600s/5m --out report.html
  $ alf analyze access.log.2.gz access.log.1 access.log --apm transactions.csv --format md
  $ zcat access.log.*.gz | alf analyze - --log-format /etc/nginx/nginx.conf --format json
  $ alf detect /var/log/nginx/access.log
  $ alf formats

Any command also takes --max-memory MB: cap the JavaScript heap (alf's state is bounded, but
Node grows its heap lazily, so without a cap peak memory still rises with input size).

Exit codes: 0 ok, 1 a finding reached --fail-on, 2 bad arguments or unreadable input, 3 internal error, 130 interrupted.`);

  const analyze = program
    .command('analyze')
    .description('Parse proxy logs and APM exports, join them, detect anomalies and write a report.')
    .argument('[inputs...]', 'log files, directories, .gz files or - for stdin; proxy logs and APM exports are told apart by content')
    .option('--apm <file>', 'read this input as an APM export (repeatable)', collect)
    .option('--log-format <format|file|name>', 'nginx log_format: the format string, a file holding a log_format directive (e.g. nginx.conf), or nginx\'s names combined and main; an Apache httpd LogFormat (or an httpd.conf: its CustomLog\'s format); or an haproxy.cfg (its log-format lines, and the order of its header captures) or an HAProxy log-format directive; or an Envoy format string (or an Envoy YAML holding one)')
    .option('--input-format <id>', 'read every positional input as this format (see `alf formats`)')
    .addOption(keyFieldOption('field that identifies the budget holder, e.g. http_x_api_key (default: guessed from field names)'))
    .addOption(timeZoneOption())
    .addOption(budgetOption('worker-time budget per key, e.g. 600s/5m, replayed with accounted and true times'))
    .addOption(new Option('--format <format>', 'report format (default: from the --out extension; without --out, text on a terminal and json in a pipe)').choices(REPORT_FORMATS))
    .option('-o, --out <file>', 'write the report to a file instead of stdout (.html, .md, .json or .txt)')
    .addOption(failOnOption('exit 1 when a finding is at least this severe'))
    .addOption(durationOption('--max-skew <duration>', 'largest clock offset between proxy and APM to search', '30s'))
    .option('--route-template <template>', 'a route template such as /v2/applications/:id/metrics.json, for APM exports that carry only templates (repeatable)', collect)
    .addOption(new Option('--clock-offset <duration>', 'known offset of the APM clock from the proxy clock (e.g. 350ms or -2s); skips estimation')
      .argParser((value: string) => parseSignedDuration(value, '--clock-offset')))
    .addOption(new Option('--min-confidence <0..1>', 'join pairs below this confidence are left unjoined').argParser(parseConfidence).default(0.5, '0.5'))
    .addOption(durationOption('--horizon <duration>', 'longest request the proxy logs (how out of order proxy lines may arrive)', '65s'))
    .option('--joined <file>', 'also write every proxy record with its APM partner, confidence and join method as CSV')
    .option('--keep-going', 'analyse the readable files and report on them before failing (exit 2) on the unreadable ones, instead of stopping at the first')
    .option('--follow-symlinks', 'read symlinks that lead out of an input directory (Kubernetes\' /var/log/containers; default: such links are named on stderr and passed over)')
    .addOption(new Option('-j, --jobs <n|auto>', 'parse in up to n worker threads (auto: one per core for 256 MiB of input or more, none for nginx and Apache formats, whose parsing costs less than the hand-off): one per file, a big plain file in ranges')
      .argParser(parseJobs).default(1, '1'))
    // Internal: when a plain file is read in ranges by the workers, and when --jobs auto starts any; tests force both on small files.
    .addOption(new Option('--split-min-bytes <bytes>').hideHelp())
    .addOption(new Option('--split-range-bytes <bytes>').hideHelp())
    .addOption(new Option('--auto-jobs-min-bytes <bytes>').hideHelp())
    // The bench's yardstick for the join's cost (issue 26): read and parse every input, then report on none of it.
    .addOption(new Option('--parse-only').hideHelp())
    .option('-q, --quiet', 'no summary on stderr');
  addSliceOptions(analyze)
    .addHelpText('after', `
Examples:
  $ alf analyze samples/incident --budget 600s/5m --out report.html
  $ alf analyze samples/incident --since '2017-03-14 09:05' --until '2017-03-14 09:30' --where status=4xx
  $ alf analyze /var/log/nginx/ --since 2h --where route=/v2/orders/:id --where 'ua~python'
  $ alf analyze /var/log/nginx/ --log-format /etc/nginx/nginx.conf --apm nr-export.csv --format md
  $ alf analyze alb.log.gz --format json --fail-on high > findings.json
  $ alf analyze alb-logs/ --jobs auto --format json > findings.json`)
    .action(async (inputs: string[], options: AnalyzeCommandOptions) => {
      const { analyzeCommand } = await import('./commands/analyze.js');
      setExitCode(await analyzeCommand(inputs, options));
    });

  program
    .command('detect')
    .description('Print which format each file would be read as (or which came closest and why it failed).')
    .argument('<inputs...>', 'files or directories')
    .option('--log-format <format|file>', 'also consider this nginx log_format or Apache httpd LogFormat')
    .addHelpText('after', '\nExample:\n  $ alf detect samples/incident/access.log samples/incident/newrelic-transactions.csv')
    .action(async (inputs: string[], options: { logFormat?: string }) => {
      const { detectCommand } = await import('./commands/detect.js');
      setExitCode(await detectCommand(inputs, options));
    });

  program
    .command('formats')
    .description('List every built-in input format with an example line.')
    .addHelpText('after', '\nExample:\n  $ alf formats')
    .action(async () => {
      const { formatsCommand } = await import('./commands/formats.js');
      setExitCode(formatsCommand());
    });

  const scan = program
    .command('scan')
    .description('Scheduled, incremental scan of log directories, globs or S3 prefixes: reads only what is new, reports per time window.')
    .argument('<sources...>', 'directories, globs (quote them) or s3://bucket/prefix/')
    .option('--state <file>', 'where the scan remembers what it has read (written atomically); required without --queue')
    .option('-o, --out <dir>', 'directory for per-window reports, the index page and the spool', 'alf-scan')
    .addOption(new Option('--window <duration>', 'findings per time window of this length (whole minutes)').argParser((value: string) => parseWholeMinutes(value, '--window')).default(parseWholeMinutes('1h', '--window'), '1h'))
    .addOption(windowFormatsOption())
    .addOption(failOnOption('exit 1 when a finding of an updated window is at least this severe'))
    .option('--shard <i/n>', 'take a deterministic share of the sources (0-based i of n); combine with alf merge')
    .option('--queue <redis://host:port[/db]>', 'enqueue the scan as map and reduce tasks for alf worker processes on any machine (--out must be a path every worker shares); waits for the outcome')
    .option('--no-wait', 'with --queue: enqueue, print the run id and exit 0 without waiting')
    // Internal: from which size a plain file is cut into byte-range tasks, and their size (tests force ranges on small files).
    .addOption(new Option('--split-min-bytes <bytes>').hideHelp())
    .addOption(new Option('--split-range-bytes <bytes>').hideHelp())
    .option('--endpoint <url>', 'S3-compatible endpoint (default: AWS_ENDPOINT_URL); path-style addressing')
    .addOption(durationOption('--s3-timeout <duration>', 'S3: fail a request whose connection takes longer, or that is silent this long; each request is tried 3 times with backoff', '30s'))
    .addOption(new Option('--concurrency <n>', 'sources read at once (default: 2 local files, 8 S3 objects)').argParser(wholeNumber('--concurrency', 1, 256)))
    .option('--follow-symlinks', 'follow symlinks that lead out of a source directory (default: such links are listed and passed over)')
    .addOption(new Option('--lock-wait <duration>', 'wait this long for another run holding the state\'s lock; 0s exits 2 at once, naming the holder').argParser((value: string) => parseDurationOrZero(value, '--lock-wait')).default(0, '0s'))
    .addOption(durationOption('--retain <duration>', 'delete windows (reports and spool) that ended longer ago than this, e.g. 30d (default: keep all)'))
    .option('--log-format <format|file|name>', 'nginx log_format: the format string, a file holding a log_format directive, or nginx\'s names combined and main; or an Apache httpd LogFormat (or an httpd.conf)')
    .addOption(keyFieldOption())
    .addOption(timeZoneOption())
    .addOption(budgetOption())
    .option('-q, --quiet', 'one line of JSON summary on stderr per run (for log shippers), no progress');
  addSliceOptions(scan, 'only requests logged at or after this time, and only sources that may hold them (S3: lists only those date partitions)')
    .addHelpText('after', `
Examples:
  $ alf scan /var/log/nginx/ --state /var/lib/alf/state.json --out /var/www/alf --fail-on high --retain 30d
  $ alf scan s3://my-alb-logs/AWSLogs/123456789012/elasticloadbalancing/eu-west-1/ --since 2h --state s.json --out reports
  $ alf scan s3://logs/ --shard 0/4 --state s0.json --out part0   # then: alf merge part0 part1 part2 part3 --out all
  $ alf scan s3://logs/ --since 1d --queue redis://redis:6379 --out /shared/alf   # with alf worker running (docs/queue.md)

Exit codes: 0 every source read, 1 a finding reached --fail-on, 2 a source unread or fitting no
format, spool damage, or an operational error (network, credentials, disk, lock), 3 a bug.`)
    .action(async (sources: string[], options: ScanCommandOptions) => {
      const { scanCommand } = await import('./commands/scan.js');
      setExitCode(await scanCommand(sources, options));
    });

  program
    .command('worker')
    .description('Take map and reduce tasks of queued scans (alf scan --queue) until stopped; run any number, on any machine.')
    .requiredOption('--queue <redis://host:port[/db]>', 'the Redis the scans are enqueued on')
    .option('--concurrency <n>', 'tasks run at once by this process', '1')
    // Internal: how soon a killed worker's task is handed on (tests shorten it).
    .addOption(new Option('--lock-duration <duration>').default('30s').hideHelp())
    .option('-q, --quiet', 'no line per task on stderr')
    .addHelpText('after', `
Examples:
  $ alf worker --queue redis://redis.internal:6379 --concurrency 2
  $ alf worker --queue rediss://user:secret@redis.example.com:6380/1

SIGTERM: the tasks in hand finish, then exit 0. A worker killed outright (or Ctrl-C) loses nothing:
its task is handed to another worker once its lock lapses (30 s).`)
    .action(async (options: WorkerCommandOptions) => {
      const { workerCommand } = await import('./commands/worker.js');
      setExitCode(await workerCommand(options));
    });

  program
    .command('merge')
    .description('Merge the out directories of sharded scans into the reports one unsharded scan would write.')
    .argument('<partials...>', 'out directories of alf scan --shard i/n runs')
    .option('-o, --out <dir>', 'directory for the merged reports and index page', 'alf-merged')
    .addOption(windowFormatsOption())
    .addOption(failOnOption('exit 1 when a finding is at least this severe'))
    .addOption(keyFieldOption())
    .addOption(budgetOption())
    .option('-q, --quiet', 'one line of JSON summary on stderr')
    .addHelpText('after', '\nExample:\n  $ alf merge part0 part1 part2 part3 --out merged')
    .action(async (partials: string[], options: MergeCommandOptions) => {
      const { mergeCommand } = await import('./commands/merge.js');
      setExitCode(await mergeCommand(partials, options));
    });

  return program;
}
