import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../../server/lib/errors.js';
import { Mailbox } from '../../server/mail/mailbox.js';
import { MailboxReader } from '../../server/mail/mailbox-reader.js';
import { mailboxNotice } from '../../server/main-support.js';
import { createAccount, signedIn } from '../support/accounts.js';
import { createLetter } from '../support/factories.js';
import {
  byClass,
  byId,
  hrefsIn,
  innerHtml,
  mainOf,
  startTags,
  textOf,
  textsByClass,
} from '../support/html.js';
import { postForm } from '../support/admin-forms.js';
import { Visitor } from '../support/http.js';
import { loopbackTransport } from '../support/mail-worker.js';
import { ERROR_TITLES, expectErrorPage, sign } from '../support/signing.js';
import {
  createTestPlatform,
  TEST_PUBLIC_URL,
  type CaptureTestPlatform,
  type TestPlatform,
} from '../support/test-platform.js';

const SUBJECT = 'Please confirm your signature: Protect the captured soldiers';
/** A few bytes that start like a PDF: enough to check that the same bytes come back. */
const PDF_BYTES = Buffer.from('%PDF-1.4\n% Annex of signatories\n1 0 obj\n<<>>\nendobj\n%%EOF\n', 'latin1');

describe('the captured mailbox', () => {
  const opened: CaptureTestPlatform[] = [];
  afterEach(async () => {
    for (const p of opened.splice(0)) await p.close();
  });

  /**
   * A platform as `npm start` builds it without SMTP_URL: no test transport, so mail goes to the
   * embedded capture server, which writes .eml files to DATA_DIR/mailbox.
   */
  async function start(env: Record<string, string> = {}) {
    const p = await createTestPlatform({ mail: 'capture', env });
    opened.push(p);
    return p;
  }

  /** Signs one letter and lets the worker hand the confirmation to the capture server. */
  async function captureOne(p: CaptureTestPlatform, overrides: Record<string, string> = {}) {
    const { slug } = await createLetter(p.platform.db, p.platform.clock.now());
    await sign(new Visitor(p.app), slug, overrides);
    expect(await p.drainOutbox()).toBe(1);
    const files = readdirSync(p.config.mailboxDir).filter((n) => n.endsWith('.eml'));
    expect(files).toHaveLength(1);
    return { slug, file: files[0]! };
  }

  /** An admin, logged in. */
  async function admin(p: CaptureTestPlatform): Promise<Visitor> {
    return (await signedIn(p.app, p.platform, 'admin')).visitor;
  }

  /** Every address of the viewer for one message, attachments included. */
  const routesOf = (file: string) => [
    '/admin/mailbox',
    `/admin/mailbox/${file}`,
    `/admin/mailbox/${file}/html`,
    `/admin/mailbox/${file}/attachments/1`,
  ];

  it('tells whoever sent a test where it is while mail is captured: the mailbox for an admin, the PDFs for an organizer', async () => {
    // "Check it in your inbox" sent an organizer to an inbox the test never reaches, and to a mailbox
    // they may not open.
    const p = await start();
    const { id } = await createLetter(p.platform.db, p.platform.clock.now());
    const organizer = await signedIn(p.app, p.platform, 'organizer');
    await p.platform.db
      .updateTable('letters')
      .set({ owner_id: organizer.user.id })
      .where('id', '=', id)
      .execute();
    const deliveryPath = `/admin/letters/${id}/delivery`;
    const sent = await postForm(organizer.visitor, deliveryPath, `${deliveryPath}/test`, [
      ['request_key', randomUUID()],
    ]);
    expect(sent.status).toBe(303);
    const note = (html: string) => {
      const tag = byId(html, 'tested-note');
      if (!tag) throw new Error('the page says nothing about the test');
      return { text: textOf(innerHtml(html, tag)), links: hrefsIn(innerHtml(html, tag)) };
    };
    const forOrganizer = note((await organizer.visitor.get(deliveryPath)).text);
    expect(forOrganizer.text).toContain(
      'so it is not in your inbox: open the compiled letters in the record below',
    );
    expect(forOrganizer.links).toEqual([]);
    const forAdmin = note((await (await admin(p)).get(deliveryPath)).text);
    expect(forAdmin.text).toContain('read the test in the mailbox');
    expect(forAdmin.links).toEqual(['/admin/mailbox']);
  });

  describe('is for admins only', () => {
    it('sends an anonymous visitor to the login page, and shows them no mail, at the old address too', async () => {
      const p = await start();
      const { file } = await captureOne(p);
      const visitor = new Visitor(p.app);
      for (const route of routesOf(file)) {
        const response = await visitor.get(route);
        expect(response.status, route).toBe(303);
        expect(response.headers.location, route).toBe(`/login?next=${encodeURIComponent(route)}`);
        expect(response.text, route).not.toContain('ji-hoon@example.org');
      }
      // The old address leads to the login too, never to the messages.
      const old = await visitor.get('/dev/mailbox');
      expect(old.status).toBe(302);
      expect(old.headers.location).toBe('/admin/mailbox');
      expect(old.text).not.toContain('ji-hoon@example.org');
      const oldMessage = await visitor.get(`/dev/mailbox/${file}`);
      expect(oldMessage.headers.location).toBe(`/admin/mailbox/${file}`);
      expect((await visitor.get(oldMessage.headers.location!)).headers.location).toMatch(/^\/login\?next=/);
    });

    it('refuses a logged-in organizer with 403 on every page of it', async () => {
      const p = await start();
      const { file } = await captureOne(p);
      const { visitor } = await signedIn(p.app, p.platform, 'organizer');
      for (const route of routesOf(file)) {
        const response = await visitor.get(route);
        expectErrorPage(response, 403, ERROR_TITLES[403]);
        expect(response.text, route).not.toContain('ji-hoon@example.org');
      }
      // Nor does the navigation offer it to them.
      const dashboard = await visitor.get('/admin');
      expect(startTags(dashboard.text, 'a').some((a) => a.attrs.href === '/admin/mailbox')).toBe(false);
    });

    it('refuses an organizer in the reader itself, whichever route asks', async () => {
      const p = await start();
      const { file } = await captureOne(p);
      const organizer = await createAccount(p.platform, 'organizer');
      const reader = new MailboxReader(new Mailbox(p.config.mailboxDir));
      for (const read of [
        () => reader.list(organizer),
        () => reader.message(organizer, file),
        () => reader.preview(organizer, file),
        () => reader.attachment(organizer, file, 1),
      ]) {
        await expect(read()).rejects.toSatisfy(
          (error: unknown) => error instanceof AppError && error.status === 403,
        );
      }
      const adminUser = await createAccount(p.platform, 'admin');
      expect((await reader.list(adminUser)).map((m) => m.name)).toEqual([file]);
    });

    it('is linked from the navigation for admins', async () => {
      const p = await start();
      const page = await (await admin(p)).get('/admin');
      expect(startTags(page.text, 'a').some((a) => a.attrs.href === '/admin/mailbox')).toBe(true);
    });

    it('is there in production too while mail is captured, still only for admins', async () => {
      const p = await start({ NODE_ENV: 'production' });
      const { file } = await captureOne(p);
      expect((await new Visitor(p.app).get('/admin/mailbox')).status).toBe(303);
      const page = await (await admin(p)).get(`/admin/mailbox/${file}`);
      expect(page.status).toBe(200);
      expect(textOf(mainOf(page.text))).toContain(SUBJECT);
    });
  });

  describe('for an admin', () => {
    it('says so when nothing has been captured yet', async () => {
      const p = await start();
      const page = await (await admin(p)).get('/admin/mailbox');
      expect(page.status).toBe(200);
      expect(textsByClass(page.text, 'empty')).toEqual([
        'No mail has been captured yet. Sign a letter to see its confirmation e-mail here.',
      ]);
    });

    it('lists a captured confirmation e-mail with its subject and recipient', async () => {
      const p = await start();
      const { file } = await captureOne(p);
      const page = await (await admin(p)).get('/admin/mailbox');
      expect(page.status).toBe(200);
      const rows = innerHtml(page.text, byClass(page.text, 'mailbox')[0]!);
      expect(hrefsIn(rows)).toEqual([`/admin/mailbox/${file}`]);
      expect(textOf(rows)).toContain(SUBJECT);
      expect(textOf(rows)).toContain('ji-hoon@example.org');
    });

    it('shows a message with its links, including a confirm link that opens the Confirm page', async () => {
      const p = await start();
      const { file, slug } = await captureOne(p);
      const visitor = await admin(p);
      const page = await visitor.get(`/admin/mailbox/${file}`);
      expect(page.status).toBe(200);
      const main = mainOf(page.text);
      expect(textOf(innerHtml(main, startTags(main, 'h1')[0]!))).toBe(SUBJECT);
      const links = startTags(innerHtml(main, byClass(main, 'mail-links')[0]!), 'a').map(
        (a) => a.attrs.href!,
      );
      const confirm = links.find((l) => l.startsWith(`${TEST_PUBLIC_URL}/signatures/confirm/`));
      expect(confirm).toBeDefined();
      expect(links.some((l) => l.startsWith(`${TEST_PUBLIC_URL}/signatures/withdraw/`))).toBe(true);
      // Each link once, as the e-mail wrote it: with the supporter's languages.
      expect(links).toContain(`${TEST_PUBLIC_URL}/letters/${slug}?lang=en&text=en`);
      expect(links.filter((l) => l === confirm)).toHaveLength(1);
      expect(textOf(innerHtml(main, byClass(main, 'mail-text')[0]!))).toContain('Hello Kim Ji-hoon,');

      const confirmPage = await new Visitor(p.app).get(confirm!.slice(TEST_PUBLIC_URL.length));
      expect(confirmPage.status).toBe(200);
      expect(textOf(mainOf(confirmPage.text))).toContain('Confirm my signature');
    });

    it('previews the HTML in a frame whose forms and links work, without ever running a script', async () => {
      const p = await start();
      const { file } = await captureOne(p);
      const visitor = await admin(p);
      const html = await visitor.get(`/admin/mailbox/${file}/html`);
      expect(html.status).toBe(200);
      expect(html.headers['content-type']).toMatch(/^text\/html/);
      const directives = html.headers['content-security-policy']!.split(';').map((d) => d.trim());
      const sandbox = directives.find((d) => d.startsWith('sandbox'))!.split(/\s+/);
      expect(sandbox).toEqual(
        expect.arrayContaining(['allow-forms', 'allow-popups', 'allow-popups-to-escape-sandbox']),
      );
      expect(sandbox).not.toContain('allow-scripts');
      expect(sandbox).not.toContain('allow-same-origin');
      expect(directives).toContain("default-src 'none'");
      expect(directives.some((d) => d.startsWith('script-src'))).toBe(false);
      // Forms may post to the platform's public address even when the admin reads at another one.
      expect(directives).toContain(`form-action ${TEST_PUBLIC_URL} 'self'`);
      // Links and buttons open outside the frame, where the page they lead to may be shown.
      expect(startTags(html.text, 'base')).toEqual([
        expect.objectContaining({ attrs: { target: '_blank' } }),
      ]);
      expect(html.text).toContain('Confirm my signature');

      const message = await visitor.get(`/admin/mailbox/${file}`);
      const frame = startTags(message.text, 'iframe')[0]!;
      expect(frame.attrs.src).toBe(`/admin/mailbox/${file}/html`);
      const frameSandbox = frame.attrs.sandbox!.split(/\s+/);
      expect(frameSandbox).toEqual(expect.arrayContaining(['allow-forms', 'allow-popups-to-escape-sandbox']));
      expect(frameSandbox).not.toContain('allow-scripts');
      expect(frameSandbox).not.toContain('allow-same-origin');
    });

    it('lists attachments, opens a PDF in the browser and downloads anything else as inert bytes', async () => {
      const p = await start();
      // Through the capture server over SMTP, as the worker sends a delivered letter with its PDF annex.
      const transport = loopbackTransport(p.platform.capturePort!);
      await transport.sendMail({
        from: 'letters@undersigned.example.org',
        to: 'embassy@example.org',
        subject: 'Open letter with annex',
        text: 'The letter is attached.',
        attachments: [
          { filename: 'letter-annex.pdf', content: PDF_BYTES, contentType: 'application/pdf' },
          { filename: 'page.html', content: '<script>alert(1)</script>', contentType: 'text/html' },
        ],
      });
      transport.close();
      const [file] = readdirSync(p.config.mailboxDir).filter((n) => n.endsWith('.eml'));
      const visitor = await admin(p);

      const page = await visitor.get(`/admin/mailbox/${file}`);
      const list = innerHtml(page.text, byClass(page.text, 'mail-attachments')[0]!);
      expect(hrefsIn(list)).toEqual([
        `/admin/mailbox/${file}/attachments/1`,
        `/admin/mailbox/${file}/attachments/2`,
      ]);
      expect(textOf(list)).toContain('letter-annex.pdf');

      const pdf = await visitor.agent
        .get(`/admin/mailbox/${file}/attachments/1`)
        .buffer(true)
        .parse((res, done) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => done(null, Buffer.concat(chunks)));
        });
      expect(pdf.status).toBe(200);
      expect(pdf.headers['content-type']).toBe('application/pdf');
      expect(pdf.headers['content-disposition']).toMatch(/^inline; filename="?letter-annex\.pdf"?$/);
      expect(pdf.headers['x-content-type-options']).toBe('nosniff');
      expect(pdf.headers['cache-control']).toBe('no-store');
      expect(Buffer.compare(pdf.body as Buffer, PDF_BYTES)).toBe(0);

      const html = await visitor.get(`/admin/mailbox/${file}/attachments/2`);
      expect(html.status).toBe(200);
      expect(html.headers['content-type']).toBe('application/octet-stream');
      expect(html.headers['content-disposition']).toMatch(/^attachment; filename="?page\.html"?$/);
      expect(html.headers['x-content-type-options']).toBe('nosniff');

      for (const missing of ['3', '0', 'x']) {
        expectErrorPage(
          await visitor.get(`/admin/mailbox/${file}/attachments/${missing}`),
          404,
          ERROR_TITLES[404],
        );
      }
    });

    it('refuses path traversal and names that are not captured messages with 404', async () => {
      const p = await start();
      await captureOne(p);
      writeFileSync(
        path.join(p.dataDir, 'decoy.eml'),
        'Subject: outside the mailbox\r\n\r\nsecret decoy\r\n',
      );
      const visitor = await admin(p);
      for (const name of [
        '..%2F..%2Fetc%2Fpasswd',
        '..%2F..%2Fetc%2Fpasswd/html',
        '..%2Fdecoy.eml',
        '..%2Fdecoy.eml/html',
        '..%2Fdecoy.eml/attachments/1',
        '%2e%2e%2fdecoy.eml',
        '..%5Cdecoy.eml',
        '..%2Fundersigned.sqlite',
        'nothing-here.eml',
        'nothing-here.eml/html',
        '.decoy.eml',
      ]) {
        const response = await visitor.get(`/admin/mailbox/${name}`);
        expectErrorPage(response, 404, ERROR_TITLES[404]);
        expect(response.text, name).not.toContain('secret decoy');
      }
    });

    it('marks each message in the language it says it is written in, and none it does not say or that is no language tag', async () => {
      const p = await start();
      const { file } = await captureOne(p);
      // The platform's own e-mail says its language (here the supporter's, English).
      const raw = readFileSync(path.join(p.config.mailboxDir, file), 'latin1');
      expect(raw).toMatch(/^Content-Language: en\r$/m);
      const written = (name: string, header: string) =>
        writeFileSync(
          path.join(p.config.mailboxDir, name),
          `${header}Subject: =?UTF-8?B?${Buffer.from('서명을 확인해 주세요').toString('base64')}?=\r\n\r\n본문\r\n`,
        );
      written('9999-korean.eml', 'Content-Language: ko\r\n');
      written('9998-unsaid.eml', '');
      written('9997-hostile.eml', 'Content-Language: "><script>\r\n');
      const visitor = await admin(p);
      const list = await visitor.get('/admin/mailbox');
      const langs = Object.fromEntries(
        startTags(innerHtml(list.text, byClass(list.text, 'mailbox')[0]!), 'a').map((a) => [
          a.attrs.href!.split('/').pop()!,
          a.attrs.lang,
        ]),
      );
      expect(langs).toEqual({
        [file]: 'en',
        '9999-korean.eml': 'ko',
        '9998-unsaid.eml': undefined,
        '9997-hostile.eml': undefined,
      });
      const korean = mainOf((await visitor.get('/admin/mailbox/9999-korean.eml')).text);
      expect(startTags(korean, 'h1')[0]!.attrs.lang).toBe('ko');
      expect(byClass(korean, 'mail-text')[0]!.attrs.lang).toBe('ko');
      // The HTML preview's frame too: its title is the subject, in the message's language.
      const own = mainOf((await visitor.get(`/admin/mailbox/${file}`)).text);
      expect(byClass(own, 'mail-html')[0]!.attrs.lang).toBe('en');
    });

    it('shows hostile text in a captured message as text', async () => {
      const p = await start();
      const hostile = '<script>alert(1)</script>';
      const { file } = await captureOne(p, { name: hostile });
      const page = await (await admin(p)).get(`/admin/mailbox/${file}`);
      expect(startTags(page.text, 'script')).toEqual([]);
      expect(textOf(innerHtml(page.text, byClass(page.text, 'mail-text')[0]!))).toContain(
        `Hello ${hostile},`,
      );
    });
  });

  describe('when mail is really sent (SMTP_URL set)', () => {
    const withSink: TestPlatform[] = [];
    afterEach(async () => {
      for (const p of withSink.splice(0)) await p.close();
    });

    for (const env of ['development', 'production'] as const) {
      it(`does not exist, even for an admin (${env})`, async () => {
        // The test sink stands in for the relay SMTP_URL names: mail goes there, nothing is captured.
        const p = await createTestPlatform({ env: { NODE_ENV: env, SMTP_URL: 'smtp://127.0.0.1:2525' } });
        withSink.push(p);
        const visitor = (await signedIn(p.app, p.platform, 'admin')).visitor;
        for (const route of ['/admin/mailbox', '/admin/mailbox/x.eml', '/admin/mailbox/x.eml/html']) {
          expectErrorPage(await visitor.get(route), 404, ERROR_TITLES[404]);
        }
        expectErrorPage(await new Visitor(p.app).get('/dev/mailbox'), 404, ERROR_TITLES[404]);
        const dashboard = await visitor.get('/admin');
        expect(startTags(dashboard.text, 'a').some((a) => a.attrs.href === '/admin/mailbox')).toBe(false);
      });
    }
  });

  describe('the console at start', () => {
    it('names the mailbox and says that the first step is to log in as the admin it printed', () => {
      const lines = mailboxNotice({ publicUrl: 'http://localhost:3000', smtpUrl: undefined }, true);
      expect(lines[0]).toBe('Mail is captured, not sent: read it at http://localhost:3000/admin/mailbox');
      expect(lines[1]).toContain('First log in there as the admin below, with the one-time password');
    });

    it('tells how to make an admin when none was made at this start', () => {
      const lines = mailboxNotice({ publicUrl: 'https://letters.example.org', smtpUrl: undefined }, false);
      expect(lines[0]).toContain('https://letters.example.org/admin/mailbox');
      expect(lines[1]).toContain('npm run user:create -- --email <address> --role admin');
    });

    it('says nothing of a mailbox when mail is really sent', () => {
      expect(
        mailboxNotice({ publicUrl: 'https://x.example', smtpUrl: 'smtp://relay.example' }, true),
      ).toEqual([]);
    });
  });
});
