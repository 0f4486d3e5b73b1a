import { describe, expect, it } from 'vitest';
import {
  canMove,
  counts,
  earlierPublicNames,
  emailKey,
  initialsOf,
  MAX_CONFIRMATION_SENDS,
  onSigningAgain,
  publicName,
  SIGNATURE_STATUSES,
  type Signature,
  type SignatureStatus,
} from '../../../server/signatures/signature.js';

describe('emailKey: when two addresses are the same supporter', () => {
  it('ignores surrounding spaces and letter case', () => {
    expect(emailKey('  Ji-Hoon.Kim@Example.ORG \t')).toBe('ji-hoon.kim@example.org');
    expect(emailKey('JI-HOON.KIM@EXAMPLE.ORG')).toBe(emailKey('ji-hoon.kim@example.org'));
  });

  it('treats Gmail addresses that differ by dots, a +tag or googlemail.com as one inbox', () => {
    const variants = [
      'janedoe@gmail.com',
      'jane.doe@gmail.com',
      'J.A.N.E.D.O.E@GMAIL.COM',
      'jane.doe+petitions@gmail.com',
      ' Jane.Doe+a+b@googlemail.com ',
      'janedoe@GoogleMail.com',
    ];
    for (const variant of variants) expect(emailKey(variant), variant).toBe('janedoe@gmail.com');
  });

  it('keeps the +tag and dots of other providers, which may be different inboxes', () => {
    expect(emailKey('jane+news@example.org')).toBe('jane+news@example.org');
    expect(emailKey('jane+news@example.org')).not.toBe(emailKey('jane@example.org'));
    expect(emailKey('jane.doe@example.org')).not.toBe(emailKey('janedoe@example.org'));
  });

  it('does not treat look-alike domains as Gmail', () => {
    expect(emailKey('jane.doe+x@gmail.com.example.org')).toBe('jane.doe+x@gmail.com.example.org');
    expect(emailKey('jane.doe+x@mail.gmail.com')).toBe('jane.doe+x@mail.gmail.com');
  });

  it('returns odd input without an @ (or with nothing before it) trimmed and lower-cased, without throwing', () => {
    expect(emailKey('  Not An Address ')).toBe('not an address');
    expect(emailKey('')).toBe('');
    expect(emailKey('@GMAIL.com')).toBe('@gmail.com');
    expect(emailKey('J.Doe@')).toBe('j.doe@');
  });

  it('takes the domain from after the last @', () => {
    expect(emailKey('a@b.example@Gmail.com')).toBe('a@bexample@gmail.com');
  });
});

describe('initialsOf', () => {
  it('gives the first letter of each name, and of each piece of a hyphenated name', () => {
    expect(initialsOf('Kim Ji-hoon')).toBe('K. J.-H.');
    expect(initialsOf('jean-luc picard')).toBe('J.-L. P.');
  });

  it('ignores extra white space between and around the names', () => {
    expect(initialsOf('   Olena \t  Kovalenko\n ')).toBe('O. K.');
  });

  it('ignores doubled or dangling hyphens', () => {
    expect(initialsOf('Ji--hoon')).toBe('J.-H.');
    expect(initialsOf('-Ji-hoon-')).toBe('J.-H.');
  });

  it('works for Cyrillic names', () => {
    expect(initialsOf('олена коваленко')).toBe('О. К.');
  });

  it('gives a name written in Hangul its first syllable only, however it is spaced, as the privacy notice says', () => {
    expect(initialsOf('김지훈')).toBe('김.');
    expect(initialsOf('김 지훈')).toBe('김.');
    expect(initialsOf('  남궁 민수 ')).toBe('남.');
    expect(initialsOf('Kim 지훈')).toBe('K.');
    expect(initialsOf('ㄱ ㄴ')).toBe('ㄱ.');
  });

  it('never cuts a character outside the basic plane in half', () => {
    expect(initialsOf('𝒜lice 𠀋bc')).toBe('𝒜. 𠀋.');
  });

  it('is empty for a blank name', () => {
    expect(initialsOf('   ')).toBe('');
  });

  it('passes over what stands before a letter: an emoji, a bracket, a quotation mark', () => {
    expect(initialsOf('🌻Zoë Ng')).toBe('Z. N.');
    expect(initialsOf('🌻 Zoë Ng')).toBe('Z. N.');
    expect(initialsOf('(Kim) Ji-hoon')).toBe('K. J.-H.');
    expect(initialsOf('“Sasha” Ng')).toBe('S. N.');
    expect(initialsOf('Ji - hoon')).toBe('J. H.');
    expect(initialsOf('🌻김지훈')).toBe('김.');
    expect(initialsOf('R2-D2 3PO')).toBe('R.-D. 3.');
  });

  it('keeps the first characters of a name with no letter or digit, so that it never shows as nothing', () => {
    expect(initialsOf('🌻')).toBe('🌻.');
    expect(initialsOf('… ?')).toBe('…. ?.');
  });
});

