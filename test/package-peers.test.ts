/**
 * The OpenTelemetry SDK and exporters and the AWS SDK are optional peers, loaded only by the
 * feature that needs them. In real child processes with a real leak:
 * - nothing configured (local evidence, a file:// upload): not one module of OpenTelemetry or of
 *   the AWS SDK is loaded, while pprof-format (always needed for the evidence) is;
 * - a copy of the package without the optional peers, with OTLP, Prometheus and S3 configured: one
 *   line for telemetry and one for upload name the missing packages and the install command, and
 *   detection and local evidence run as usual.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, startAgentChild, type AgentChild, type Line } from './helpers/agent-child';

const ROOT = path.resolve(__dirname, '..');
const TESTED = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies;
const SERVICE = path.join(ROOT, 'test', 'fixtures', 'package', 'service.cjs');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leak-agent-peers-'));
const children: AgentChild[] = [];
afterAll(() => {
  for (const c of children) c.kill();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A leaking service (~2 MB/s, a full GC every second) with a short window; snapshots off (not what this is about). */
function leakingService(agentModule: string, name: string, env: Record<string, string>): AgentChild {
  const child = startAgentChild(process.execPath, ['--expose-gc', '--max-old-space-size=512', SERVICE], tmp, cleanEnv({
    AGENT_MODULE: agentModule,
    LEAK_KB_PER_TICK: '100',
    LEAK_AGENT_DIR: path.join(tmp, name, 'evidence'),
    LEAK_AGENT_WINDOW: '10s',
    LEAK_AGENT_SNAPSHOTS: 'off',
    ...env,
  }));
  children.push(child);
  return child;
}

const BUNDLED_API = path.join(ROOT, 'test', 'fixtures', 'package', 'bundled-otel-api.cjs');

const isOptionalSdk = (name: string) => /^@opentelemetry\/|^@aws-sdk\/|^@smithy\//.test(name);

/** A copy of the package as a bare install has it: its files and its one hard dependency, no peers. */
function bareCopy(): string {
  const pkg = path.join(tmp, 'bare', 'node_modules', 'leak-agent');
  fs.mkdirSync(path.join(pkg, 'node_modules'), { recursive: true });
  fs.cpSync(path.join(ROOT, 'dist'), path.join(pkg, 'dist'), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(pkg, 'package.json'));
  fs.symlinkSync(path.join(ROOT, 'prebuilds'), path.join(pkg, 'prebuilds'));
  fs.symlinkSync(path.join(ROOT, 'node_modules', 'pprof-format'), path.join(pkg, 'node_modules', 'pprof-format'));
  return pkg;
}

describe('optional peers', () => {
  let plain: { child: AgentChild; report: Line };
  let bare: { child: AgentChild; report: Line };

  beforeAll(async () => {
    const run = async (child: AgentChild, waitFor: string[]) => {
      for (const event of waitFor) await child.until((l) => l.event === event, event, 90_000);
      return { child, report: await child.stop() };
    };
    // Both at once: each waits for its own leak verdict.
    [plain, bare] = await Promise.all([
      run(leakingService(ROOT, 'plain', { LEAK_AGENT_UPLOAD: `file://${path.join(tmp, 'plain', 'store')}` }), ['leak.detected', 'profile.written', 'upload.done']),
      run(leakingService(bareCopy(), 'bare', {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
        LEAK_AGENT_PROMETHEUS: '127.0.0.1:19464',
        LEAK_AGENT_UPLOAD: 's3://evidence-bucket/service',
      }), ['leak.detected', 'profile.written']),
    ]);
  }, 120_000);

  it('with nothing configured, a leak episode with its evidence uploaded to file:// loads no OpenTelemetry or AWS SDK module', () => {
    const loaded = plain.report.loaded as string[];
    expect(loaded, 'the check sees lazily loaded packages: the pprof conversion loaded pprof-format').toContain('pprof-format');
    expect(loaded.filter(isOptionalSdk)).toEqual([]);
    expect(plain.child.log.filter((l) => l.event === 'agent.error')).toEqual([]);
  });

  it('without the optional peers, one line per feature names the missing packages and the install command', () => {
    const errors = bare.child.log.filter((l) => l.event === 'agent.error');
    expect(errors, JSON.stringify(errors)).toHaveLength(2);

    const telemetry = errors.find((l) => l.where === 'telemetry') as Line;
    expect(telemetry.missing).toEqual(expect.arrayContaining([
      '@opentelemetry/api', '@opentelemetry/sdk-metrics', '@opentelemetry/resources', '@opentelemetry/exporter-metrics-otlp-proto',
      '@opentelemetry/exporter-prometheus', '@opentelemetry/sdk-logs', '@opentelemetry/api-logs', '@opentelemetry/exporter-logs-otlp-proto',
    ]));
    const install = String(telemetry.install);
    // The versions this release is tested with (its devDependencies), each package named once.
    expect(install).toBe(`npm install ${(telemetry.missing as string[]).map((name) => `${name}@${TESTED[name]}`).join(' ')}`);
    expect(String(telemetry.message)).toContain(install);

    const upload = errors.find((l) => l.where === 'upload') as Line;
    expect(upload).toMatchObject({ missing: ['@aws-sdk/client-s3'], install: `npm install @aws-sdk/client-s3@${TESTED['@aws-sdk/client-s3']}`, target: 's3://evidence-bucket/service' });
    expect(bare.child.log.filter((l) => l.event === 'upload.failed')).toEqual([]);
  });

  it('an application provider registered through an API copy the agent cannot load: one line naming the API package', async () => {
    const pkg = path.join(tmp, 'bare', 'node_modules', 'leak-agent');
    const child = startAgentChild(process.execPath, ['-r', BUNDLED_API, SERVICE], tmp, cleanEnv({ AGENT_MODULE: pkg, LEAK_AGENT_DIR: path.join(tmp, 'bundled', 'evidence') }));
    children.push(child);
    const line = await child.until((l) => l.event === 'agent.error' && l.where === 'telemetry', 'the missing-API line', 30_000);
    // Several more ticks: the line is not repeated, nothing else goes wrong.
    await new Promise((r) => setTimeout(r, 3_000));
    const report = await child.stop();
    expect(line).toMatchObject({ missing: ['@opentelemetry/api'], install: `npm install @opentelemetry/api@${TESTED['@opentelemetry/api']}` });
    expect(child.log.filter((l) => l.event === 'agent.error')).toHaveLength(2); // the MeterProvider's and the LoggerProvider's
    expect(child.log.filter((l) => l.event === 'agent.error').map((l) => l.missing)).toEqual([['@opentelemetry/api'], ['@opentelemetry/api-logs']]);
    expect(report.status).toMatchObject({ running: false, sampler: 'native' });
  }, 60_000);

  it('without the optional peers, detection and local evidence run and nothing of the SDKs is loaded', () => {
    const leak = bare.child.log.find((l) => l.event === 'leak.detected') as Line;
    expect(leak.memory).toBe('old_space');
    const profile = bare.child.log.find((l) => l.event === 'profile.written') as Line;
    expect(fs.existsSync(String(profile.path))).toBe(true);
    expect(fs.existsSync(String(profile.pprofPath))).toBe(true);
    expect(bare.report.status).toMatchObject({ sampler: 'native' });
    expect((bare.report.loaded as string[]).filter(isOptionalSdk)).toEqual([]);
    expect(bare.child.log.some((l) => l.event === 'telemetry.started')).toBe(false);
  });
});
