import { randomBytes, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedIn } from '../../support/accounts.js';
import { addRecipient, createDraft, postForm } from '../../support/admin-forms.js';
import { Visitor } from '../../support/http.js';
import { lastMailTo, sign, signAndConfirm } from '../../support/signing.js';
import type { SinkMessage } from '../../support/smtp-sink.js';
import { createTestPlatform, type TestPlatform } from '../../support/test-platform.js';
import { zoneResolver } from '../../support/dns.js';

const DOMAIN = 'undersigned.example.org';
const SELECTOR = 'test2026';
const RECIPIENT = { name: 'UNHCR Office', email: 'unhcr-dkim@example.org', language: 'en' };
const SUPPORTER = { name: 'Kim Ji-hoon', email: 'ji-hoon.dkim@example.org', updates: 'yes' };

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
/** The TXT record a real deployment publishes at <selector>._domainkey.<domain>. */
const TXT = `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`;

/** A test platform that signs with the test key under `domain`; its key file lives in a folder of its own. */
async function platformSigningAs(domain: string, pdf = false): Promise<{ t: TestPlatform; keyDir: string }> {
  const keyDir = mkdtempSync(path.join(os.tmpdir(), 'undersigned-dkim-'));
  const keyFile = path.join(keyDir, 'dkim.pem');
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const t = await createTestPlatform({
    relay: true,
    pdf,
    env: { DKIM_DOMAIN: domain, DKIM_SELECTOR: SELECTOR, DKIM_PRIVATE_KEY_FILE: keyFile },
  });
  return { t, keyDir };
}

/** A DNS resolver that knows only the test's key: the verifier never touches the network. */
const resolver = zoneResolver({ [`${SELECTOR}._domainkey.${DOMAIN}`]: TXT });

/** What an independent verifier (mailauth) says of the DKIM signature of a raw message. */
async function verify(raw: string) {
  const { results } = await dkimVerify(Buffer.from(raw, 'utf8'), { resolver });
  expect(results).toHaveLength(1);
  return results[0]!;
}

/** The header fields a message's DKIM signature covers (its h= tag), lower-cased. */
function signedFields(raw: string): string[] {
  const head = raw.slice(0, raw.indexOf('\r\n\r\n')).replace(/\r\n[ \t]+/g, ' ');
  const signature = /^DKIM-Signature:(.*)$/im.exec(head)?.[1] ?? '';
  const h = /(?:^|;)\s*h=([^;]*)/.exec(signature)?.[1] ?? '';
  return h
    .split(':')
    .map((field) => field.trim().toLowerCase())
    .filter(Boolean);
}

/** The raw message with one header's value replaced, everything else byte for byte the same. */
function withHeader(raw: string, name: string, value: string): string {
  const pattern = new RegExp(`^(${name}):[^\\r\\n]*(?:\\r\\n[ \\t][^\\r\\n]*)*`, 'im');
  expect(pattern.test(raw), `the message carries ${name}`).toBe(true);
  return raw.replace(pattern, `$1: ${value}`);
}

