#!/usr/bin/env node
/**
 * `leak-agent` command line: reads evidence offline. One module per command; this file only
 * dispatches and turns failures into one clear line and a non-zero exit (no stack traces for
 * bad input: 2 for bad input or usage, 1 for anything unexpected).
 */
import { SnapshotFormatError } from '../analysis/errors';
import { analyzeCommand, analyzeUsage } from './analyze';
import { UsageError } from './args';
import { redactCommand, redactUsage } from './redact';
import { reportCommand, reportUsage, EpisodeError } from './report';

const USAGE = `usage:
  ${analyzeUsage}
  ${reportUsage}
  ${redactUsage}`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'analyze':
      return analyzeCommand(rest);
    case 'report':
      return reportCommand(rest);
    case 'redact':
      return redactCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE + '\n');
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command "${command}"\n${USAGE}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const e = err as Error;
    const known = e instanceof SnapshotFormatError || e instanceof UsageError || e instanceof EpisodeError;
    const code = (e as NodeJS.ErrnoException).code;
    const io = typeof code === 'string' && /^E[A-Z]+$/.test(code);
    process.stderr.write(`leak-agent: ${known || io ? e.message : `unexpected error: ${e.message}`}\n`);
    process.exitCode = known || io ? 2 : 1;
  },
);
