/**
 * Secrets in the configuration (URL userinfo, query strings, header values) never reach the agent
 * log, status() or the telemetry resource — also when the value is malformed and reported as a
 * problem, and when an export to the endpoint fails.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { redactConfigValue, redactDeep, redactSecrets } from '../src/log/redact-secrets';
import { jsonLines, REPO, runNode } from './helpers/process';

const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'la-secrets-'));
afterAll(() => fs.rmSync(DIR, { recursive: true, force: true }));

const SECRETS = ['S3cretPass', 'Q7tok', 'HdrTok1', 'OtlpHdr2', 'OtlpPass3', 'OtlpKey4', 'ResPass5'];

function cleanEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const k of Object.keys(process.env)) if (k.startsWith('OTEL_') || k.startsWith('LEAK_AGENT_')) env[k] = undefined;
  return env;
}

/** Runs a host that prints status() after the agent has bound telemetry and tried an export. */
function run(env: Record<string, string>) {
  const script = `setTimeout(() => { console.log(JSON.stringify(require(${JSON.stringify(REPO)}).status())); }, 2000);`;
  return runNode({
    args: ['-r', REPO, '-e', script],
    env: { ...cleanEnv(), LEAK_AGENT_DIR: DIR, OTEL_METRIC_EXPORT_INTERVAL: '200', ...env },
    timeoutMs: 30_000,
  });
}

function expectNoSecret(text: string): void {
  for (const s of SECRETS) expect(text, `"${s}" leaked`).not.toContain(s);
}

describe('secrets in the configuration', () => {
  it('a valid upload URL with userinfo and a token, bad header lists and an OTLP endpoint with credentials: nothing leaks', () => {
    const r = run({
      LEAK_AGENT_UPLOAD: 'https://alice:S3cretPass@uploads.invalid/up?token=Q7tok',
      LEAK_AGENT_UPLOAD_HEADERS: 'Authorization: Bearer HdrTok1',
      OTEL_EXPORTER_OTLP_HEADERS: 'api-key: OtlpHdr2',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://bob:OtlpPass3@127.0.0.1:9/?api_key=OtlpKey4',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.url=https://carol:ResPass5@deploy.invalid/',
    });
    expect(r.status).toBe(0);
    const lines = jsonLines(r.stderr);
    const events = lines.map((l) => l.event);
    expect(events).toContain('agent.started');
    expect(events).toContain('telemetry.started');
    expect(events).toContain('telemetry.export_failed');
    // Each bad header list is still reported, by name, with what was expected.
    const problems = lines.filter((l) => l.event === 'agent.error').map((l) => l.variable);
    expect(problems).toEqual(expect.arrayContaining(['LEAK_AGENT_UPLOAD_HEADERS', 'OTEL_EXPORTER_OTLP_HEADERS']));
    const started = lines.find((l) => l.event === 'agent.started')!;
    expect(String(started.upload)).toContain('uploads.invalid/up');
    expectNoSecret(r.stderr);
    expectNoSecret(r.stdout);
    const status = JSON.parse(r.stdout.trim()) as { telemetry: { metrics: string[] } };
    expect(status.telemetry.metrics.join(' ')).toContain('127.0.0.1:9');
  });

  it('an invalid upload URL is reported without its password', () => {
    const r = run({ LEAK_AGENT_UPLOAD: 'https://alice:S3cretPass@/up?token=Q7tok' });
    expect(r.status).toBe(0);
    const error = jsonLines(r.stderr).find((l) => l.event === 'agent.error' && l.variable === 'LEAK_AGENT_UPLOAD');
    expect(error).toBeDefined();
    expectNoSecret(r.stderr);
  });

  it('an OTLP endpoint with a query string keeps it on the URL the exporter posts to', () => {
    const r = run({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9/base/?api_key=OtlpKey4' });
    const started = jsonLines(r.stderr).find((l) => l.event === 'telemetry.started')!;
    expect(started.metrics).toEqual(['otlp http/protobuf http://127.0.0.1:9/base/v1/metrics?api_key=***']);
  });
});

describe('the redaction function', () => {
  it('hides URL userinfo, query values and fragments, in URLs and in free text', () => {
    expect(redactSecrets('https://alice:S3cretPass@host/up?token=Q7tok&x=1#frag')).toBe('https://***@host/up?token=***&x=***#***');
    expect(redactSecrets('cannot reach http://u:p@h:4318/v1/logs: ECONNREFUSED')).toBe('cannot reach http://***@h:4318/v1/logs: ECONNREFUSED');
    expect(redactSecrets('alice:S3cretPass@host/up')).toBe('***@host/up');
    expect(redactSecrets('file:///var/lib/leak-agent and s3://bucket/prefix')).toBe('file:///var/lib/leak-agent and s3://bucket/prefix');
    expect(redactSecrets('/tmp/leak-agent/episode-1/heap-1.heapsnapshot')).toBe('/tmp/leak-agent/episode-1/heap-1.heapsnapshot');
  });

  it('shows header names only', () => {
    expect(redactConfigValue('OTEL_EXPORTER_OTLP_HEADERS', 'api-key=OtlpHdr2,x-team=payments')).toBe('api-key=***,x-team=***');
    expect(redactConfigValue('LEAK_AGENT_UPLOAD_HEADERS', 'Authorization: Bearer HdrTok1')).toBe('***');
    expect(redactConfigValue('LEAK_AGENT_WINDOW', '99d')).toBe('99d');
  });

  it('walks objects and arrays, leaving numbers and booleans alone', () => {
    expect(redactDeep({ a: ['http://u:p@h/?k=v'], b: 3, c: { d: true, e: 'plain' } })).toEqual({ a: ['http://***@h/?k=***'], b: 3, c: { d: true, e: 'plain' } });
  });
});