describe('DKIM signatures of what the platform sends, checked by an independent verifier', () => {
  let t: TestPlatform;
  let keyDir: string;
  let confirmation: SinkMessage;
  let letter: SinkMessage;
  let news: SinkMessage;

  beforeAll(async () => {
    // The letter goes with its PDF, rendered by Chromium as in production.
    ({ t, keyDir } = await platformSigningAs(DOMAIN, true));
    const { visitor: organizer } = await signedIn(t.app, t.platform, 'organizer');
    const recipientId = await addRecipient(t.platform.db, t.clock.now(), RECIPIENT);
    const id = await createDraft(organizer, [recipientId], { languages: ['en'] });
    const deliveryPage = `/admin/letters/${id}/delivery`;
    expect(
      (await postForm(organizer, `/admin/letters/${id}`, `/admin/letters/${id}/publish`, [])).status,
    ).toBe(303);
    const slug = (await t.platform.repositories.letters.findById(id))!.slug;
    await signAndConfirm(t, new Visitor(t.app), slug, SUPPORTER);
    for (const action of ['test', 'deliver']) {
      const pressed = await postForm(organizer, deliveryPage, `${deliveryPage}/${action}`, [
        ['request_key', randomBytes(12).toString('base64url')],
      ]);
      expect(pressed.status).toBe(303);
      await t.compileDeliveries();
      await t.drainOutbox();
    }
    await t.platform.supporterNews.notifyPending();
    await t.drainOutbox();

    const toSupporter = t.sink.to(SUPPORTER.email);
    confirmation = toSupporter.find((m) => !m.parsed.headerLines.some((h) => h.key === 'list-unsubscribe'))!;
    news = toSupporter.find((m) => m.parsed.headerLines.some((h) => h.key === 'list-unsubscribe-post'))!;
    // The delivery, not the organizer's test copy (which went to the organizer).
    letter = t.sink.to(RECIPIENT.email).find((m) => m.parsed.headers.has('x-undersigned-letter'))!;
    expect(confirmation, 'a confirmation was sent').toBeDefined();
    expect(news, 'news was sent').toBeDefined();
    expect(letter, 'the letter was delivered').toBeDefined();
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    rmSync(keyDir, { recursive: true, force: true });
  });

  const kinds = () => ({ confirmation, letter, news });

  it.each(['confirmation', 'letter', 'news'] as const)(
    'a %s verifies (dkim=pass) for the From domain',
    async (kind) => {
      const result = await verify(kinds()[kind].raw);
      expect(result.status.result, result.info).toBe('pass');
      expect(result.signingDomain).toBe(DOMAIN);
      expect(result.status.aligned).toBe(DOMAIN);
    },
  );

  it('the delivered letter carries its PDF, inside the signed body', async () => {
    const pdf = letter.parsed.attachments.find((a) => a.contentType === 'application/pdf');
    expect(pdf?.content.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    // The body hash covers the attachment: one changed character of its base64 and the signature fails.
    const line = pdf!.content.toString('base64').slice(76 * 3, 76 * 4);
    expect(letter.raw).toContain(line);
    const altered = letter.raw.replace(line, `${line.slice(0, -1)}${line.endsWith('A') ? 'B' : 'A'}`);
    const result = await verify(altered);
    // mailauth reports a body that no longer matches bh= as neutral, with this comment, never as pass.
    expect(result.status.result).toBe('neutral');
    expect(result.status.comment).toBe('body hash did not verify');
  });

  it('signs the one-click unsubscribe of news: List-Unsubscribe and List-Unsubscribe-Post (RFC 8058)', () => {
    expect(signedFields(news.raw)).toEqual(
      expect.arrayContaining(['list-unsubscribe', 'list-unsubscribe-post']),
    );
  });

  it.each(['confirmation', 'letter', 'news'] as const)(
    'a %s has every List-, Auto-Submitted and X- header the platform adds in its signature',
    (kind) => {
      const message = kinds()[kind];
      const added = message.parsed.headerLines
        .map((h) => h.key)
        .filter((key) => /^(list-|auto-submitted$|x-)/.test(key));
      expect(added.length).toBeGreaterThan(0);
      expect(signedFields(message.raw)).toEqual(expect.arrayContaining(added));
    },
  );

  it.each([
    ['news', 'List-Unsubscribe-Post', 'List-Unsubscribe=Never'],
    ['news', 'List-Unsubscribe', '<https://attacker.example.com/unsubscribe>'],
    ['letter', 'X-Undersigned-Letter', 'another-letter'],
    ['letter', 'Auto-Submitted', 'no'],
    ['confirmation', 'Subject', 'Something else'],
    ['confirmation', 'Auto-Submitted', 'no'],
  ] as const)('fails once a signed header of the %s is altered (%s)', async (kind, name, value) => {
    const raw = kinds()[kind].raw;
    expect(signedFields(raw)).toContain(name.toLowerCase());
    expect((await verify(withHeader(raw, name, value))).status.result).toBe('fail');
  });
});

describe('DKIM_DOMAIN written with a capital or the root dot', () => {
  let t: TestPlatform;
  let keyDir: string;

  beforeAll(async () => {
    ({ t, keyDir } = await platformSigningAs('Undersigned.Example.ORG.'));
  });
  afterAll(async () => {
    await t?.close();
    rmSync(keyDir, { recursive: true, force: true });
  });

  it('signs as d= the name DNS knows, so the signature verifies', async () => {
    const { visitor: organizer } = await signedIn(t.app, t.platform, 'organizer');
    const recipientId = await addRecipient(t.platform.db, t.clock.now(), RECIPIENT);
    const id = await createDraft(organizer, [recipientId], { languages: ['en'] });
    expect(
      (await postForm(organizer, `/admin/letters/${id}`, `/admin/letters/${id}/publish`, [])).status,
    ).toBe(303);
    const slug = (await t.platform.repositories.letters.findById(id))!.slug;
    await sign(new Visitor(t.app), slug, SUPPORTER);
    await t.drainOutbox();
    const raw = lastMailTo(t, SUPPORTER.email).raw;
    expect(raw).toMatch(/^DKIM-Signature:[^]*?\bd=undersigned\.example\.org;/m);
    const result = await verify(raw);
    expect(result.status.result, result.info).toBe('pass');
    expect(result.signingDomain).toBe(DOMAIN);
  });
});

describe('a DKIM key file that cannot be read', () => {
  it('stops the start with a message that names the setting, not a bare ENOENT', async () => {
    const missing = path.join(os.tmpdir(), 'undersigned-no-such-dkim-key.pem');
    await expect(
      createTestPlatform({
        relay: true,
        env: { DKIM_DOMAIN: DOMAIN, DKIM_SELECTOR: SELECTOR, DKIM_PRIVATE_KEY_FILE: missing },
      }),
    ).rejects.toThrow(`DKIM_PRIVATE_KEY_FILE: cannot read ${missing} (ENOENT)`);
  });
});
