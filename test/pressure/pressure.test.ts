import { describe, expect, it } from 'vitest';
import { CLEAR_AFTER, DEFAULT_THRESHOLDS, PressureMonitor, type PressureReading } from '../../src/pressure/pressure';
import { readConfig } from '../../src/config/env';
import { rng } from '../helpers/random';

const MiB = 1_048_576;
const LIMIT = 1_000 * MiB;

function reading(t: number, over: Partial<PressureReading> = {}): PressureReading {
  return {
    time: t * 1_000, heapUsed: 100 * MiB, heapLimit: LIMIT, containerUsage: null, containerLimit: null,
    fullGcs: 0, gcPauseMs: 0, growthBytesPerSec: null, timeToOomSec: null, ...over,
  };
}

describe('PressureMonitor', () => {
  it('is ok with nothing crossed, and its answer is the same object between readings', () => {
    const m = new PressureMonitor();
    expect(m.observe(reading(0))).toEqual([]);
    expect(m.health().status).toBe('ok');
    expect(m.health()).toBe(m.health());
  });

  it('crosses and clears heap use once each, with the figures', () => {
    const m = new PressureMonitor();
    const changes = [];
    const uses = [0.5, 0.7, 0.81, 0.85, 0.83, 0.79, 0.77, 0.7, 0.7, 0.7, 0.7];
    uses.forEach((u, i) => changes.push(...m.observe(reading(i, { heapUsed: u * LIMIT }))));
    const heap = changes.filter((c) => c.signal === 'heap');
    expect(heap.map((c) => c.active)).toEqual([true, false]);
    expect(heap[0]?.value).toBeCloseTo(0.81);
    expect(heap[0]?.figures.heapUse).toBeCloseTo(0.81);
    expect(m.health().status).toBe('ok');
  });

  it('does not flap when heap use wobbles around the threshold (noise of ±3 points for 1000 readings)', () => {
    const rand = rng(17);
    const m = new PressureMonitor();
    let crossings = 0;
    let clears = 0;
    for (let i = 0; i < 1_000; i++) {
      const u = 0.8 + (rand() - 0.5) * 0.06;
      for (const c of m.observe(reading(i, { heapUsed: u * LIMIT }))) if (c.signal === 'heap') (c.active ? crossings++ : clears++);
    }
    expect(crossings).toBe(1);
    expect(clears).toBe(0);
    expect(m.health().status).toBe('degraded');
    expect(m.health().reasons[0]).toMatch(/heap use .*threshold 80%/);
  });

  it(`clears only after ${CLEAR_AFTER} readings in a row under the clear level`, () => {
    const m = new PressureMonitor();
    m.observe(reading(0, { heapUsed: 0.9 * LIMIT }));
    const seq = [0.5, 0.5, 0.9, 0.5, 0.5];
    const cleared = seq.map((u, i) => m.observe(reading(i + 1, { heapUsed: u * LIMIT })).some((c) => c.signal === 'heap' && !c.active));
    expect(cleared).toEqual([false, false, false, false, false]);
    expect(m.observe(reading(9, { heapUsed: 0.5 * LIMIT })).some((c) => c.signal === 'heap' && !c.active)).toBe(true);
  });

  it('is degraded at 90% container use and critical at the hard threshold, then clears both', () => {
    const m = new PressureMonitor();
    const c = (u: number, t: number) => m.observe(reading(t, { containerUsage: u * LIMIT, containerLimit: LIMIT }));
    c(0.5, 0);
    expect(c(0.91, 1).map((x) => x.signal)).toEqual(['container']);
    expect(m.health().status).toBe('degraded');
    expect(c(0.98, 2).map((x) => x.signal)).toEqual(['critical']);
    expect(m.health().status).toBe('critical');
    expect(m.health().reasons[0]).toMatch(/^critical/);
    for (let t = 3; t < 3 + CLEAR_AFTER; t++) c(0.3, t);
    expect(m.health().status).toBe('ok');
  });

  it('turns time to OOM into degraded under the horizon and critical under the critical horizon', () => {
    const m = new PressureMonitor();
    m.observe(reading(0, { timeToOomSec: 2 * 3600, growthBytesPerSec: 10_000 }));
    expect(m.health().status).toBe('ok');
    m.observe(reading(1, { timeToOomSec: 30 * 60, growthBytesPerSec: 10_000 }));
    expect(m.health().status).toBe('degraded');
    expect(m.health().reasons.join()).toMatch(/out of memory in about 30 min/);
    m.observe(reading(2, { timeToOomSec: 60, growthBytesPerSec: 10_000 }));
    expect(m.health().status).toBe('critical');
    expect(m.health().figures.timeToOomSec).toBe(60);
  });

  it('reports growth in MB per hour against its threshold', () => {
    const m = new PressureMonitor();
    const changes = m.observe(reading(0, { growthBytesPerSec: 200e6 / 3600 }));
    expect(changes.map((c) => c.signal)).toEqual(['growth']);
    expect(changes[0]?.value).toBeCloseTo(200);
  });

  it('computes the full-GC rate and the GC time share over the last minute, unknown until 15 s of history', () => {
    const m = new PressureMonitor();
    // One full GC of 150 ms every second: 60 per minute, 15% of the time.
    const seen: string[] = [];
    for (let t = 0; t <= 20; t++) for (const c of m.observe(reading(t, { fullGcs: 1, gcPauseMs: 150 }))) seen.push(`${t}:${c.signal}`);
    expect(seen).toEqual(['15:full_gc_rate', '15:gc_time']);
    expect(m.health().figures.fullGcPerMinute).toBeGreaterThan(55);
    expect(m.health().figures.gcTimeShare).toBeCloseTo(0.15, 1);
    // Quiet again: the window empties and both clear once.
    for (let t = 21; t <= 120; t++) for (const c of m.observe(reading(t))) seen.push(`${c.signal}:${c.active}`);
    expect(seen.slice(2).sort()).toEqual(['full_gc_rate:false', 'gc_time:false']);
  });

  it('keeps its rate window bounded however many readings arrive', () => {
    const m = new PressureMonitor();
    for (let i = 0; i < 10_000; i++) m.observe({ ...reading(0), time: i, fullGcs: 1 });
    expect((m as unknown as { ticks: unknown[] }).ticks.length).toBeLessThanOrEqual(256);
  });
});

