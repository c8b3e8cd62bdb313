/**
 * A child Node process running a consumer-style service with the agent: any Node binary, any
 * arguments and working directory. JSON lines on stdout (the service) and stderr (the agent log)
 * are collected; `until` waits for a line, `stop` asks the service to stop the agent and exit.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

export type Line = Record<string, unknown>;

export interface AgentChild {
  proc: ChildProcessWithoutNullStreams;
  out: Line[];
  log: Line[];
  stderr(): string;
  /** Resolves with the first line (stdout or agent log) that matches; rejects after `timeoutMs`. */
  until(match: (line: Line) => boolean, what: string, timeoutMs: number): Promise<Line>;
  /** Sends {"cmd":"stop"} and resolves with the service's final report once it exited. */
  stop(timeoutMs?: number): Promise<Line>;
  /** Ends the child by its own pid if it is still running. */
  kill(): void;
}

/** The environment of the test runner minus everything that would change the agent's choices. */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('LEAK_AGENT_') && !k.startsWith('NODE_') && !k.startsWith('OTEL_') && !k.startsWith('AWS_') && !k.startsWith('npm_')) env[k] = v;
  }
  return { ...env, LEAK_AGENT_LOG: 'stderr', ...extra };
}

export function startAgentChild(bin: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): AgentChild {
  const proc = spawn(bin, args, { cwd, env });
  const out: Line[] = [];
  const log: Line[] = [];
  const raw: string[] = [];
  const waiters: { match: (l: Line) => boolean; resolve: (l: Line) => void }[] = [];
  const exited = new Promise<void>((resolve) => proc.on('close', () => resolve()));

  const collect = (stream: NodeJS.ReadableStream, sink: Line[], keep?: string[]) => {
    let buf = '';
    stream.on('data', (d: Buffer) => {
      keep?.push(d.toString());
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const text = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!text.startsWith('{')) continue;
        let line: Line;
        try { line = JSON.parse(text) as Line; } catch { continue; }
        sink.push(line);
        for (const w of [...waiters]) if (w.match(line)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(line); }
      }
    });
  };
  collect(proc.stdout, out);
  collect(proc.stderr, log, raw);

  const stderr = () => raw.join('');
  const until = (match: (l: Line) => boolean, what: string, timeoutMs: number): Promise<Line> => {
    const seen = [...out, ...log].find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.splice(waiters.findIndex((w) => w.resolve === done), 1);
        reject(new Error(`no ${what} within ${timeoutMs} ms; agent log:\n${stderr().slice(-4000)}`));
      }, timeoutMs);
      const done = (l: Line) => { clearTimeout(timer); resolve(l); };
      waiters.push({ match, resolve: done });
      void exited.then(() => {
        if (!waiters.some((w) => w.resolve === done)) return;
        waiters.splice(waiters.findIndex((w) => w.resolve === done), 1);
        clearTimeout(timer);
        reject(new Error(`the child exited (code ${proc.exitCode}, signal ${proc.signalCode}) before ${what}; agent log:\n${stderr().slice(-4000)}`));
      });
    });
  };
  const kill = () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  };
  return {
    proc, out, log, stderr, until, kill,
    async stop(timeoutMs = 15_000) {
      proc.stdin.write(JSON.stringify({ cmd: 'stop' }) + '\n');
      const report = await until((l) => l.stopped === true, 'the stop report', timeoutMs);
      await exited;
      return report;
    },
  };
}
