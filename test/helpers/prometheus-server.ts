/**
 * Debian's Prometheus server, started by the test itself on a free loopback port with a temp
 * config and storage directory and a 1 s scrape interval; stopped by its own pid.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export function prometheusBinary(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v prometheus'], { encoding: 'utf8' });
  const bin = found.stdout.trim();
  return found.status === 0 && bin !== '' ? bin : undefined;
}

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export class PrometheusServer {
  private proc: ChildProcess | undefined;
  private dir = '';
  port = 0;
  output = '';

  async start(bin: string, target: string): Promise<void> {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'la-prometheus-'));
    const config = path.join(this.dir, 'prometheus.yml');
    fs.writeFileSync(config, [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: leak-agent',
      '    static_configs:',
      `      - targets: ['${target}']`,
      '',
    ].join('\n'));
    this.port = await freePort();
    this.proc = spawn(bin, [
      `--config.file=${config}`,
      `--storage.tsdb.path=${path.join(this.dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${this.port}`,
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.proc.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
  }

  /** Instant PromQL query through the HTTP API; the `result` array (empty until scraped). */
  async query(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    try {
      const res = await fetch(`http://127.0.0.1:${this.port}/api/v1/query?query=${encodeURIComponent(promql)}`);
      if (!res.ok) return [];
      const body = (await res.json()) as { status: string; data?: { result?: { metric: Record<string, string>; value: [number, string] }[] } };
      return body.data?.result ?? [];
    } catch {
      return []; // not listening yet
    }
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    if (proc && proc.exitCode === null && proc.pid !== undefined) {
      const exited = new Promise((resolve) => proc.once('close', resolve));
      process.kill(proc.pid, 'SIGTERM');
      const timer = setTimeout(() => { if (proc.pid !== undefined && proc.exitCode === null) process.kill(proc.pid, 'SIGKILL'); }, 5_000);
      await exited;
      clearTimeout(timer);
    }
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