describe('pressure thresholds from the environment', () => {
  it('uses the defaults with an empty environment', () => {
    const { config, problems } = readConfig({});
    expect(problems).toEqual([]);
    expect(config.pressure.thresholds).toEqual(DEFAULT_THRESHOLDS);
    expect(config.pressure.healthPort).toBeUndefined();
    expect(config.pressure.healthHost).toBe('127.0.0.1');
  });

  it('reads percentages, rates, horizons and the endpoint', () => {
    const { config, problems } = readConfig({
      LEAK_AGENT_PRESSURE_HEAP: '70%', LEAK_AGENT_PRESSURE_CONTAINER: '85', LEAK_AGENT_PRESSURE_GROWTH: '50',
      LEAK_AGENT_PRESSURE_FULL_GC_RATE: '6', LEAK_AGENT_PRESSURE_GC_TIME: '5%', LEAK_AGENT_PRESSURE_OOM_HORIZON: '30m',
      LEAK_AGENT_CRITICAL_OOM_HORIZON: '2m', LEAK_AGENT_CRITICAL_HEAP: '90%', LEAK_AGENT_CRITICAL_CONTAINER: '95%',
      LEAK_AGENT_HEALTH_PORT: '9465',
    });
    expect(problems).toEqual([]);
    expect(config.pressure.thresholds).toEqual({
      heapUse: 0.7, containerUse: 0.85, growthMbPerHour: 50, fullGcPerMinute: 6, gcTimeShare: 0.05,
      oomHorizonMs: 1_800_000, criticalOomHorizonMs: 120_000, criticalHeapUse: 0.9, criticalContainerUse: 0.95,
    });
    expect(config.pressure.healthPort).toBe(9465);
  });

  it('names each bad value once, says what was expected and keeps the default', () => {
    const { config, problems } = readConfig({
      LEAK_AGENT_PRESSURE_HEAP: '180%', LEAK_AGENT_PRESSURE_CONTAINER: 'lots', LEAK_AGENT_PRESSURE_GROWTH: '-3',
      LEAK_AGENT_PRESSURE_FULL_GC_RATE: '0', LEAK_AGENT_PRESSURE_GC_TIME: '0.5.5', LEAK_AGENT_PRESSURE_OOM_HORIZON: 'soon',
      LEAK_AGENT_HEALTH_PORT: '70000',
    });
    expect(problems.map((p) => p.variable).sort()).toEqual([
      'LEAK_AGENT_HEALTH_PORT', 'LEAK_AGENT_PRESSURE_CONTAINER', 'LEAK_AGENT_PRESSURE_FULL_GC_RATE', 'LEAK_AGENT_PRESSURE_GC_TIME',
      'LEAK_AGENT_PRESSURE_GROWTH', 'LEAK_AGENT_PRESSURE_HEAP', 'LEAK_AGENT_PRESSURE_OOM_HORIZON',
    ]);
    const heap = problems.find((p) => p.variable === 'LEAK_AGENT_PRESSURE_HEAP');
    expect(heap).toMatchObject({ value: '180%', expected: 'a percentage from 1% to 99%, such as 80%', using: '80%' });
    expect(config.pressure.thresholds).toEqual(DEFAULT_THRESHOLDS);
    expect(config.pressure.healthPort).toBeUndefined();
  });

  it('refuses a critical threshold that is not harder than its degraded one', () => {
    const { config, problems } = readConfig({ LEAK_AGENT_PRESSURE_HEAP: '90%', LEAK_AGENT_CRITICAL_HEAP: '85%', LEAK_AGENT_CRITICAL_OOM_HORIZON: '2h' });
    expect(problems.map((p) => p.variable)).toEqual(['LEAK_AGENT_CRITICAL_HEAP', 'LEAK_AGENT_CRITICAL_OOM_HORIZON']);
    expect(config.pressure.thresholds.criticalHeapUse).toBeCloseTo(0.95);
    expect(config.pressure.thresholds.criticalOomHorizonMs).toBe(300_000);
  });
});
