import { readdirSync } from 'node:fs';
import path from 'node:path';
import { PDFParse } from 'pdf-parse';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAccount, loginAs } from '../support/accounts.js';
import { createLetter } from '../support/factories.js';
import { Visitor } from '../support/http.js';
import { recordSentRound } from '../support/sent-deliveries.js';
import { signAndConfirm } from '../support/signing.js';
import { innerHtml, startTags, textOf } from '../support/html.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

const FULL = {
  name: 'Kim Ji-hoon',
  email: 'ji-hoon@example.org',
  display: 'full',
  organisation: 'Seoul Group',
};
const INITIALS = { name: 'Olena Kovalenko', email: 'olena@example.org', display: 'initials', country: 'UA' };
const HIDDEN = { name: 'Hidden Person', email: 'hidden@example.org', display: 'hidden' };
const LATE = { name: 'Late Signer', email: 'late@example.org', display: 'full' };

/** A response body read as bytes (supertest leaves binary bodies unparsed otherwise). */
function binary(
  res: NodeJS.ReadableStream & { setEncoding(e: string): void },
  done: (e: Error | null, b: Buffer) => void,
) {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => done(null, Buffer.concat(chunks)));
}

async function pdfText(bytes: Buffer): Promise<string> {
  const parser = new PDFParse({ data: new Uint8Array(bytes) });
  return (await parser.getText().finally(() => parser.destroy())).text;
}

