import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../server/config.js';

describe('PROOF_OF_WORK', () => {
  it('is on unless switched off', () => {
    expect(loadConfig({}).proofOfWork).toBe(true);
    expect(loadConfig({ PROOF_OF_WORK: '' }).proofOfWork).toBe(true);
    expect(loadConfig({ PROOF_OF_WORK: '1' }).proofOfWork).toBe(true);
  });

  it('is off with 0 (benchmarks only)', () => {
    expect(loadConfig({ PROOF_OF_WORK: '0' }).proofOfWork).toBe(false);
    expect(loadConfig({ PROOF_OF_WORK: 'off' }).proofOfWork).toBe(false);
  });

  it('refuses anything else instead of guessing', () => {
    expect(() => loadConfig({ PROOF_OF_WORK: 'maybe' })).toThrow(ConfigError);
  });
});
