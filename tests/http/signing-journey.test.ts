import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLetter, signingForm } from '../support/factories.js';
import { Visitor } from '../support/http.js';
import { linksIn } from '../support/smtp-sink.js';
import { createTestPlatform, TEST_PUBLIC_URL, type TestPlatform } from '../support/test-platform.js';

describe('a supporter signs, confirms and withdraws', () => {
  let t: TestPlatform;
  beforeEach(async () => {
    t = await createTestPlatform();
  });
  afterEach(async () => {
    await t.close();
  });

  it('counts a signature only after the supporter confirms it from the e-mail', async () => {
    const { slug } = await createLetter(t.platform.db, t.clock.now());
    const visitor = new Visitor(t.app);

    const signed = await visitor.submit(`/letters/${slug}`, `/letters/${slug}/sign`, signingForm());
    expect(signed.status).toBe(303);
    expect(signed.headers.location).toBe(`/letters/${slug}/check-your-inbox`);
    expect((await t.platform.repositories.letters.findBySlug(slug))!.signatureCount).toBe(0);

    expect(await t.drainOutbox()).toBe(1);
    const [mail] = t.sink.to('ji-hoon@example.org');
    expect(mail!.parsed.subject).toContain('Protect the captured soldiers');
    expect(mail!.parsed.html).toContain('Confirm my signature');
    const confirmLink = linksIn(mail!).find((l) => l.includes('/signatures/confirm/'))!;
    expect(linksIn(mail!).some((l) => l.includes('/signatures/withdraw/'))).toBe(true);

    const path = confirmLink.slice(TEST_PUBLIC_URL.length);
    // Opening the link (as a mail scanner would) confirms nothing.
    const opened = await visitor.get(path);
    expect(opened.status).toBe(200);
    expect((await t.platform.repositories.letters.findBySlug(slug))!.signatureCount).toBe(0);

    const confirmed = await visitor.submit(path, path, {});
    expect(confirmed.status).toBe(303);
    expect(confirmed.headers.location).toBe(`/letters/${slug}/thank-you?lang=en`);
    expect((await t.platform.repositories.letters.findBySlug(slug))!.signatureCount).toBe(1);

    const page = await visitor.get(`/letters/${slug}`);
    expect(page.text).toContain('Kim Ji-hoon');
    expect(page.text).not.toContain('ji-hoon@example.org');
  });
});
