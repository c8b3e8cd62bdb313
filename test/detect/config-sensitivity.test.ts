import { describe, expect, it } from 'vitest';
import { readConfig } from '../../src/config/env';
import { thresholdsFor } from '../../src/detect/thresholds';

describe('LEAK_AGENT_SENSITIVITY', () => {
  it('defaults to normal', () => {
    expect(readConfig({}).config.sensitivity).toBe('normal');
  });
  it('accepts low, normal and high in any case', () => {
    expect(readConfig({ LEAK_AGENT_SENSITIVITY: 'LOW' }).config.sensitivity).toBe('low');
    expect(readConfig({ LEAK_AGENT_SENSITIVITY: ' high ' }).config.sensitivity).toBe('high');
  });
  it('names the variable, the value and what was expected for a bad value, and keeps normal', () => {
    const { config, problems } = readConfig({ LEAK_AGENT_SENSITIVITY: 'paranoid' });
    expect(config.sensitivity).toBe('normal');
    expect(problems).toEqual([{ variable: 'LEAK_AGENT_SENSITIVITY', value: 'paranoid', expected: 'low, normal or high', using: 'normal' }]);
  });
  it('orders the thresholds: high alerts on less evidence than normal, normal than low', () => {
    const [low, normal, high] = (['low', 'normal', 'high'] as const).map(thresholdsFor);
    expect(high!.alpha).toBeGreaterThan(normal!.alpha);
    expect(normal!.alpha).toBeGreaterThan(low!.alpha);
    expect(high!.persistence).toBeLessThan(normal!.persistence);
    expect(normal!.persistence).toBeLessThan(low!.persistence);
    expect(high!.minGrowthBytes.old_space).toBeLessThan(normal!.minGrowthBytes.old_space);
    expect(normal!.minGrowthBytes.old_space).toBeLessThan(low!.minGrowthBytes.old_space);
    expect(high!.minGrowthOfNoise).toBeLessThan(normal!.minGrowthOfNoise);
    expect(normal!.minGrowthOfNoise).toBeLessThan(low!.minGrowthOfNoise);
  });
});
