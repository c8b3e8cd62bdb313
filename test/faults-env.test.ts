/**
 * Every environment variable set to a hostile value at once, in a real host: the host's exit code
 * and its own output are unchanged, and the agent writes at most one clear line per variable (the
 * variable, a short value, what it expected, what it uses instead), then runs with its defaults.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jsonLines, REPO, runNode } from './helpers/process';

/** Every variable the agent reads except the two that say where it writes (set to a temp dir below). */
const VARIABLES = [
  'LEAK_AGENT_ENABLED', 'LEAK_AGENT_WINDOW', 'LEAK_AGENT_SNAPSHOTS', 'LEAK_AGENT_UPLOAD', 'LEAK_AGENT_NATIVE',
  'LEAK_AGENT_SENSITIVITY', 'LEAK_AGENT_NEAR_OOM', 'LEAK_AGENT_CONFIRM_GC', 'LEAK_AGENT_PROFILE', 'LEAK_AGENT_PROFILE_INTERVAL',
  'LEAK_AGENT_SNAPSHOT_COOLDOWN', 'LEAK_AGENT_SNAPSHOTS_PER_PROCESS', 'LEAK_AGENT_SNAPSHOTS_PER_DAY', 'LEAK_AGENT_DISK_BUDGET',
  'LEAK_AGENT_SNAPSHOT_PAIR', 'LEAK_AGENT_SIGNAL', 'LEAK_AGENT_UPLOAD_HEADERS', 'LEAK_AGENT_UPLOAD_PART_SIZE',
  'LEAK_AGENT_UPLOAD_SPOOL_MAX_FILES', 'LEAK_AGENT_UPLOAD_SPOOL_MAX_BYTES', 'LEAK_AGENT_UPLOAD_TIMEOUT',
  'LEAK_AGENT_UPLOAD_RETRY_BASE', 'LEAK_AGENT_UPLOAD_RETRY_MAX', 'LEAK_AGENT_UPLOAD_MAX_RATE', 'LEAK_AGENT_PROMETHEUS',
  'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_TIMEOUT',
  'OTEL_METRIC_EXPORT_INTERVAL', 'OTEL_METRIC_EXPORT_TIMEOUT', 'OTEL_RESOURCE_ATTRIBUTES', 'OTEL_SDK_DISABLED',
  'OTEL_METRICS_EXPORTER', 'OTEL_LOGS_EXPORTER',
];

const HOSTILE: Record<string, string> = {
  malformed: 'x',
  negative: '-1',
  'out of range': '99999999999999999999d',
  huge: '9'.repeat(20_000), // × every variable: well within the kernel's limit on a process environment
  'unknown unit': '10 parsecs',
  'path traversal': '../../../../etc/passwd',
  'control characters': '\u001b[31m30m\u0007',
};

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'la-faults-env-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const HOST = `console.log('host output'); setTimeout(() => { console.log('host done'); process.exitCode = 7; }, 1200);`;

describe('every variable hostile at once', () => {
  for (const [kind, value] of Object.entries(HOSTILE)) {
    it(`${kind}: the host's code and output are unchanged; one short line per bad variable`, () => {
      const env: Record<string, string | undefined> = {};
      for (const k of Object.keys(process.env)) if (k.startsWith('OTEL_') || k.startsWith('LEAK_AGENT_')) env[k] = undefined;
      for (const v of VARIABLES) env[v] = value;
      env.LEAK_AGENT_DIR = path.join(dir, kind.replace(/\W/g, '-'));
      const r = runNode({ args: ['-r', REPO, '-e', HOST], env, timeoutMs: 30_000 });
      expect(r.signal).toBeNull();
      expect(r.status).toBe(7);
      expect(r.stdout).toBe('host output\nhost done\n');
      // Every stderr line is an agent JSON line; the agent started with its defaults.
      const raw = r.stderr.split('\n').filter((l) => l !== '');
      const lines = jsonLines(r.stderr);
      expect(lines).toHaveLength(raw.length);
      expect(lines.find((l) => l.event === 'agent.started')).toMatchObject({ window: '30m' });
      const config = lines.filter((l) => l.event === 'agent.error' && l.where === 'config');
      const variables = config.map((l) => String(l.variable));
      expect(new Set(variables).size).toBe(variables.length);
      for (const l of config) {
        expect(VARIABLES).toContain(l.variable);
        expect(String(l.value).length).toBeLessThanOrEqual(200);
        expect(String(l.message).length).toBeLessThan(1_000);
        expect(String(l.expected)).not.toBe('');
      }
      // Nothing but the configuration complains: no crash, no stack, no other error.
      expect(lines.filter((l) => l.event === 'agent.error' && l.where !== 'config')).toEqual([]);
      for (const line of raw) expect(line.length).toBeLessThan(4_000);
    });
  }
});
