import { describe, expect, it } from 'vitest';
import { MAX_HEAP_BYTES, decideConfirmationGc } from '../src/policy/confirmation-gc';
import { runNode, REPO } from './helpers/process';

const base = { needsFullGc: true, now: 1_000_000, windowMs: 60_000, lastFullGcAt: 0, lastRequestAt: -Infinity, heapUsed: 50e6 };

describe('decideConfirmationGc', () => {
  it('collects when the detector asks and nothing recent confirmed the trend', () => {
    expect(decideConfirmationGc(base)).toEqual({ collect: true });
  });
  it('waits for the detector, for V8 and for its own rate limit (a quarter window, at least 10 s)', () => {
    expect(decideConfirmationGc({ ...base, needsFullGc: false })).toEqual({ collect: false, reason: 'not needed' });
    expect(decideConfirmationGc({ ...base, lastFullGcAt: base.now - 14_000 })).toEqual({ collect: false, reason: 'recent full GC' });
    expect(decideConfirmationGc({ ...base, lastRequestAt: base.now - 14_000 })).toEqual({ collect: false, reason: 'rate limit' });
    expect(decideConfirmationGc({ ...base, lastRequestAt: base.now - 16_000 })).toEqual({ collect: true });
    expect(decideConfirmationGc({ ...base, windowMs: 20_000, lastFullGcAt: base.now - 11_000 })).toEqual({ collect: true });
  });
  it('never forces a full GC on a heap too large for a short pause', () => {
    expect(decideConfirmationGc({ ...base, heapUsed: MAX_HEAP_BYTES + 1 })).toEqual({ collect: false, reason: 'heap too large' });
  });
});

describe('fullGcFunction in a real process', () => {
  it('runs a real mark-sweep-compact without exposing gc to the application', () => {
    const run = runNode({
      args: ['-e', `
        const { fullGcFunction } = require(${JSON.stringify(REPO + '/dist/policy/confirmation-gc.js')});
        const { PerformanceObserver, constants } = require('node:perf_hooks');
        const kinds = [];
        const obs = new PerformanceObserver((l) => { for (const e of l.getEntries()) kinds.push(e.detail.kind); });
        obs.observe({ entryTypes: ['gc'] });
        const gc = fullGcFunction();
        gc();
        setTimeout(() => {
          console.log(JSON.stringify({
            fn: typeof gc,
            major: kinds.includes(constants.NODE_PERFORMANCE_GC_MAJOR),
            globalGc: typeof globalThis.gc,
            contextGc: require('node:vm').runInNewContext('typeof gc'),
          }));
          obs.disconnect();
        }, 50);`],
    });
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ fn: 'function', major: true, globalGc: 'undefined', contextGc: 'undefined' });
  });
});
