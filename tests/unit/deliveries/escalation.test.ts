import { describe, expect, it } from 'vitest';
import {
  dueAt,
  firstTier,
  inTiers,
  nextTier,
  parseTier,
  reachedTier,
  roundsThatReached,
  tiersOfNextRound,
  tiersOfRound,
} from '../../../server/deliveries/escalation.js';
import { escalationValues, parseEscalation } from '../../../server/deliveries/escalation-input.js';

describe('escalation rules', () => {
  it('is due the schedule’s days after the tier was reached', () => {
    expect(dueAt(new Date('2026-11-23T10:00:00.000Z'), 14)).toEqual(new Date('2026-12-07T10:00:00.000Z'));
  });

  it('goes to the next tier that has recipients, skipping an empty one', () => {
    expect(nextTier(1, [1, 2, 3])).toBe(2);
    expect(nextTier(1, [1, 3, 3])).toBe(3);
    expect(nextTier(2, [1, 2])).toBeNull();
    expect(nextTier(3, [1, 2, 3])).toBeNull();
  });

  it('sends the first round to tier 1 and later ones to every tier reached, never beyond', () => {
    expect(reachedTier([])).toBe(0);
    expect(tiersOfRound(reachedTier([]), [1, 2, 3])).toEqual({ from: 1, to: 1 });
    expect(tiersOfRound(reachedTier([{ tierTo: 1 }, { tierTo: 2 }]), [1, 2, 3])).toEqual({ from: 1, to: 2 });
  });

  it('starts at the lowest tier with recipients when the organizer put nobody in tier 1', () => {
    expect(firstTier([2, 3, 2])).toBe(2);
    expect(firstTier([3])).toBe(3);
    expect(firstTier([])).toBe(1);
    expect(tiersOfRound(0, [2, 3])).toEqual({ from: 1, to: 2 });
    expect(tiersOfRound(0, [3, 3])).toEqual({ from: 1, to: 3 });
    // Once reached, later rounds go as far as the letter got, wherever it started.
    expect(tiersOfRound(3, [2, 3])).toEqual({ from: 1, to: 3 });
    expect(tiersOfRound(2, [2, 3])).toEqual({ from: 1, to: 2 });
    // Never further, even when the tiers reached were emptied since: only a step reaches a new tier.
    expect(tiersOfRound(1, [2, 3])).toEqual({ from: 1, to: 1 });
    expect(tiersOfRound(1, [3])).toEqual({ from: 1, to: 1 });
    // A round sent without tiers (before a schedule) reached everyone.
    expect(reachedTier([{ tierTo: 1 }, { tierTo: null }])).toBe(3);
  });

  it('starts the step from the tier the first round reached, and from none once the letter was sent', () => {
    const sent = { kind: 'delivery', status: 'queued', trigger: 'manual', tierTo: 2 };
    const test = { kind: 'test', status: 'queued', trigger: 'manual', tierTo: null };
    expect(tiersOfNextRound([test], [2, 3])).toEqual({ tiers: { from: 1, to: 2 }, firstReached: 2 });
    expect(tiersOfNextRound([test, sent], [2, 3])).toEqual({ tiers: { from: 1, to: 2 }, firstReached: null });
  });

  it('counts no test, cancelled round or correction as reaching anyone', () => {
    const round = (kind: string, status: string, trigger: string, tierTo: number | null) => ({
      kind,
      status,
      trigger,
      tierTo,
    });
    const rounds = [
      round('delivery', 'queued', 'manual', 1),
      round('test', 'queued', 'manual', null),
      round('update', 'cancelled', 'manual', null),
      // An erratum goes to those the delivery reached; its round carries no tiers.
      round('update', 'queued', 'correction', null),
    ];
    expect(reachedTier(roundsThatReached(rounds))).toBe(1);
  });

  it('lets every recipient into a round without tiers, and only its tiers into one with', () => {
    expect(inTiers(3, { tierFrom: null, tierTo: null })).toBe(true);
    expect(inTiers(2, { tierFrom: 2, tierTo: 2 })).toBe(true);
    expect(inTiers(1, { tierFrom: 2, tierTo: 2 })).toBe(false);
    expect(inTiers(3, { tierFrom: 1, tierTo: 2 })).toBe(false);
  });

  it('reads a tier only as 1, 2 or 3', () => {
    expect(parseTier('2')).toBe(2);
    expect(parseTier(3)).toBe(3);
    for (const bad of ['0', '4', '1.0', '01', ' ', 'x', '2e0', 7, null, undefined])
      expect(parseTier(bad)).toBeUndefined();
  });
});

describe('the escalation form', () => {
  const parse = (days: string, tiers: Record<number, string> = {}) => parseEscalation({ days, tiers });

  it('takes 1 to 90 days written plainly, and empty as no schedule', () => {
    expect(parse('1')).toMatchObject({ ok: true, days: 1 });
    expect(parse(' 90 ')).toMatchObject({ ok: true, days: 90 });
    expect(parse('')).toMatchObject({ ok: true, days: null });
    for (const bad of ['0', '91', '1e1', '0x10', '14.5', '-3', '١٤', 'fourteen', '1000'])
      expect(parse(bad), bad).toEqual({ ok: false, errors: { days: 'escalation.errors.days' } });
  });

  it('says which recipient’s tier is wrong, and leaves an unset one as it is', () => {
    expect(parse('7', { 5: '2', 6: '' })).toEqual({ ok: true, days: 7, tiers: new Map([[5, 2]]) });
    expect(parse('7', { 5: '9' })).toEqual({ ok: false, errors: { tier_5: 'escalation.errors.tier' } });
  });

  it('reads only the letter’s recipients’ fields, cut to a short length', () => {
    const values = escalationValues(
      { days: '7'.repeat(100), tier_5: '2', tier_99: '3', tier_6: ['1', '2'] },
      [5, 6],
    );
    expect(values).toEqual({ days: '7'.repeat(20), tiers: { 5: '2', 6: '' } });
  });
});
