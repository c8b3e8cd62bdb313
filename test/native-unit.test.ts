/**
 * The addon's V8-free C++ (the GC record ring and its drain, GC phase pairing, the near-OOM
 * hand-off, the fd JSON writer) through its own unit-test binary, built here with the system C++
 * compiler; and the sampling-profiler hand-off between the near-OOM capture and the evidence stage
 * in the real addon on every Node version. scripts/native-sanitizers.sh runs the same under
 * AddressSanitizer and valgrind.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { childEnv, FIXTURES, nodeBinaries, ROOT, runJson } from './native-helpers';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leak-agent-unit-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('native unit tests (C++, no V8)', () => {
  it('build and pass', () => {
    const bin = path.join(tmp, 'unit_tests');
    execFileSync(process.env.CXX ?? 'g++', ['-std=c++17', '-Wall', '-Wextra', '-Werror', '-O1', '-g', '-o', bin, 'native/test/unit_tests.cc', 'native/gc_ring.cc'], { cwd: ROOT, stdio: 'pipe' });
    const r = spawnSync(bin, [], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\d+ checks, 0 failed$/m);
    expect(r.stdout).not.toMatch(/^FAIL/m);
  });
});

interface Handoff {
  armed: boolean;
  nearOomInterval: number;
  evidenceStarted: boolean;
  evidenceInterval: number;
  evidenceSamples: number;
  afterStopInterval: number;
  afterStopProfile: boolean;
  afterDisarmInterval: number;
  afterDisarmProfile: boolean;
  restarted: boolean;
  secondStart: boolean;
}

for (const node of nodeBinaries()) {
  describe(`sampling profiler hand-off on ${node.label}`, () => {
    it('the evidence profile takes over from the near-OOM sampling and hands it back', () => {
      const out = runJson<Handoff>(node.bin, [path.join(FIXTURES, 'profiler-handoff.js')], childEnv());
      expect(out).toMatchObject({
        armed: true,
        nearOomInterval: 512 * 1024, // arming starts low-rate sampling for the near-OOM profile
        evidenceStarted: true, // an episode's profile replaces it at its own rate
        evidenceInterval: 1024,
        afterStopInterval: 512 * 1024, // stopping the episode's profile restores near-OOM sampling
        afterStopProfile: true,
        afterDisarmInterval: 0, // disarming stops the sampling it started
        afterDisarmProfile: false,
        restarted: true,
        secondStart: false, // one sampling profiler per isolate
      });
      expect(out.evidenceSamples).toBeGreaterThan(100);
    });
  });
}
