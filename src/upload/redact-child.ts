/**
 * Entry of the child process that redacts one snapshot before upload (see redaction.ts):
 * `node redact-child.js <in> <out> <strings|all> <result.json>`. Writes `{ ok, message? }` to the
 * result file (the parent gives the child no pipes, so that it can never hold the host open) and
 * exits 0, 2 for a snapshot that does not parse, 1 for anything else.
 */
import * as fs from 'node:fs';
import { SnapshotFormatError } from '../analysis/errors';
import { redactSnapshot } from '../analysis/redact';

const [input, output, mode, result] = process.argv.slice(2) as [string, string, string, string];

const say = (body: { ok: boolean; message?: string; redacted?: number; strings?: number }): void => {
  try {
    fs.writeFileSync(result, JSON.stringify(body), { mode: 0o600 });
  } catch { /* the parent then reports the exit code alone */ }
};

redactSnapshot(input, output, { all: mode === 'all' }).then(
  (r) => say({ ok: true, redacted: r.redacted, strings: r.strings }),
  (err: unknown) => {
    say({ ok: false, message: (err as Error).message });
    process.exitCode = err instanceof SnapshotFormatError ? 2 : 1;
  },
);
