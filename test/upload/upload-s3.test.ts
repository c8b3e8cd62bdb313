/**
 * The S3 sink against a real S3 protocol server (s3rver on loopback), driven through the real
 * agent → policy → uploader wiring in a child process; plus the bad-input cases.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { ROOT, buildPrivate, cleanup, killHosts, expectedKey, freePort, hostResult, readLog, spoolEntries, startHost, tmpDir, writeEpisode } from './helpers';

let build: string;
let s3rver: ChildProcess;
let endpoint: string;
let client: S3Client;
/** s3rver logs every request; the multipart part uploads show there as ?partNumber=N. */
let s3rverLog = '';
const BUCKET = 'evidence';

beforeAll(async () => {
  // The test's own S3 client would print the SDK's Node-20 support notice on every run.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const port = await freePort();
  endpoint = `http://127.0.0.1:${port}`;
  // Started directly (not through npx) so that its pid is the server's and we stop exactly it.
  s3rver = spawn(process.execPath, [path.join(ROOT, 'node_modules/s3rver/bin/s3rver.js'), '-d', tmpDir('s3rver'), '-a', '127.0.0.1', '-p', String(port), '--configure-bucket', BUCKET], { stdio: ['ignore', 'pipe', 'pipe'] });
  const ready = new Promise<void>((resolve, reject) => {
    s3rver.stdout?.on('data', (d: Buffer) => {
      s3rverLog += d.toString();
      if (s3rverLog.includes('listening')) resolve();
    });
    s3rver.stderr?.on('data', (d: Buffer) => (s3rverLog += d.toString()));
    s3rver.once('exit', (code) => reject(new Error(`s3rver exited with ${code}`)));
  });
  [build] = await Promise.all([buildPrivate(), ready]);
  client = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
});

afterAll(() => {
  killHosts();
  client?.destroy();
  if (s3rver?.pid) process.kill(s3rver.pid, 'SIGTERM');
  cleanup(build);
});

const s3Env = (dir: string, upload: string): Record<string, string> => ({
  LEAK_AGENT_DIR: dir, LEAK_AGENT_LOG: path.join(dir, 'agent.log'), LEAK_AGENT_UPLOAD: upload,
  AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_S3: endpoint,
  LEAK_AGENT_UPLOAD_PART_SIZE: '5MiB', LEAK_AGENT_UPLOAD_RETRY_BASE: '100ms', LEAK_AGENT_UPLOAD_RETRY_MAX: '1s',
  // Transport tests: the stand-in snapshots are not real ones (redaction: upload-redact.test.ts).
  LEAK_AGENT_REDACT: 'off',
});

async function getObject(key: string): Promise<Buffer> {
  const out = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
}

