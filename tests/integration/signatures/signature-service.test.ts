import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Letter } from '../../../server/letters/letter.js';
import { keyedHash } from '../../../server/lib/keyed-hash.js';
import type { InterfaceLanguage } from '../../../server/lib/i18n.js';
import { OutboxRepository } from '../../../server/outbox/outbox-repository.js';
import type { SigningInput } from '../../../server/signatures/signature-input.js';
import { signatureToken } from '../../../server/mail/signature-tokens.js';
import { createLetter } from '../../support/factories.js';
import { rowCounts, signatureRows } from '../../support/signing.js';
import { createTestPlatform, type TestPlatform } from '../../support/test-platform.js';

const CONTEXT = { language: 'en', interfaceLanguage: 'en', ip: '203.0.113.7' } as const;

function input(overrides: Partial<SigningInput> = {}): SigningInput {
  return {
    fullName: 'Kim Ji-hoon',
    email: 'ji-hoon@example.org',
    country: 'KR',
    city: 'Seoul',
    organisation: '',
    jobTitle: '',
    display: 'full',
    consentUpdates: false,
    ...overrides,
  };
}

describe('SignatureService', () => {
  let t: TestPlatform;
  let letter: Letter;

  const service = () => t.platform.appDeps.signatures;
  const secret = () => t.platform.appDeps.secret;
  const storedCount = async () => (await t.platform.repositories.letters.findById(letter.id))!.signatureCount;
  const onlySignature = async () => {
    const rows = await signatureRows(t.platform.db);
    expect(rows).toHaveLength(1);
    return rows[0]!;
  };
  const tokenFor = async (purpose: 'confirm' | 'withdraw') =>
    signatureToken(secret(), (await onlySignature()).ref, purpose);
  // Queue state and the rendered e-mail (kept in a table of its own, absent until the worker renders
  // a confirmation and again once it is sent), one row per message.
  const outboxRows = () =>
    t.platform.db
      .selectFrom('outbox_messages')
      .leftJoin('outbox_contents', 'outbox_contents.outbox_message_id', 'outbox_messages.id')
      .selectAll()
      .orderBy('outbox_messages.id')
      .execute();

  beforeEach(async () => {
    t = await createTestPlatform();
    const { slug } = await createLetter(t.platform.db, t.clock.now());
    letter = (await t.platform.repositories.letters.findBySlug(slug))!;
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await t.close();
  });

  describe('signing', () => {
    it('silences a signature whose address or client is blocked by keyed hash, as the block lists store them', async () => {
      // The service hands the screens the hashes it stores; a block made from those hashes must match.
      const block = (kind: 'address' | 'ip-hash', value: string) =>
        t.platform.db
          .insertInto('abuse_list_entries')
          .values({ list: 'block', kind, value, created_at: t.clock.now().toISOString() })
          .execute();
      await block('address', keyedHash(secret(), 'email', 'anakim@gmail.com'));
      await block('ip-hash', keyedHash(secret(), 'ip', '198.51.100.99'));
      await service().sign(letter, input({ email: 'Ana.Kim+x@googlemail.com' }), CONTEXT);
      await service().sign(letter, input({ email: 'someone@example.org' }), {
        ...CONTEXT,
        ip: '198.51.100.99',
      });
      await service().sign(letter, input({ email: 'other@example.org' }), CONTEXT);
      const rows = await signatureRows(t.platform.db);
      expect(rows.map((r) => r.suspect_reasons)).toEqual(['blocked-address', 'blocked-ip', null]);
    });

    it('stores as the interface language only one of the interface languages, whatever the caller gives', async () => {
      // Its e-mails' words, number formats and links follow this value: "de" would give English words
      // with German numbers and links asking for ?lang=de.
      for (const [given, stored] of [
        ['de', 'en'],
        ['ko-KR', 'ko'],
        ['', 'en'],
      ] as const) {
        await service().sign(letter, input({ email: `${given || 'none'}@example.org` }), {
          ...CONTEXT,
          language: 'de',
          interfaceLanguage: given as InterfaceLanguage,
        });
        const row = (await signatureRows(t.platform.db)).at(-1)!;
        expect(row.interface_language, given).toBe(stored);
      }
    });

    it('records a pending signature and its confirmation e-mail together, and counts nothing yet', async () => {
      const outcome = await service().sign(letter, input(), CONTEXT);
      expect(outcome.kind).toBe('check-inbox');

      const signature = await onlySignature();
      expect(signature).toMatchObject({
        status: 'pending',
        letter_id: letter.id,
        letter_version_id: letter.currentVersionId,
        full_name: 'Kim Ji-hoon',
        confirmation_sends: 1,
        confirmed_at: null,
      });
      // The address is kept for sending, but the key and the IP are stored only as keyed hashes.
      expect(signature.email_hash).not.toContain('ji-hoon');
      expect(signature.ip_hash).not.toContain('203.0.113.7');

      const [mail] = await outboxRows();
      expect(mail).toMatchObject({
        kind: 'signature-confirmation',
        priority: 0,
        signature_id: signature.id,
        to_address: 'ji-hoon@example.org',
        status: 'queued',
        // Rendered by the worker just before sending, not in the signing request.
        render_language: 'en',
        text_body: null,
      });
      await t.drainOutbox();
      const sent = t.sink.to('ji-hoon@example.org')[0]!.parsed.text;
      expect(sent).toContain(`/signatures/confirm/${signatureToken(secret(), signature.ref, 'confirm')}`);
      expect(sent).toContain(`/signatures/withdraw/${signatureToken(secret(), signature.ref, 'withdraw')}`);
      expect(await storedCount()).toBe(0);
    });

    it('never leaves a half-written record: if queueing the e-mail fails, no signature remains', async () => {
      vi.spyOn(OutboxRepository.prototype, 'enqueue').mockRejectedValueOnce(new Error('disk I/O error'));
      await expect(service().sign(letter, input(), CONTEXT)).rejects.toThrow('disk I/O error');
      expect(await rowCounts(t.platform.db)).toEqual({ signatures: 0, outbox: 0 });

      // Nothing of the failed attempt stands in the way of signing again.
      await service().sign(letter, input(), CONTEXT);
      expect(await rowCounts(t.platform.db)).toEqual({ signatures: 1, outbox: 1 });
      expect((await onlySignature()).confirmation_sends).toBe(1);
    });

    it('records the signing-limit hit in the same commit as the signature, and keeps neither when that fails', async () => {
      const hits = async () =>
        Number(
          (
            await t.platform.db
              .selectFrom('signing_hits')
              .select((eb) => eb.fn.countAll().as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        );
      const commits = vi.spyOn(t.platform.db, 'transaction');
      await service().sign(letter, input(), CONTEXT);
      // One transaction for the hit and the signature (the limit once waited for a commit of its own).
      expect(commits).toHaveBeenCalledTimes(1);
      expect(await hits()).toBe(1);

      vi.spyOn(OutboxRepository.prototype, 'enqueue').mockRejectedValueOnce(new Error('disk I/O error'));
      await expect(service().sign(letter, input({ email: 'other@example.org' }), CONTEXT)).rejects.toThrow(
        'disk I/O error',
      );
      // The failed attempt's hit went with it; the next one from the address counts the first alone.
      expect(await hits()).toBe(1);
    });

    it('does not use up a re-send when re-sending the confirmation fails', async () => {
      await service().sign(letter, input(), CONTEXT);
      vi.spyOn(OutboxRepository.prototype, 'enqueue').mockRejectedValueOnce(new Error('disk I/O error'));
      await expect(service().sign(letter, input(), CONTEXT)).rejects.toThrow('disk I/O error');
      expect(await rowCounts(t.platform.db)).toEqual({ signatures: 1, outbox: 1 });
      expect((await onlySignature()).confirmation_sends).toBe(1);
    });

    it('creates no second signature for the same address, Gmail variants included, and re-sends at most 3 times', async () => {
      const signWith = async (email: string) => service().sign(letter, input({ email }), CONTEXT);
      await signWith('jane.doe@gmail.com');
      for (const variant of [
        'JaneDoe@gmail.com',
        'jane.doe+letters@googlemail.com',
        ' J.A.N.E.D.O.E@GMAIL.COM ',
        'janedoe@gmail.com',
        'jane.d.oe+x@gmail.com',
      ]) {
        const outcome = await signWith(variant);
        // The supporter sees the same answer every time, so the page reveals nothing.
        expect(outcome.kind).toBe('check-inbox');
      }
      const signature = await onlySignature();
      expect(signature.confirmation_sends).toBe(4);
      expect(await t.drainOutbox()).toBe(4);
      expect(t.sink.messages).toHaveLength(4);
      // Every e-mail goes to the address that first signed, never to a variant typed later.
      expect(t.sink.messages.every((m) => m.envelopeTo.join() === 'jane.doe@gmail.com')).toBe(true);
    });

    it('keeps different non-Gmail +tag addresses apart', async () => {
      await service().sign(letter, input({ email: 'jane@example.org' }), CONTEXT);
      await service().sign(letter, input({ email: 'jane+news@example.org' }), CONTEXT);
      expect((await rowCounts(t.platform.db)).signatures).toBe(2);
    });

    it('refuses to sign a letter that is not open, and writes nothing', async () => {
      const closed = await createLetter(t.platform.db, t.clock.now(), { status: 'closed' });
      const closedLetter = (await t.platform.repositories.letters.findById(closed.id))!;
      const outcome = await service().sign(closedLetter, input(), CONTEXT);
      expect(outcome).toMatchObject({ kind: 'not-signable', state: 'closed' });

      t.clock.advance(31 * 86_400_000);
      expect(await service().sign(letter, input(), CONTEXT)).toMatchObject({
        kind: 'not-signable',
        state: 'closed',
      });
      expect(await rowCounts(t.platform.db)).toEqual({ signatures: 0, outbox: 0 });
    });
  });

  describe('confirming', () => {
    it('counts a confirmed signature once, however often the link is used', async () => {
      await service().sign(letter, input(), CONTEXT);
      const token = await tokenFor('confirm');
      expect((await service().confirm(token)).kind).toBe('confirmed');
      expect(await storedCount()).toBe(1);
      expect((await service().confirm(token)).kind).toBe('confirmed');
      expect(await storedCount()).toBe(1);
      expect(await onlySignature()).toMatchObject({
        status: 'confirmed',
        confirmed_at: t.clock.now().toISOString(),
      });
    });

    it('counts once when two confirmations arrive at the same time', async () => {
      await service().sign(letter, input(), CONTEXT);
      const token = await tokenFor('confirm');
      const outcomes = await Promise.all([
        service().confirm(token),
        service().confirm(token),
        service().confirm(token),
      ]);
      expect(outcomes.map((o) => o.kind)).toEqual(['confirmed', 'confirmed', 'confirmed']);
      expect(await storedCount()).toBe(1);
      expect(await t.platform.repositories.signatures.countConfirmed(letter.id)).toBe(1);
    });

    it('does not accept a withdraw link as a confirmation', async () => {
      await service().sign(letter, input(), CONTEXT);
      await expect(service().confirm(await tokenFor('withdraw'))).rejects.toMatchObject({ status: 404 });
      expect(await storedCount()).toBe(0);
    });

    it('still confirms after the letter closed, but not once it was delivered', async () => {
      await service().sign(letter, input(), CONTEXT);
      const token = await tokenFor('confirm');
      await t.platform.db
        .updateTable('letters')
        .set({ status: 'delivered' })
        .where('id', '=', letter.id)
        .execute();
      expect((await service().confirm(token)).kind).toBe('too-late');
      expect(await storedCount()).toBe(0);
      await t.platform.db
        .updateTable('letters')
        .set({ status: 'closed' })
        .where('id', '=', letter.id)
        .execute();
      expect((await service().confirm(token)).kind).toBe('confirmed');
      expect(await storedCount()).toBe(1);
    });
  });

  describe('withdrawing', () => {
    it('takes a confirmed signature out of the count, once', async () => {
      await service().sign(letter, input(), CONTEXT);
      await service().confirm(await tokenFor('confirm'));
      expect(await storedCount()).toBe(1);

      const withdraw = await tokenFor('withdraw');
      expect((await service().withdraw(withdraw)).kind).toBe('withdrawn');
      expect(await storedCount()).toBe(0);
      expect(await onlySignature()).toMatchObject({
        status: 'withdrawn',
        withdrawn_at: t.clock.now().toISOString(),
      });

      await service().withdraw(withdraw);
      expect(await storedCount()).toBe(0);
    });

    it('withdraws a pending signature without touching the count of others', async () => {
      await service().sign(letter, input({ email: 'other@example.org' }), CONTEXT);
      await service().confirm(
        signatureToken(secret(), (await signatureRows(t.platform.db))[0]!.ref, 'confirm'),
      );
      await service().sign(letter, input(), CONTEXT);
      const pending = (await signatureRows(t.platform.db))[1]!;
      await service().withdraw(signatureToken(secret(), pending.ref, 'withdraw'));
      expect((await signatureRows(t.platform.db)).map((s) => s.status)).toEqual(['confirmed', 'withdrawn']);
      expect(await storedCount()).toBe(1);
    });

    it('cancels the confirmation e-mail still waiting in the queue when a pending signature is withdrawn', async () => {
      await service().sign(letter, input(), CONTEXT);
      expect((await outboxRows()).map((m) => m.status)).toEqual(['queued']);
      await service().withdraw(await tokenFor('withdraw'));
      expect((await outboxRows()).map((m) => m.status)).toEqual(['cancelled']);
      expect(await t.drainOutbox()).toBe(0);
      expect(t.sink.messages).toHaveLength(0);
    });

    it('lets a supporter who withdrew sign again: pending again, with a new confirmation e-mail', async () => {
      await service().sign(letter, input(), CONTEXT);
      await service().confirm(await tokenFor('confirm'));
      await service().withdraw(await tokenFor('withdraw'));

      t.clock.advance(3_600_000);
      await service().sign(letter, input({ fullName: 'Kim J.', display: 'initials' }), CONTEXT);
      const signature = await onlySignature();
      // Starting over means no trace of the earlier confirmation: a pending signature was never confirmed.
      expect(signature).toMatchObject({
        status: 'pending',
        full_name: 'Kim J.',
        display: 'initials',
        withdrawn_at: null,
        confirmed_at: null,
        confirmation_sends: 2,
      });
      const mails = await outboxRows();
      expect(mails).toHaveLength(2);
      expect(mails[1]).toMatchObject({
        signature_id: signature.id,
        to_address: 'ji-hoon@example.org',
        status: 'queued',
        created_at: t.clock.now().toISOString(),
      });
      expect(mails[1]!.message_id).not.toBe(mails[0]!.message_id);
      expect(await storedCount()).toBe(0);

      await service().confirm(await tokenFor('confirm'));
      expect(await storedCount()).toBe(1);
    });

    it('leaves a withdrawn signature withdrawn if its new confirmation cannot be queued', async () => {
      await service().sign(letter, input(), CONTEXT);
      await service().withdraw(await tokenFor('withdraw'));
      vi.spyOn(OutboxRepository.prototype, 'enqueue').mockRejectedValueOnce(new Error('disk I/O error'));
      await expect(service().sign(letter, input({ fullName: 'Someone Else' }), CONTEXT)).rejects.toThrow(
        'disk I/O error',
      );
      expect(await onlySignature()).toMatchObject({
        status: 'withdrawn',
        full_name: 'Kim Ji-hoon',
        confirmation_sends: 1,
      });
      expect((await outboxRows()).length).toBe(1);
    });
  });
});
