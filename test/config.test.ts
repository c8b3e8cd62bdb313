import { describe, expect, it } from 'vitest';
import { readConfig, DEFAULT_WINDOW_MS } from '../src/config/env';
import { parseDuration } from '../src/config/duration';

describe('parseDuration', () => {
  it('reads the units operators write', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('30m')).toBe(1_800_000);
    expect(parseDuration('6h')).toBe(21_600_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('45')).toBe(45_000);
  });
  it('rejects what is not a duration', () => {
    for (const bad of ['', 'soon', '-5s', '0s', '5 minutes', '1e3s']) expect(parseDuration(bad)).toBeUndefined();
  });
});

describe('readConfig', () => {
  it('has safe defaults with an empty environment', () => {
    const { config, problems } = readConfig({});
    expect(problems).toEqual([]);
    expect(config.enabled).toBe(true);
    expect(config.windowMs).toBe(DEFAULT_WINDOW_MS);
    expect(config.snapshots).toBe(true);
    expect(config.upload).toBeUndefined();
    expect(config.log).toEqual({ kind: 'stderr' });
    expect(config.native).toBe('auto');
    expect(Object.isFrozen(config)).toBe(true);
  });
  it('names the variable, the value and what was expected for each bad value, and keeps the default', () => {
    const { config, problems } = readConfig({
      LEAK_AGENT_ENABLED: 'maybe',
      LEAK_AGENT_WINDOW: '3s',
      LEAK_AGENT_SNAPSHOTS: 'sometimes',
      LEAK_AGENT_UPLOAD: 'ftp://x',
      LEAK_AGENT_NATIVE: 'turbo',
    });
    expect(problems.map((p) => p.variable)).toEqual([
      'LEAK_AGENT_ENABLED', 'LEAK_AGENT_SNAPSHOTS', 'LEAK_AGENT_WINDOW', 'LEAK_AGENT_UPLOAD', 'LEAK_AGENT_NATIVE',
    ]);
    const window = problems.find((p) => p.variable === 'LEAK_AGENT_WINDOW');
    expect(window).toMatchObject({ value: '3s', using: '30m' });
    expect(window?.expected).toMatch(/duration/);
    expect(config.enabled).toBe(true);
    expect(config.windowMs).toBe(DEFAULT_WINDOW_MS);
    expect(config.upload).toBeUndefined();
    expect(config.native).toBe('auto');
  });
  it('accepts every documented form', () => {
    const { config, problems } = readConfig({
      LEAK_AGENT_ENABLED: 'false',
      LEAK_AGENT_DIR: '/tmp/la',
      LEAK_AGENT_WINDOW: '60s',
      LEAK_AGENT_SNAPSHOTS: 'off',
      LEAK_AGENT_UPLOAD: 's3://bucket/prefix',
      LEAK_AGENT_LOG: '/tmp/la/agent.log',
      LEAK_AGENT_NATIVE: 'off',
    });
    expect(problems).toEqual([]);
    expect(config).toMatchObject({
      enabled: false, dir: '/tmp/la', windowMs: 60_000, snapshots: false, upload: 's3://bucket/prefix',
      log: { kind: 'file', path: '/tmp/la/agent.log' }, native: 'off',
    });
  });
});