describe('the delivered letter as a PDF', () => {
  let t: TestPlatform;
  let letter: { id: number; slug: string };
  let round: number;
  let withdrawKim: string;
  let supporter: Visitor;
  const download = (url: string, visitor = supporter) =>
    visitor
      .get(url)
      .buffer(true)
      .parse(binary as never);
  const kept = () => readdirSync(path.join(t.dataDir, 'downloads')).filter((f) => f.endsWith('.pdf'));

  beforeAll(async () => {
    t = await createTestPlatform({ pdf: true });
    supporter = new Visitor(t.app);
    letter = await createLetter(t.platform.db, t.clock.now(), { status: 'open' });
    ({ withdraw: withdrawKim } = await signAndConfirm(t, supporter, letter.slug, FULL));
    await signAndConfirm(t, supporter, letter.slug, INITIALS);
    await signAndConfirm(t, supporter, letter.slug, HIDDEN);
    t.clock.advance(60_000);
    round = await recordSentRound(
      t.platform.db,
      letter.id,
      [{ name: 'Ambassador Park', organisation: 'Embassy of Testland' }],
      { createdAt: t.clock.now(), sentAt: t.clock.now(), signatureCount: 3 },
    );
    // Signed after the round: not in what was sent.
    t.clock.advance(60_000);
    await signAndConfirm(t, supporter, letter.slug, LATE);
  });
  afterAll(async () => {
    await t.close();
  });

  it('downloads what the round sent: names as each chose, never an address, nobody who signed later', async () => {
    const render = vi.spyOn(t.platform.pdf, 'render');
    const url = `/letters/${letter.slug}/deliveries/${round}/en.pdf`;
    // Two readers at once: one rendering.
    const [a, b] = await Promise.all([download(url), download(url, new Visitor(t.app))]);
    expect(render).toHaveBeenCalledTimes(1);
    for (const response of [a, b]) {
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toBe('application/pdf');
      expect(response.headers['content-disposition']).toBe(
        'attachment; filename=Protect-the-captured-soldiers-2026-11-23-en.pdf',
      );
      expect(response.headers['set-cookie']).toBeUndefined();
    }
    expect(Buffer.compare(a.body as Buffer, b.body as Buffer)).toBe(0);
    const text = await pdfText(a.body as Buffer);
    expect(text).toContain('Kim Ji-hoon');
    expect(text).toContain('Seoul Group');
    expect(text).toContain('O. K.');
    expect(text).toContain('Ambassador Park');
    for (const absent of ['Olena', 'Kovalenko', 'Hidden Person', 'Late Signer', '@example.org', 'ji-hoon@'])
      expect(text, absent).not.toContain(absent);
    expect(text).not.toContain('Since the letter was sent');
    // Kept on disk: the next download renders nothing.
    expect(kept()).toHaveLength(1);
    expect((await download(url)).status).toBe(200);
    expect(render).toHaveBeenCalledTimes(1);
    render.mockRestore();
    // The first rendering starts the compile thread and Chromium: 60 s, as the exports' PDF tests.
  }, 60_000);

  it('is rendered again once a signatory in it withdraws, and the old copy is gone', async () => {
    expect((await supporter.submit(withdrawKim, withdrawKim, {})).status).toBe(303);
    const response = await download(`/letters/${letter.slug}/deliveries/${round}/en.pdf`);
    expect(response.status).toBe(200);
    const text = await pdfText(response.body as Buffer);
    expect(text).not.toContain('Kim Ji-hoon');
    expect(text).toContain('O. K.');
    // The round's count still holds Kim: the copy says why its list is one short (it did not add up).
    expect(text.replace(/\s+/g, ' ')).toContain(
      'Since the letter was sent, 1 of these signatures was withdrawn or removed: it is left out of the list below.',
    );
    expect(kept()).toHaveLength(1);
  }, 60_000);

  it('links each delivery on the public record to its PDF', async () => {
    t.clock.advance(5_000);
    const page = await supporter.get(`/letters/${letter.slug}`);
    expect(page.text).toContain(`href="/letters/${letter.slug}/deliveries/${round}/en.pdf"`);
  });

  it('answers 404 for anything that is not a delivered letter of this letter, in a language it went in', async () => {
    const other = await createLetter(t.platform.db, t.clock.now());
    const draft = await createLetter(t.platform.db, t.clock.now(), { status: 'draft' });
    const test = await recordSentRound(t.platform.db, letter.id, [{ name: 'Organizer', organisation: '' }], {
      createdAt: t.clock.now(),
      sentAt: t.clock.now(),
      signatureCount: 3,
      kind: 'test',
    });
    const draftRound = await recordSentRound(t.platform.db, draft.id, [{ name: 'X', organisation: '' }], {
      createdAt: t.clock.now(),
      sentAt: t.clock.now(),
      signatureCount: 0,
    });
    for (const url of [
      `/letters/${letter.slug}/deliveries/${round}/ko.pdf`,
      `/letters/${letter.slug}/deliveries/${round}/xx.pdf`,
      `/letters/${letter.slug}/deliveries/${round}/%2e%2e.pdf`,
      `/letters/${letter.slug}/deliveries/${test}/en.pdf`,
      `/letters/${letter.slug}/deliveries/999999/en.pdf`,
      `/letters/${letter.slug}/deliveries/1e3/en.pdf`,
      `/letters/${other.slug}/deliveries/${round}/en.pdf`,
      `/letters/${draft.slug}/deliveries/${draftRound}/en.pdf`,
      `/letters/no-such-letter/deliveries/${round}/en.pdf`,
    ]) {
      const response = await supporter.get(url);
      expect(response.status, url).toBe(404);
      expect(response.headers['content-type'], url).toContain('text/html');
    }
  });

  it("gives the letter's organizers every round from the delivery page, tests included, and no one else", async () => {
    const admin = await loginAs(t.app, await createAccount(t.platform, 'admin'));
    const page = await admin.get(`/admin/letters/${letter.id}/delivery`);
    const href = `/admin/letters/${letter.id}/delivery/rounds/${round}/en.pdf`;
    expect(page.text).toContain(`href="${href}"`);
    const own = await download(href, admin);
    expect(own.status).toBe(200);
    expect(own.headers['content-disposition']).toContain('attachment;');
    expect(own.headers['cache-control']).toBe('no-store');
    const stranger = await loginAs(t.app, await createAccount(t.platform, 'organizer'));
    expect((await stranger.get(href)).status).toBe(403);

    // A test round's copy is named as one: nothing of it went to the recipients.
    const test = await recordSentRound(t.platform.db, letter.id, [{ name: 'Organizer', organisation: '' }], {
      createdAt: t.clock.now(),
      sentAt: t.clock.now(),
      signatureCount: 3,
      kind: 'test',
    });
    const again = await admin.get(`/admin/letters/${letter.id}/delivery`);
    const links = startTags(again.text, 'a').filter((a) => a.attrs.href?.endsWith('/en.pdf'));
    const said = (round: number) =>
      textOf(
        innerHtml(
          again.text,
          links.find((a) => a.attrs.href!.includes(`/rounds/${round}/`))!,
        ),
      );
    expect(said(test)).toBe('Test letter (not sent to the recipients), PDF (English)');
    expect(said(round)).toBe('Letter as sent, PDF (English)');
  });

  it('limits downloads per client address', async () => {
    const url = `/letters/${letter.slug}/deliveries/${round}/en.pdf`;
    let status = 200;
    for (let i = 0; i < 40 && status === 200; i++) status = (await download(url)).status;
    expect(status).toBe(429);
  });
});

describe('the delivered letter as a PDF, on a server without Chromium', () => {
  it('says so with a 503 page, not a 500', async () => {
    const t = await createTestPlatform();
    try {
      const letter = await createLetter(t.platform.db, t.clock.now(), { status: 'closed' });
      const round = await recordSentRound(t.platform.db, letter.id, [{ name: 'Embassy', organisation: '' }], {
        createdAt: t.clock.now(),
        sentAt: t.clock.now(),
        signatureCount: 0,
      });
      const response = await new Visitor(t.app).get(`/letters/${letter.slug}/deliveries/${round}/en.pdf`);
      expect(response.status).toBe(503);
      expect(response.text).toContain('cannot be made on this server now');
    } finally {
      await t.close();
    }
  });
});