describe('S3 sink (s3rver)', () => {
  it('ships an episode: byte-identical after gunzip, multipart for the big file, documented keys, manifest last with URIs', async () => {
    const dir = tmpDir('s3-ok');
    const contents = writeEpisode(dir, 'ep-1', [
      { name: 'heap.heapsnapshot', kind: 'heapsnapshot', bytes: 3_000_000, content: 'text' },
      { name: 'profile.heapprofile', kind: 'heapprofile', bytes: 200_000, content: 'text' },
      // Incompressible and over two 5 MiB parts once gzipped: must go up as a 3-part multipart upload.
      { name: 'series.bin', kind: 'series', bytes: 11 * 1024 * 1024, content: 'random' },
    ]);
    const run = startHost(build, s3Env(dir, `s3://${BUCKET}/prod`), { verdicts: ['ep-1'], wait: true });
    const res = await run.done;
    expect(res.code, res.stderr).toBe(0);
    const pid = run.child.pid as number;
    console.info('s3 host event-loop delay (ms): max %d, p99 %d', hostResult(res.stdout).eventLoopMaxMs, hostResult(res.stdout).eventLoopP99Ms);

    const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'prod/' }));
    const keys = (listed.Contents ?? []).map((o) => o.Key).sort();
    const names = ['heap.heapsnapshot', 'manifest.json', 'profile.heapprofile', 'series.bin'];
    expect(keys).toEqual(names.map((n) => `prod/${expectedKey(pid, 'ep-1', n)}`).sort());

    for (const [name, data] of contents) {
      const body = gunzipSync(await getObject(`prod/${expectedKey(pid, 'ep-1', name)}`));
      expect(body.equals(data), name).toBe(true);
    }
    const big = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `prod/${expectedKey(pid, 'ep-1', 'series.bin')}` }));
    // s3rver answers multipart uploads with the whole object's MD5 (AWS would say md5-of-md5s-3);
    // that it went up in three parts shows in its request log.
    expect(big.ETag?.replace(/"/g, '')).toMatch(/^[0-9a-f]{32}(-3)?$/);
    const partPuts = s3rverLog.split('\n').filter((l) => l.includes('series.bin.gz') && /partNumber=\d/.test(l));
    expect(new Set(partPuts.map((l) => /partNumber=(\d+)/.exec(l)?.[1]))).toEqual(new Set(['1', '2', '3']));

    const log = readLog(path.join(dir, 'agent.log'));
    const done = log.filter((l) => l.event === 'upload.done');
    expect(done.map((l) => path.basename(String(l.source)))).toHaveLength(4);
    expect(path.basename(String(done[3]?.source))).toBe('manifest.json');
    const bigDone = done.find((l) => String(l.source).endsWith('series.bin'));
    expect(bigDone).toMatchObject({ bytes: 11 * 1024 * 1024 });
    expect(String(bigDone?.verified)).toMatch(/^multipart/);
    for (const l of done) {
      expect(l.uri).toMatch(/^s3:\/\/evidence\/prod\//);
      expect(typeof l.durationMs).toBe('number');
      expect(l.compressedBytes as number).toBeGreaterThan(0);
    }
    const snap = done.find((l) => String(l.source).endsWith('heap.heapsnapshot'));
    expect(snap?.compressedBytes as number).toBeLessThan((snap?.bytes as number) / 3); // JSON shrinks several fold

    // Local manifest and the uploaded one both list the final URIs.
    const uploaded = JSON.parse(gunzipSync(await getObject(`prod/${expectedKey(pid, 'ep-1', 'manifest.json')}`)).toString());
    const local = JSON.parse(fs.readFileSync(path.join(dir, 'episodes/ep-1/manifest.json'), 'utf8'));
    for (const m of [uploaded, local]) {
      for (const f of m.files) expect(f.uri).toBe(`s3://${BUCKET}/prod/${expectedKey(pid, 'ep-1', path.basename(f.path))}`);
    }
    expect(spoolEntries(dir)).toEqual([]);
    expect(fs.readdirSync(path.join(dir, 'spool')).filter((n) => n !== 'delivered')).toEqual([]); // only the delivery record is left
  });

  it('bad input: one clear log line each, and the artifacts stay in the spool', async () => {
    const cases: { name: string; upload: string; env?: Record<string, string>; expectLine: (log: ReturnType<typeof readLog>) => void }[] = [
      { name: 'malformed', upload: 's3://', expectLine: (log) => expectConfigLine(log, /names no bucket/) },
      { name: 'scheme', upload: 'ftp://files.example.com/evidence', expectLine: (log) => expectConfigLine(log, /unknown scheme "ftp:"/) },
      { name: 'nohost', upload: 'https://', expectLine: (log) => expectConfigLine(log, /well-formed URL|names no host/) },
      {
        name: 'nocreds', upload: `s3://${BUCKET}/x`,
        env: { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' },
        expectLine: (log) => expectFailedLine(log, /no AWS credentials found/),
      },
      { name: 'nobucket', upload: 's3://no-such-bucket/x', expectLine: (log) => expectFailedLine(log, /bucket "no-such-bucket" does not exist/) },
    ];
    await Promise.all(cases.map(async (c) => {
      const dir = tmpDir(`s3-bad-${c.name}`);
      writeEpisode(dir, 'ep-bad', [{ name: 'heap.heapsnapshot', kind: 'heapsnapshot', bytes: 100_000, content: 'text' }]);
      // HOME points at an empty folder so that no ~/.aws profile can supply credentials.
      const run = startHost(build, { ...s3Env(dir, c.upload), HOME: dir, ...(c.env ?? {}) }, { verdicts: ['ep-bad'], wait: true });
      const res = await run.done;
      expect(res.code, `${c.name}: ${res.stderr}`).toBe(0);
      c.expectLine(readLog(path.join(dir, 'agent.log')));
      // The snapshot and the manifest are both still recorded, ready for a process with a fixed config.
      expect(spoolEntries(dir), c.name).toHaveLength(2);
    }));
  });
});

function expectConfigLine(log: ReturnType<typeof readLog>, why: RegExp): void {
  const errors = log.filter((l) => l.event === 'agent.error');
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatchObject({ variable: 'LEAK_AGENT_UPLOAD' });
  expect(String(errors[0]?.message)).toMatch(why);
  expect(String(errors[0]?.message)).toMatch(/expected a URL of the form file:\/\/\/dir, s3:\/\/bucket\/prefix/);
  expect(log.filter((l) => l.event === 'upload.failed' || l.event === 'upload.done')).toEqual([]);
}

function expectFailedLine(log: ReturnType<typeof readLog>, why: RegExp): void {
  const failed = log.filter((l) => l.event === 'upload.failed');
  expect(failed).toHaveLength(1);
  expect(String(failed[0]?.reason)).toMatch(why);
  expect(failed[0]).toMatchObject({ willRetry: false, nextAttemptInMs: null });
  expect(log.filter((l) => l.event === 'agent.error' || l.event === 'upload.done')).toEqual([]);
}