/** Every variable the agent reads, with a value it accepts. */
const VARIABLES: Record<string, string> = {
  LEAK_AGENT_ENABLED: 'true', LEAK_AGENT_DIR: '/tmp/la', LEAK_AGENT_WINDOW: '30m', LEAK_AGENT_SNAPSHOTS: 'on',
  LEAK_AGENT_UPLOAD: 's3://bucket/prefix', LEAK_AGENT_LOG: 'stderr', LEAK_AGENT_NATIVE: 'auto', LEAK_AGENT_SENSITIVITY: 'normal',
  LEAK_AGENT_NEAR_OOM: 'on', LEAK_AGENT_CONFIRM_GC: 'on', LEAK_AGENT_PROFILE: 'suspect', LEAK_AGENT_PROFILE_INTERVAL: '512KiB',
  LEAK_AGENT_SNAPSHOT_COOLDOWN: '10m', LEAK_AGENT_SNAPSHOTS_PER_PROCESS: '4', LEAK_AGENT_SNAPSHOTS_PER_DAY: '6',
  LEAK_AGENT_DISK_BUDGET: '2GiB', LEAK_AGENT_SNAPSHOT_PAIR: '+25%', LEAK_AGENT_SIGNAL: 'SIGUSR2',
  LEAK_AGENT_UPLOAD_HEADERS: 'X-Team=payments', LEAK_AGENT_UPLOAD_PART_SIZE: '16MiB', LEAK_AGENT_UPLOAD_SPOOL_MAX_FILES: '256',
  LEAK_AGENT_UPLOAD_SPOOL_MAX_BYTES: '8GiB', LEAK_AGENT_UPLOAD_TIMEOUT: '60s', LEAK_AGENT_UPLOAD_RETRY_BASE: '1s',
  LEAK_AGENT_UPLOAD_RETRY_MAX: '5m', LEAK_AGENT_UPLOAD_MAX_RATE: '32MiB/s', LEAK_AGENT_PROMETHEUS: '9464',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://c:4318/v1/metrics',
  OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://c:4318/v1/logs', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
  OTEL_EXPORTER_OTLP_HEADERS: 'k=v', OTEL_EXPORTER_OTLP_TIMEOUT: '10000', OTEL_METRIC_EXPORT_INTERVAL: '60000',
  OTEL_METRIC_EXPORT_TIMEOUT: '30000', OTEL_RESOURCE_ATTRIBUTES: 'a=b', OTEL_SDK_DISABLED: 'false', OTEL_SERVICE_NAME: 'svc',
  OTEL_METRICS_EXPORTER: 'otlp', OTEL_LOGS_EXPORTER: 'otlp',
};

/** Values no setting accepts: malformed, out of range, huge, unknown units, hostile. */
const HOSTILE = [
  'x', '-1', '1e400', 'NaN', 'Infinity', '0x10', '99999999999999999999d', '9'.repeat(5000), '10 parsecs', '5 furlongs',
  '../../../../etc/passwd', '30m\u0000', '\u001b[31mred\u001b[0m', '30m\u0007', 'on\nLEAK_AGENT_ENABLED=false', '%00', '"quoted"',
];

describe('bounds: absurd values never pass', () => {
  it('a window of 99999999999999999999d is refused with one line naming the range', () => {
    const { config, problems } = readConfig({ LEAK_AGENT_WINDOW: '99999999999999999999d' });
    expect(config.windowMs).toBe(DEFAULT_WINDOW_MS);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ variable: 'LEAK_AGENT_WINDOW', using: '30m' });
    expect(problems[0]!.expected).toMatch(/from 10s to 7d/);
  });

  it('every duration, size and count just above its bound is refused', () => {
    const above: Record<string, string> = {
      LEAK_AGENT_WINDOW: '8d', LEAK_AGENT_SNAPSHOT_COOLDOWN: '8d', LEAK_AGENT_PROFILE_INTERVAL: '65MiB',
      LEAK_AGENT_SNAPSHOTS_PER_PROCESS: '1001', LEAK_AGENT_SNAPSHOTS_PER_DAY: '1001', LEAK_AGENT_DISK_BUDGET: '2TiB',
      LEAK_AGENT_SNAPSHOT_PAIR: '+1001%', LEAK_AGENT_UPLOAD_PART_SIZE: '6GiB', LEAK_AGENT_UPLOAD_SPOOL_MAX_FILES: '100001',
      LEAK_AGENT_UPLOAD_SPOOL_MAX_BYTES: '2TiB', LEAK_AGENT_UPLOAD_TIMEOUT: '2h', LEAK_AGENT_UPLOAD_RETRY_BASE: '2h',
      LEAK_AGENT_UPLOAD_RETRY_MAX: '2d', LEAK_AGENT_UPLOAD_MAX_RATE: '65GiB/s', LEAK_AGENT_PROMETHEUS: '65536',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_TIMEOUT: '600001', OTEL_METRIC_EXPORT_INTERVAL: '86400001',
      OTEL_METRIC_EXPORT_TIMEOUT: '600001',
    };
    const { problems } = readConfig(above);
    const expected = Object.keys(above).filter((k) => k !== 'OTEL_EXPORTER_OTLP_ENDPOINT');
    expect(problems.map((p) => p.variable).sort()).toEqual(expected.sort());
  });

  it('MB is 10^6 bytes and MiB (or Mi, or M) 2^20, for every size setting', () => {
    const { config, problems } = readConfig({ LEAK_AGENT_DISK_BUDGET: '100MB', LEAK_AGENT_UPLOAD_PART_SIZE: '16MiB', LEAK_AGENT_UPLOAD_SPOOL_MAX_BYTES: '64Mi', LEAK_AGENT_UPLOAD_MAX_RATE: '8M/s' });
    expect(problems).toEqual([]);
    expect(config.evidence.diskBudgetBytes).toBe(100e6);
    expect(config.uploadOptions.partSizeBytes).toBe(16 * 2 ** 20);
    expect(config.uploadOptions.spoolMaxBytes).toBe(64 * 2 ** 20);
    expect(config.uploadOptions.maxBytesPerSec).toBe(8 * 2 ** 20);
  });
});

