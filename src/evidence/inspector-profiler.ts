/**
 * Sampling heap profiler through an in-process `node:inspector` session
 * (`HeapProfiler.startSampling` / `getSamplingProfile` / `stopSampling`). Works without the native
 * addon and without opening the inspector port: an in-process session talks to V8 directly.
 *
 * `node:inspector` is required lazily: a process that never profiles never loads it, and a Node
 * built without the inspector makes `start()` reject with a clear message instead of failing to load.
 */
import type { Session } from 'node:inspector';
import type { HeapProfilerBackend, SamplingHeapProfile } from './heap-profile-types';

export class InspectorHeapProfiler implements HeapProfilerBackend {
  readonly name = 'inspector';
  private session: Session | undefined;

  async start(intervalBytes: number): Promise<void> {
    if (this.session) return;
    let inspector: typeof import('node:inspector');
    try {
      inspector = require('node:inspector') as typeof import('node:inspector');
    } catch (err) {
      throw new Error(`node:inspector is not available in this Node build: ${(err as Error).message}`);
    }
    const session = new inspector.Session();
    session.connect();
    try {
      // Collected objects are left out (the protocol's default): the profile shows what is still held.
      await post(session, 'HeapProfiler.startSampling', { samplingInterval: intervalBytes });
    } catch (err) {
      session.disconnect();
      throw err;
    }
    this.session = session;
  }

  async profile(): Promise<SamplingHeapProfile> {
    if (!this.session) throw new Error('the sampling heap profiler is not running');
    const result = (await post(this.session, 'HeapProfiler.getSamplingProfile')) as { profile: SamplingHeapProfile };
    return result.profile;
  }

  async stop(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (!session) return;
    try {
      await post(session, 'HeapProfiler.stopSampling');
    } catch {
      /* already stopped (e.g. another session stopped it); disconnecting is what matters */
    }
    try {
      session.disconnect();
    } catch {
      /* already disconnected */
    }
  }
}

function post(session: Session, method: string, params?: object): Promise<unknown> {
  return new Promise((resolve, reject) => {
    session.post(method, params ?? {}, (err, result) => (err ? reject(new Error(`${method}: ${err.message}`)) : resolve(result)));
  });
}
