/**
 * Runs the sampling heap profiler for the agent: starts it once (at the first `suspect` state, at
 * agent start, or at the alert), and turns its current live-allocation profile into the two files
 * of the evidence: `.heapprofile` (Chrome DevTools, Memory tab → Load) and `.pb.gz` (pprof).
 * The backend is pluggable: the in-process inspector by default, a native binding when present.
 */
import type { AgentLogger } from '../log/logger';
import type { HeapProfilerBackend, SamplingHeapProfile } from './heap-profile-types';
import { InspectorHeapProfiler } from './inspector-profiler';
import { profileToPprof } from './profile-to-pprof';

export class HeapProfilerSession {
  private state: 'idle' | 'starting' | 'running' | 'failed' | 'stopped' = 'idle';
  private starting: Promise<void> | undefined;
  private startedAt = 0;

  constructor(
    private readonly intervalBytes: number,
    private readonly logger: AgentLogger,
    private readonly backend: HeapProfilerBackend = new InspectorHeapProfiler(),
  ) {}

  get phase(): 'idle' | 'starting' | 'running' | 'failed' | 'stopped' {
    return this.state;
  }

  get running(): boolean {
    return this.state === 'running';
  }

  /** Starts sampling once; later calls wait for the same start. A failure is logged once, never thrown. */
  start(why: string): Promise<void> {
    if (this.state !== 'idle') return this.starting ?? Promise.resolve();
    this.state = 'starting';
    this.starting = this.backend.start(this.intervalBytes).then(
      () => {
        if (this.state !== 'starting') return; // stopped meanwhile
        this.state = 'running';
        this.startedAt = Date.now();
        this.logger.log('profile.started', { why, backend: this.backend.name, intervalBytes: this.intervalBytes });
      },
      (err: unknown) => {
        this.state = 'failed';
        this.logger.log('agent.error', { where: 'profile.start', backend: this.backend.name, message: (err as Error).message });
      },
    );
    return this.starting;
  }

  /** The live sampled allocations now, as `.heapprofile` JSON and gzipped pprof; undefined when not running. */
  async capture(): Promise<{ heapprofile: string; pprof: Buffer; samples: number; profile: SamplingHeapProfile } | undefined> {
    if (this.state === 'starting') await this.starting;
    if (this.state !== 'running') return undefined;
    const profile = await this.backend.profile();
    const now = Date.now();
    return {
      heapprofile: JSON.stringify(profile),
      pprof: profileToPprof(profile, { intervalBytes: this.intervalBytes, timeMs: now, durationMs: now - this.startedAt }),
      samples: profile.samples.length,
      profile,
    };
  }

  async stop(): Promise<void> {
    const was = this.state;
    this.state = 'stopped';
    if (was === 'running' || was === 'starting') {
      await this.starting;
      await this.backend.stop();
    }
  }
}
