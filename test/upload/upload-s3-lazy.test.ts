/**
 * With S3 upload configured, the AWS SDK is loaded when the first object goes up, not at start:
 * a service that never has evidence to upload never pays for it.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/process';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leak-agent-s3-lazy-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// After the agent has started and ticked, list the packages loaded from node_modules.
const HOST = `
  setTimeout(() => {
    const names = new Set();
    for (const f of Object.keys(require.cache)) { const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(f); if (m) names.add(m[1]); }
    console.log(JSON.stringify({ status: require(${JSON.stringify(REPO)}).status(), loaded: [...names] }));
    process.exit(0);
  }, 1500);`;

describe('S3 upload configured, nothing to upload yet', () => {
  it('the agent runs with S3 as its upload target and no @aws-sdk or @smithy package is loaded', () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('LEAK_AGENT_') || k.startsWith('OTEL_') || k.startsWith('AWS_')) delete env[k];
    const r = spawnSync(process.execPath, ['-r', REPO, '-e', HOST], {
      env: { ...env, LEAK_AGENT_UPLOAD: 's3://evidence-bucket/svc', LEAK_AGENT_DIR: tmp, LEAK_AGENT_LOG: path.join(tmp, 'agent.log'), AWS_REGION: 'us-east-1' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { status: { running: boolean; upload: unknown }; loaded: string[] };
    expect(out.status.running).toBe(true);
    expect(JSON.stringify(out.status.upload ?? fs.readFileSync(path.join(tmp, 'agent.log'), 'utf8'))).toContain('s3://evidence-bucket');
    expect(out.loaded.filter((n) => n.startsWith('@aws-sdk/') || n.startsWith('@smithy/'))).toEqual([]);
  });
});
