/** The pure parts of the upload stage: target parsing, options, key layout, backoff, URL building. */
import { describe, expect, it } from 'vitest';
import { readConfig } from '../../src/config/env';
import { backoffDelayMs } from '../../src/upload/backoff';
import { compactTime, objectKey, segment } from '../../src/upload/object-key';
import { DEFAULT_UPLOAD_OPTIONS, parseByteSize, readUploadOptions } from '../../src/upload/options';
import { objectUrl } from '../../src/upload/sinks/http-sink';
import { parseUploadHeaders, parseUploadTarget } from '../../src/upload/target';

describe('parseUploadTarget', () => {
  it('reads every documented form', () => {
    expect(parseUploadTarget('file:///var/evidence/')).toEqual({ ok: true, value: { kind: 'file', dir: '/var/evidence', display: 'file:///var/evidence' } });
    expect(parseUploadTarget('s3://my-bucket/leaks/prod/')).toEqual({ ok: true, value: { kind: 's3', bucket: 'my-bucket', prefix: 'leaks/prod', display: 's3://my-bucket/leaks/prod' } });
    expect(parseUploadTarget('s3://my-bucket')).toMatchObject({ ok: true, value: { bucket: 'my-bucket', prefix: '' } });
    expect(parseUploadTarget('https://collector.internal:8443/evidence?sig=secret')).toMatchObject({
      ok: true, value: { kind: 'http', url: 'https://collector.internal:8443/evidence?sig=secret', display: 'https://collector.internal:8443/evidence?…' },
    });
    expect(parseUploadTarget('http://signer/put/{key}?x=1')).toMatchObject({ ok: true, value: { url: 'http://signer/put/{key}?x=1' } });
  });
  it('says precisely what is wrong', () => {
    const problem = (raw: string): string => {
      const r = parseUploadTarget(raw);
      if (r.ok) throw new Error(`accepted ${raw}`);
      return r.problem;
    };
    expect(problem('ftp://host/x')).toBe('unknown scheme "ftp:"');
    expect(problem('bucket/prefix')).toBe('it has no scheme');
    expect(problem('s3://')).toBe('the s3 URL names no bucket');
    expect(problem('s3://Bad_Bucket/x')).toBe('"Bad_Bucket" is not a valid bucket name');
    expect(problem('s3://b..x/y')).toMatch(/not a valid bucket name/);
    expect(problem('https://')).toMatch(/well-formed URL|names no host/);
    expect(problem('http://[::1/x')).toBe('it is not a well-formed URL');
    expect(problem('file://host/dir')).toMatch(/three slashes/);
    expect(problem('file:///')).toBe('the file URL names no directory');
  });
});