describe('earlierPublicNames: what a list delivered under an earlier rule printed', () => {
  it('gives the syllable-a-part initials a spaced Hangul name had before 2026-12-07', () => {
    expect(earlierPublicNames({ fullName: '김 지훈', display: 'initials' })).toEqual(['김. 지.']);
  });

  it('gives the first-character initials a name led by something else than a letter had before', () => {
    expect(earlierPublicNames({ fullName: '🌻Zoë Ng', display: 'initials' })).toEqual(['🌻. N.']);
    expect(earlierPublicNames({ fullName: '“Sasha” Ng', display: 'initials' })).toEqual(['“. N.']);
    // The first rule's empty part between two spaces, printed as it was.
    expect(earlierPublicNames({ fullName: 'Ji - hoon', display: 'initials' })).toEqual(['J.  H.']);
    // Both of the day's earlier rules: syllables a part, then the first character whatever it was.
    expect(earlierPublicNames({ fullName: '🌻 김지훈', display: 'initials' })).toEqual(['🌻. 김.', '🌻.']);
  });

  it('gives nothing where the rule has not changed', () => {
    expect(earlierPublicNames({ fullName: '김지훈', display: 'initials' })).toEqual([]);
    expect(earlierPublicNames({ fullName: 'Kim Ji-hoon', display: 'initials' })).toEqual([]);
    expect(earlierPublicNames({ fullName: '김 지훈', display: 'full' })).toEqual([]);
    expect(earlierPublicNames({ fullName: '김 지훈', display: 'hidden' })).toEqual([]);
  });
});

describe('publicName: how a supporter appears in public', () => {
  const signature = (display: Signature['display']): Signature => ({
    id: 1,
    letterId: 1,
    letterVersionId: 1,
    ref: 'r'.repeat(22),
    status: 'confirmed',
    fullName: '  Kim Ji-hoon ',
    email: 'ji-hoon@example.org',
    country: 'KR',
    city: 'Seoul',
    organisation: 'Freedom Now',
    jobTitle: 'Researcher',
    display,
    language: 'en',
    interfaceLanguage: 'en',
    consentUpdates: false,
    confirmationSends: 1,
    createdAt: new Date('2026-11-23T10:00:00Z'),
    confirmedAt: new Date('2026-11-23T10:05:00Z'),
    suspectReasons: [],
    reviewReasons: [],
    confirmRequestedAt: null,
    anonymised: false,
  });

  it('shows the full name, trimmed, when the supporter chose it', () => {
    expect(publicName(signature('full'))).toBe('Kim Ji-hoon');
  });

  it('shows only initials when the supporter chose initials', () => {
    expect(publicName(signature('initials'))).toBe('K. J.-H.');
  });

  it('shows nothing at all for a supporter who asked to be counted only', () => {
    expect(publicName(signature('hidden'))).toBeNull();
  });

  it('never includes the e-mail address, whatever the choice', () => {
    for (const display of ['full', 'initials', 'hidden'] as const) {
      const shown = publicName(signature(display)) ?? '';
      expect(shown).not.toContain('@');
      expect(shown).not.toContain('ji-hoon@example.org');
    }
  });
});

describe('onSigningAgain: the same address signs the same letter again', () => {
  it('re-sends the confirmation while the signature is pending and fewer than the limit were sent', () => {
    expect(MAX_CONFIRMATION_SENDS).toBe(4);
    for (let sends = 0; sends < MAX_CONFIRMATION_SENDS; sends++) {
      expect(onSigningAgain({ status: 'pending', confirmationSends: sends }), `${sends} sent`).toBe(
        'resend-confirmation',
      );
    }
  });

  it('sends nothing more once the limit of confirmation e-mails is reached', () => {
    expect(onSigningAgain({ status: 'pending', confirmationSends: MAX_CONFIRMATION_SENDS })).toBe('nothing');
    expect(onSigningAgain({ status: 'pending', confirmationSends: MAX_CONFIRMATION_SENDS + 3 })).toBe(
      'nothing',
    );
  });

  it('starts a withdrawn signature over as pending, within the same limit', () => {
    expect(onSigningAgain({ status: 'withdrawn', confirmationSends: 1 })).toBe('restart-as-pending');
    expect(onSigningAgain({ status: 'withdrawn', confirmationSends: MAX_CONFIRMATION_SENDS - 1 })).toBe(
      'restart-as-pending',
    );
    expect(onSigningAgain({ status: 'withdrawn', confirmationSends: MAX_CONFIRMATION_SENDS })).toBe(
      'nothing',
    );
  });

  it('tells a confirmed signature it already counts, within the same limit of e-mails', () => {
    expect(onSigningAgain({ status: 'confirmed', confirmationSends: 1 })).toBe('tell-already-signed');
    expect(onSigningAgain({ status: 'confirmed', confirmationSends: MAX_CONFIRMATION_SENDS - 1 })).toBe(
      'tell-already-signed',
    );
    expect(onSigningAgain({ status: 'confirmed', confirmationSends: MAX_CONFIRMATION_SENDS })).toBe(
      'nothing',
    );
  });

  it('does nothing for a signature the moderators removed', () => {
    expect(onSigningAgain({ status: 'invalidated', confirmationSends: 1 })).toBe('nothing');
    expect(onSigningAgain({ status: 'invalidated', confirmationSends: 0 })).toBe('nothing');
  });
});

describe('signature statuses', () => {
  // Written out in full rather than derived from SIGNATURE_TRANSITIONS, so a change to the data shows here.
  const legal: Record<SignatureStatus, SignatureStatus[]> = {
    pending: ['confirmed', 'withdrawn', 'invalidated'],
    confirmed: ['withdrawn', 'invalidated'],
    withdrawn: ['pending'],
    // Restoring returns a signature to what it was: confirmed, or pending if it had not been confirmed.
    invalidated: ['confirmed', 'pending'],
  };

  it('allows exactly the legal moves and refuses every other', () => {
    for (const from of SIGNATURE_STATUSES) {
      for (const to of SIGNATURE_STATUSES) {
        expect(canMove(from, to), `${from} → ${to}`).toBe(legal[from].includes(to));
      }
    }
  });

  it('never lets a status move to itself', () => {
    for (const status of SIGNATURE_STATUSES) expect(canMove(status, status)).toBe(false);
  });

  it('counts only confirmed signatures', () => {
    expect(SIGNATURE_STATUSES.filter(counts)).toEqual(['confirmed']);
  });
});
