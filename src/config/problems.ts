/**
 * The one convention every configuration reader follows: a bad value is reported through a
 * `ProblemSink` — the variable, what was expected, what is used instead — and the reader carries on
 * with the safe default. The agent turns each problem into one `agent.error` line.
 *
 * The value shown is the one read from the environment, redacted (header values, URL userinfo and
 * query strings: src/log/redact-secrets.ts) and cut to MAX_SHOWN characters so a hostile or huge
 * value cannot flood the log.
 */
import { redactConfigValue } from '../log/redact-secrets';

export interface ConfigProblem {
  variable: string;
  value: string;
  expected: string;
  using: string;
}

export type ProblemSink = (variable: string, expected: string, using: string) => void;

export type Env = Record<string, string | undefined>;

export const MAX_SHOWN = 120;

/** The value as a problem line may show it. */
export function shownValue(variable: string, value: string | undefined): string {
  const redacted = redactConfigValue(variable, String(value));
  return redacted.length > MAX_SHOWN ? `${redacted.slice(0, MAX_SHOWN)}… (${redacted.length} characters)` : redacted;
}

/** A sink that records problems (each variable once) against the values in `env`. */
export function problemCollector(env: Env): { problems: ConfigProblem[]; problem: ProblemSink } {
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  const problem: ProblemSink = (variable, expected, using) => {
    if (seen.has(variable)) return;
    seen.add(variable);
    problems.push({ variable, value: shownValue(variable, env[variable]), expected, using });
  };
  return { problems, problem };
}
