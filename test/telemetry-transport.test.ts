/**
 * The agent's OTLP transport honours the standard OTLP settings the OpenTelemetry exporters read
 * themselves: gzip compression, and for https a CA certificate and a client certificate and key
 * (mutual TLS) — against a real receiver with a test CA made by openssl.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { killChild, startChild, type Child } from './helpers/child';
import { OtlpReceiver, waitFor } from './helpers/otlp-receiver';

let child: Child | undefined;
let r: OtlpReceiver | undefined;
afterEach(async () => {
  killChild(child);
  child = undefined;
  await r?.stop();
  r = undefined;
});

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'la-otlp-tls-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA. */
function testPki(): Record<'caCert' | 'serverKey' | 'serverCert' | 'clientKey' | 'clientCert', string> {
  const f = (n: string) => path.join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=leak-agent test CA');
  fs.writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  for (const who of ['server', 'client']) {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f(`${who}.key`), '-out', f(`${who}.csr`), '-subj', `/CN=${who}`);
    ssl('x509', '-req', '-in', f(`${who}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(`${who}.crt`), '-days', '2', '-extfile', f('san.ext'));
  }
  return { caCert: f('ca.crt'), serverKey: f('server.key'), serverCert: f('server.crt'), clientKey: f('client.key'), clientCert: f('client.crt') };
}

const HEAP = 'v8js.memory.heap.used';

describe('OTLP transport settings', () => {
  it('OTEL_EXPORTER_OTLP_COMPRESSION=gzip sends gzip bodies the receiver decodes', async () => {
    r = new OtlpReceiver();
    await r.start();
    child = startChild('retain-and-report.js', { OTEL_EXPORTER_OTLP_ENDPOINT: r.url, OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip', OTEL_METRIC_EXPORT_INTERVAL: '200' });
    await waitFor(() => (r!.named(HEAP).length > 0 ? true : undefined), 'gzip metrics');
    expect(r.requests.every((q) => q.contentEncoding === 'gzip')).toBe(true);
    child.send({ cmd: 'stop' });
    expect((await child.exited).code).toBe(0);
  });

  it('https with a private CA and a client certificate (mutual TLS): metrics arrive; without the CA, one clear failure line', async () => {
    const pki = testPki();
    const read = (p: string) => fs.readFileSync(p, 'utf8');
    r = new OtlpReceiver();
    await r.start(0, { key: read(pki.serverKey), cert: read(pki.serverCert), ca: read(pki.caCert), requestCert: true });
    child = startChild('retain-and-report.js', {
      OTEL_EXPORTER_OTLP_ENDPOINT: r.url,
      OTEL_EXPORTER_OTLP_CERTIFICATE: pki.caCert,
      OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: pki.clientCert,
      OTEL_EXPORTER_OTLP_CLIENT_KEY: pki.clientKey,
      OTEL_METRIC_EXPORT_INTERVAL: '200',
    });
    await waitFor(() => (r!.named(HEAP).length > 0 ? true : undefined), 'metrics over mutual TLS');
    child.send({ cmd: 'stop' });
    expect((await child.exited).code).toBe(0);
    expect(child.log.filter((l) => l.event === 'telemetry.export_failed')).toEqual([]);

    const untrusted = startChild('retain-and-report.js', { OTEL_EXPORTER_OTLP_ENDPOINT: r.url, OTEL_METRIC_EXPORT_INTERVAL: '200' });
    child = untrusted;
    const failed = await waitFor(() => untrusted.log.find((l) => l.event === 'telemetry.export_failed'), 'the failure line');
    expect(String(failed.message)).toMatch(/certificate/i);
    untrusted.send({ cmd: 'stop' });
    expect((await untrusted.exited).code).toBe(0);
  });

  it('a certificate file that cannot be read is one clear line naming the variable, and the host runs on', async () => {
    r = new OtlpReceiver();
    await r.start();
    child = startChild('retain-and-report.js', { OTEL_EXPORTER_OTLP_ENDPOINT: r.url.replace('http:', 'https:'), OTEL_EXPORTER_OTLP_CERTIFICATE: path.join(dir, 'missing.crt'), OTEL_METRIC_EXPORT_INTERVAL: '200' });
    const failed = await waitFor(() => child!.log.find((l) => l.event === 'telemetry.export_failed'), 'the failure line');
    expect(String(failed.message)).toMatch(/OTEL_EXPORTER_OTLP_CERTIFICATE.*missing\.crt/);
    child.send({ cmd: 'stop' });
    expect((await child.exited).code).toBe(0);
  });
});

describe('the OTLP poster', () => {
  it('never rejects: a header value Node refuses, a closed port and a closed poster are each a failure result', async () => {
    const { OtlpPoster } = await import('../src/telemetry/otlp-post');
    const body = new Uint8Array([1, 2, 3]);
    const badHeader = await new OtlpPoster({ url: 'http://127.0.0.1:9/v1/metrics', headers: { 'x-cost': '€' } }, 'application/x-protobuf').post(body, 500);
    expect(badHeader).toMatchObject({ ok: false, attempts: 1, retryable: false });
    const refused = await new OtlpPoster({ url: 'http://127.0.0.1:9/v1/metrics', headers: {} }, 'application/x-protobuf').post(body, 2_000);
    expect(refused).toMatchObject({ ok: false, retryable: true });
    expect(refused.attempts).toBeLessThanOrEqual(3);
    const closed = new OtlpPoster({ url: 'http://127.0.0.1:9/v1/metrics', headers: {} }, 'application/x-protobuf');
    closed.close();
    expect(await closed.post(body, 500)).toMatchObject({ ok: false, retryable: false });
  });
});