describe('upload options', () => {
  it('parses headers and refuses broken ones without echoing the value', () => {
    expect(parseUploadHeaders('Authorization=Bearer a=b,X-Team=pay')).toEqual({ ok: true, value: { Authorization: 'Bearer a=b', 'X-Team': 'pay' } });
    expect(parseUploadHeaders('no equals sign').ok).toBe(false);
    const { problems } = readUploadOptions({ LEAK_AGENT_UPLOAD_HEADERS: 'Bad Name=secret' });
    expect(problems).toHaveLength(1);
    expect(problems[0]?.value).not.toContain('secret');
  });
  it('reads sizes, counts and durations; bad ones fall back with one problem each', () => {
    expect(parseByteSize('16MiB')).toBe(16 * 1024 * 1024);
    expect(parseByteSize('512k')).toBe(512 * 1024);
    expect(parseByteSize('2g')).toBe(2 * 1024 ** 3);
    expect(parseByteSize('lots')).toBeUndefined();
    const { options, problems } = readUploadOptions({
      LEAK_AGENT_UPLOAD: 's3://b-1/p', LEAK_AGENT_UPLOAD_PART_SIZE: '1MiB', LEAK_AGENT_UPLOAD_SPOOL_MAX_FILES: '0',
      LEAK_AGENT_UPLOAD_SPOOL_MAX_BYTES: '2GiB', LEAK_AGENT_UPLOAD_TIMEOUT: 'soon', LEAK_AGENT_UPLOAD_RETRY_BASE: '200ms',
    });
    expect(problems.map((p) => p.variable)).toEqual(['LEAK_AGENT_UPLOAD_PART_SIZE', 'LEAK_AGENT_UPLOAD_SPOOL_MAX_FILES', 'LEAK_AGENT_UPLOAD_TIMEOUT']);
    expect(options).toMatchObject({
      requested: true, target: { kind: 's3', bucket: 'b-1', prefix: 'p' }, partSizeBytes: DEFAULT_UPLOAD_OPTIONS.partSizeBytes,
      spoolMaxFiles: DEFAULT_UPLOAD_OPTIONS.spoolMaxFiles, spoolMaxBytes: 2 * 1024 ** 3, idleTimeoutMs: 60_000, retryBaseMs: 200,
    });
    expect(Object.isFrozen(options)).toBe(true);
  });
  it('reads the rate limit: a size per second, or off', () => {
    expect(readUploadOptions({}).options.maxBytesPerSec).toBe(32 * 1024 * 1024);
    expect(readUploadOptions({ LEAK_AGENT_UPLOAD_MAX_RATE: '8MiB/s' }).options.maxBytesPerSec).toBe(8 * 1024 * 1024);
    expect(readUploadOptions({ LEAK_AGENT_UPLOAD_MAX_RATE: 'off' }).options.maxBytesPerSec).toBe(0);
    const bad = readUploadOptions({ LEAK_AGENT_UPLOAD_MAX_RATE: 'fast' });
    expect(bad.problems.map((p) => p.variable)).toEqual(['LEAK_AGENT_UPLOAD_MAX_RATE']);
    expect(bad.options.maxBytesPerSec).toBe(32 * 1024 * 1024);
  });
  it('readConfig reports a bad LEAK_AGENT_UPLOAD once, with the reason, and still spools', () => {
    const { config, problems } = readConfig({ LEAK_AGENT_UPLOAD: 'gs://bucket/x' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ variable: 'LEAK_AGENT_UPLOAD', value: 'gs://bucket/x' });
    expect(problems[0]?.expected).toMatch(/unknown scheme "gs:"/);
    expect(config.upload).toBeUndefined();
    expect(config.uploadOptions.requested).toBe(true);
    expect(config.uploadOptions.target).toBeUndefined();
    expect(readConfig({}).config.uploadOptions.requested).toBe(false);
  });
});

describe('object keys', () => {
  it('follow the documented layout and stay URL- and store-safe', () => {
    const t = Date.parse('2026-11-25T10:04:05.678Z');
    expect(compactTime(t)).toBe('20261125T100405Z');
    expect(objectKey({ service: 'checkout', host: 'pod-7f9c', pid: 42 }, 'ep-1', t, 'heap.heapsnapshot'))
      .toBe('checkout/pod-7f9c/20261125T100405Z-42-ep-1/heap.heapsnapshot.gz');
    expect(objectKey({ service: '@acme/api gateway', host: '../etc', pid: 1 }, null, t, 'a b?.json'))
      .toBe('_acme_api_gateway/.._etc/20261125T100405Z-1-no-episode/a_b_.json.gz');
    expect(segment('..')).toBe('_');
  });
  it('HTTP object URLs append the key or fill {key}, keeping the query string', () => {
    expect(objectUrl('http://h:1/ingest?token=abc', 'svc/host/t-1-ep/f.gz')).toBe('http://h:1/ingest/svc/host/t-1-ep/f.gz?token=abc');
    expect(objectUrl('http://h/ingest/', 'a/b.gz')).toBe('http://h/ingest/a/b.gz');
    expect(objectUrl('http://signer/put/{key}?x=1', 'a/b.gz')).toBe('http://signer/put/a/b.gz?x=1');
  });
});

describe('backoffDelayMs', () => {
  it('is full jitter under an exponential ceiling, capped, never zero', () => {
    expect(backoffDelayMs(1, 1000, 300_000, () => 0.999)).toBe(999);
    expect(backoffDelayMs(4, 1000, 300_000, () => 0.5)).toBe(4000);
    expect(backoffDelayMs(40, 1000, 300_000, () => 0.999)).toBe(299_700);
    expect(backoffDelayMs(3, 1000, 300_000, () => 0)).toBe(50);
    for (let a = 1; a < 60; a += 1) {
      const d = backoffDelayMs(a, 100, 1000);
      expect(d).toBeGreaterThanOrEqual(50);
      expect(d).toBeLessThanOrEqual(1000);
    }
  });
});