describe('hostile values', () => {
  it('every variable accepts its documented value', () => {
    expect(readConfig(VARIABLES).problems).toEqual([]);
  });

  for (const variable of Object.keys(VARIABLES)) {
    it(`${variable}: empty is the default; each hostile value is one problem, shown short, and the default is used`, () => {
      const defaults = readConfig({}).config;
      expect(readConfig({ [variable]: '' }).problems).toEqual([]);
      expect(readConfig({ [variable]: '   ' }).problems).toEqual([]);
      for (const value of HOSTILE) {
        const env = { [variable]: value };
        // The endpoint-dependent settings only matter when an endpoint is set.
        if (variable.startsWith('OTEL_') && !variable.includes('ENDPOINT')) env.OTEL_EXPORTER_OTLP_ENDPOINT = 'http://c:4318';
        let result: ReturnType<typeof readConfig> | undefined;
        expect(() => { result = readConfig(env); }, JSON.stringify(value)).not.toThrow();
        const { config, problems } = result!;
        // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES-like free text accept printable junk; the rest refuse it.
        const mine = problems.filter((p) => p.variable === variable);
        expect(mine.length, `${variable}=${JSON.stringify(value)}`).toBeLessThanOrEqual(1);
        if (mine.length === 0) {
          expect(FREE_TEXT.has(variable) || ACCEPTS.get(variable)?.(value), `${variable}=${JSON.stringify(value)} was accepted`).toBeTruthy();
          continue;
        }
        const p = mine[0]!;
        expect(p.value.length).toBeLessThanOrEqual(200);
        expect(p.expected.length).toBeGreaterThan(0);
        expect(p.using.length).toBeGreaterThan(0);
        expect(config.windowMs).toBe(defaults.windowMs);
        expect(config.dir).toBe(defaults.dir);
      }
    });
  }
});

/** Variables whose value is free text by specification. */
const FREE_TEXT = new Set(['OTEL_SERVICE_NAME']);
/** Hostile-looking values a variable legitimately accepts. */
const ACCEPTS = new Map<string, (v: string) => boolean>([
  // A file path may contain quotes or percent signs; `..` and control characters are refused.
  ['LEAK_AGENT_DIR', (v) => !v.includes('..') && !/[\u0000-\u001f]/.test(v)],
  ['LEAK_AGENT_LOG', (v) => !v.includes('..') && !/[\u0000-\u001f]/.test(v)],
  // Header values and resource attribute values are free text once the pair is well formed.
  ['OTEL_EXPORTER_OTLP_HEADERS', () => false],
]);
