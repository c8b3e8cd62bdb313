import { describe, expect, it } from 'vitest';
import { readConfig, DEFAULT_WINDOW_MS } from '../src/config/env';
import { parseDuration } from '../src/config/duration';

describe('parseDuration', () => {
  it('reads the units operators write', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('30m')).toBe(1_800_000);
    expect(parseDuration('6h')).toBe(21_600_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('45')).toBe(45_000);
  });
  it('rejects what is not a duration', () => {
    for (const bad of ['', 'soon', '-5s', '0s', '5 minutes', '1e3s']) expect(parseDuration(bad)).toBeUndefined();
  });
});

describe('readConfig', () => {
  it('has safe defaults with an empty environment', () => {
    const { config, problems } = readConfig({});
    expect(problems).toEqual([]);
    expect(config.enabled).toBe(true);
    expect(config.windowMs).toBe(DEFAULT_WINDOW_MS);
    expect(config.snapshots).toBe(true);
    expect(config.upload).toBeUndefined();
    expect(config.log).toEqual({ kind: 'stderr' });
    expect(config.native).toBe('auto');
    expect(Object.isFrozen(config)).toBe(true);
  });
  it('names the variable, the value and what was expected for each bad value, and keeps the default', () => {
    const { config, problems } = readConfig({
      LEAK_AGENT_ENABLED: 'maybe',
      LEAK_AGENT_WINDOW: '3s',
      LEAK_AGENT_SNAPSHOTS: 'sometimes',
      LEAK_AGENT_UPLOAD: 'ftp://x',
      LEAK_AGENT_NATIVE: 'turbo',
    });
    expect(problems.map((p) => p.variable)).toEqual([
      'LEAK_AGENT_ENABLED', 'LEAK_AGENT_SNAPSHOTS', 'LEAK_AGENT_WINDOW', 'LEAK_AGENT_UPLOAD', 'LEAK_AGENT_NATIVE',
    ]);
    const window = problems.find((p) => p.variable === 'LEAK_AGENT_WINDOW');
    expect(window).toMatchObject({ value: '3s', using: '30m' });
    expect(window?.expected).toMatch(/duration/);
    expect(config.enabled).toBe(true);
    expect(config.windowMs).toBe(DEFAULT_WINDOW_MS);
    expect(config.upload).toBeUndefined();
    expect(config.native).toBe('auto');
  });
  it('accepts every documented form', () => {
    const { config, problems } = readConfig({
      LEAK_AGENT_ENABLED: 'false',
      LEAK_AGENT_DIR: '/tmp/la',
      LEAK_AGENT_WINDOW: '60s',
      LEAK_AGENT_SNAPSHOTS: 'off',
      LEAK_AGENT_UPLOAD: 's3://bucket/prefix',
      LEAK_AGENT_LOG: '/tmp/la/agent.log',
      LEAK_AGENT_NATIVE: 'off',
    });
    expect(problems).toEqual([]);
    expect(config).toMatchObject({
      enabled: false, dir: '/tmp/la', windowMs: 60_000, snapshots: false, upload: 's3://bucket/prefix',
      log: { kind: 'file', path: '/tmp/la/agent.log' }, native: 'off',
    });
  });
});
