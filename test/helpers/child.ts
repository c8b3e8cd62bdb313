/** A long-running child Node process the test talks to over stdin/stdout (JSON lines both ways). */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as path from 'node:path';

export const REPO = path.resolve(__dirname, '..', '..');
export const FIXTURES = path.join(REPO, 'test', 'fixtures', 'telemetry');

export type Line = Record<string, unknown>;

export interface Child {
  proc: ChildProcessWithoutNullStreams;
  /** JSON lines the child printed on stdout. */
  out: Line[];
  /** JSON lines on stderr (the agent log goes there by default). */
  log: Line[];
  stderr(): string;
  send(command: Line): void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function collect(stream: NodeJS.ReadableStream, sink: Line[], raw: string[]): void {
  let buf = '';
  stream.on('data', (d: Buffer) => {
    raw.push(d.toString());
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      try { sink.push(JSON.parse(line) as Line); } catch { /* not JSON */ }
    }
  });
}

export function startChild(script: string, env: Record<string, string | undefined>, nodeArgs: string[] = []): Child {
  const clean: Record<string, string | undefined> = { ...process.env };
  for (const k of Object.keys(clean)) if (k.startsWith('OTEL_') || k.startsWith('LEAK_AGENT_')) delete clean[k];
  const proc = spawn(process.execPath, [...nodeArgs, '-r', REPO, path.join(FIXTURES, script)], {
    cwd: REPO,
    env: { ...clean, TEST_REPO: REPO, ...env },
  });
  const out: Line[] = [];
  const log: Line[] = [];
  const raw: string[] = [];
  collect(proc.stdout, out, []);
  collect(proc.stderr, log, raw);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.on('close', (code, signal) => resolve({ code, signal }));
  });
  return {
    proc,
    out,
    log,
    stderr: () => raw.join(''),
    send: (command) => proc.stdin.write(JSON.stringify(command) + '\n'),
    exited,
  };
}

/** Ends a child we started, by its own pid, if it is still running. */
export function killChild(child: Child | undefined): void {
  if (child && child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill('SIGKILL');
}
