import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLetter } from '../support/factories.js';
import { byClass, hrefsIn, innerHtml, mainOf, startTags, textOf, textsByClass } from '../support/html.js';
import { Visitor } from '../support/http.js';
import { ERROR_TITLES, expectErrorPage, sign } from '../support/signing.js';
import { createTestPlatform, TEST_PUBLIC_URL, type CaptureTestPlatform } from '../support/test-platform.js';

describe('/dev/mailbox shows the captured mail outside production', () => {
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

  it('says so when nothing has been captured yet', async () => {
    const p = await start();
    const page = await new Visitor(p.app).get('/dev/mailbox');
    expect(page.status).toBe(200);
    expect(textsByClass(page.text, 'empty')).toEqual([
      'No mail has been captured yet. Sign a letter to see its confirmation e-mail here.',
    ]);
  });

  it('lists a captured confirmation e-mail with its subject and recipient', async () => {
    const p = await start();
    const { file } = await captureOne(p);
    const page = await new Visitor(p.app).get('/dev/mailbox');
    expect(page.status).toBe(200);
    const table = byClass(page.text, 'mailbox')[0]!;
    const rows = innerHtml(page.text, table);
    expect(hrefsIn(rows)).toEqual([`/dev/mailbox/${file}`]);
    expect(textOf(rows)).toContain('Please confirm your signature: Protect the captured soldiers');
    expect(textOf(rows)).toContain('ji-hoon@example.org');
    // The site's navigation points to it.
    expect(startTags(page.text, 'a').some((a) => a.attrs.href === '/dev/mailbox')).toBe(true);
  });

  it('shows a message with its links, including a confirm link that opens the Confirm page', async () => {
    const p = await start();
    const { file, slug } = await captureOne(p);
    const visitor = new Visitor(p.app);
    const page = await visitor.get(`/dev/mailbox/${file}`);
    expect(page.status).toBe(200);
    const main = mainOf(page.text);
    expect(textOf(innerHtml(main, startTags(main, 'h1')[0]!))).toBe(
      'Please confirm your signature: Protect the captured soldiers',
    );
    const links = startTags(innerHtml(main, byClass(main, 'mail-links')[0]!), 'a').map((a) => a.attrs.href!);
    const confirm = links.find((l) => l.startsWith(`${TEST_PUBLIC_URL}/signatures/confirm/`));
    expect(confirm).toBeDefined();
    expect(links.some((l) => l.startsWith(`${TEST_PUBLIC_URL}/signatures/withdraw/`))).toBe(true);
    expect(links).toContain(`${TEST_PUBLIC_URL}/letters/${slug}`);
    expect(textOf(innerHtml(main, byClass(main, 'mail-text')[0]!))).toContain('Hello Kim Ji-hoon,');

    const confirmPage = await visitor.get(confirm!.slice(TEST_PUBLIC_URL.length));
    expect(confirmPage.status).toBe(200);
    expect(textOf(mainOf(confirmPage.text))).toContain('Confirm my signature');
  });

  it('serves the message HTML on its own URL under a sandbox CSP that allows no script', async () => {
    const p = await start();
    const { file } = await captureOne(p);
    const visitor = new Visitor(p.app);
    const html = await visitor.get(`/dev/mailbox/${file}/html`);
    expect(html.status).toBe(200);
    expect(html.headers['content-type']).toMatch(/^text\/html/);
    const csp = html.headers['content-security-policy']!;
    const directives = csp.split(';').map((d) => d.trim());
    expect(directives.some((d) => d === 'sandbox' || d.startsWith('sandbox '))).toBe(true);
    expect(csp).not.toContain('allow-scripts');
    expect(csp).not.toContain('allow-same-origin');
    expect(directives).toContain("default-src 'none'");
    expect(directives.some((d) => d.startsWith('script-src'))).toBe(false);
    expect(html.text).toContain('Confirm my signature');

    const message = await visitor.get(`/dev/mailbox/${file}`);
    const frame = startTags(message.text, 'iframe')[0]!;
    expect(frame.attrs.src).toBe(`/dev/mailbox/${file}/html`);
    expect(frame.attrs.sandbox).toBeDefined();
    expect(frame.attrs.sandbox).not.toContain('allow-scripts');
    expect(frame.attrs.sandbox).not.toContain('allow-same-origin');
  });

  it('refuses path traversal and names that are not captured messages with 404', async () => {
    const p = await start();
    await captureOne(p);
    writeFileSync(path.join(p.dataDir, 'decoy.eml'), 'Subject: outside the mailbox\r\n\r\nsecret decoy\r\n');
    const visitor = new Visitor(p.app);
    for (const name of [
      '..%2F..%2Fetc%2Fpasswd',
      '..%2F..%2Fetc%2Fpasswd/html',
      '..%2Fdecoy.eml',
      '..%2Fdecoy.eml/html',
      '%2e%2e%2fdecoy.eml',
      '..%5Cdecoy.eml',
      '..%2Fundersigned.sqlite',
      'nothing-here.eml',
      'nothing-here.eml/html',
      '.decoy.eml',
    ]) {
      const response = await visitor.get(`/dev/mailbox/${name}`);
      expectErrorPage(response, 404, ERROR_TITLES[404]);
      expect(response.text, name).not.toContain('secret decoy');
    }
  });

  it('shows hostile text in a captured message as text', async () => {
    const p = await start();
    const hostile = '<script>alert(1)</script>';
    const { file } = await captureOne(p, { name: hostile });
    const page = await new Visitor(p.app).get(`/dev/mailbox/${file}`);
    expect(startTags(page.text, 'script')).toEqual([]);
    expect(textOf(innerHtml(page.text, byClass(page.text, 'mail-text')[0]!))).toContain(`Hello ${hostile},`);
  });

  it('does not exist in production', async () => {
    const p = await start({ NODE_ENV: 'production' });
    const { file } = await captureOne(p);
    const visitor = new Visitor(p.app);
    for (const route of ['/dev/mailbox', `/dev/mailbox/${file}`, `/dev/mailbox/${file}/html`]) {
      expectErrorPage(await visitor.get(route), 404, ERROR_TITLES[404]);
    }
    expect(startTags((await visitor.get('/')).text, 'a').some((a) => a.attrs.href === '/dev/mailbox')).toBe(
      false,
    );
  });
});
