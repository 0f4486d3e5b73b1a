import { expect } from 'vitest';
import type { Db } from '../../server/db/database.js';
import type { SignatureRow } from '../../server/db/tables.js';
import { signingForm } from './factories.js';
import { mainOf, startTags, textOf, textsByClass } from './html.js';
import type { Visitor } from './http.js';
import { linksIn, type SinkMessage } from './smtp-sink.js';
import { TEST_PUBLIC_URL, type TestPlatform } from './test-platform.js';

/** How many rows the signing journey has written: signatures and outbox messages. */
export async function rowCounts(db: Db): Promise<{ signatures: number; outbox: number }> {
  const count = async (table: 'signatures' | 'outbox_messages') =>
    Number(
      (
        await db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  return { signatures: await count('signatures'), outbox: await count('outbox_messages') };
}

/** Every signature row, oldest first. */
export async function signatureRows(db: Db): Promise<SignatureRow[]> {
  return db.selectFrom('signatures').selectAll().orderBy('id').execute();
}

/** The path part of a link in an e-mail. */
export function pathOf(link: string): string {
  expect(link.startsWith(`${TEST_PUBLIC_URL}/`)).toBe(true);
  return link.slice(TEST_PUBLIC_URL.length);
}

/** The token of a signed link (its last path segment): the link's query (`?lang=…&text=…`) is not part of it. */
export function tokenOf(link: string): string {
  return new URL(link, TEST_PUBLIC_URL).pathname.split('/').at(-1)!;
}

/** The confirm and withdraw paths in a confirmation e-mail's text part. */
export function signatureLinks(message: SinkMessage): { confirm: string; withdraw: string } {
  const links = linksIn(message);
  const confirm = links.find((l) => l.includes('/signatures/confirm/'));
  const withdraw = links.find((l) => l.includes('/signatures/withdraw/'));
  if (!confirm || !withdraw)
    throw new Error(`the e-mail lacks a confirm or withdraw link: ${links.join(' ')}`);
  return { confirm: pathOf(confirm), withdraw: pathOf(withdraw) };
}

/** The newest message the sink received for an address. */
export function lastMailTo(t: TestPlatform, address: string): SinkMessage {
  const message = t.sink.to(address).at(-1);
  if (!message) throw new Error(`no mail to ${address}`);
  return message;
}

/** The letter's counter as stored. */
export async function storedCount(t: TestPlatform, slug: string): Promise<number> {
  return (await t.platform.repositories.letters.findBySlug(slug))!.signatureCount;
}

/** The count the letter page shows, read from its text ("3 signatures"). */
export async function shownCount(visitor: Visitor, slug: string): Promise<number> {
  const page = await visitor.get(`/letters/${slug}`);
  const [count] = textsByClass(page.text, 'stats__count');
  const match = /^([\d,]+) signatures?$/.exec(count ?? '');
  if (!match) throw new Error(`the letter page shows no count: ${count}`);
  return Number(match[1]!.replace(/,/g, ''));
}

/** Signs with the visitor and expects the neutral redirect; returns the response. */
export async function sign(visitor: Visitor, slug: string, overrides: Record<string, string> = {}) {
  const response = await visitor.submit(`/letters/${slug}`, `/letters/${slug}/sign`, signingForm(overrides));
  expect(response.status).toBe(303);
  expect(response.headers.location).toBe(`/letters/${slug}/check-your-inbox`);
  return response;
}

/** Signs, lets the worker send the e-mail, and returns the links it carries. */
export async function signAndGetLinks(
  t: TestPlatform,
  visitor: Visitor,
  slug: string,
  overrides: Record<string, string> = {},
) {
  const form = signingForm(overrides);
  await sign(visitor, slug, overrides);
  await t.drainOutbox();
  return signatureLinks(lastMailTo(t, form.email!.trim()));
}

/** Signs, then confirms from the e-mail's link by pressing the button; returns the links. */
export async function signAndConfirm(
  t: TestPlatform,
  visitor: Visitor,
  slug: string,
  overrides: Record<string, string> = {},
) {
  const links = await signAndGetLinks(t, visitor, slug, overrides);
  const confirmed = await visitor.submit(links.confirm, links.confirm, {});
  expect(confirmed.status).toBe(303);
  // The thank-you page keeps the interface language the e-mail's link chose (its ?lang=).
  const lang = new URL(links.confirm, 'http://x').searchParams.get('lang');
  expect(confirmed.headers.location).toBe(`/letters/${slug}/thank-you${lang ? `?lang=${lang}` : ''}`);
  return links;
}

/**
 * Expects the one error page: the status, an HTML page whose heading is the translated title (never a
 * raw message key), and no stack trace or internal error name.
 */
export function expectErrorPage(
  response: { status: number; text: string; headers: Record<string, string> },
  status: number,
  title: string,
): void {
  expect(response.status).toBe(status);
  expect(response.headers['content-type']).toMatch(/^text\/html/);
  const main = mainOf(response.text);
  const h1 = startTags(main, 'h1')[0];
  expect(h1, 'the error page has a heading').toBeDefined();
  expect(textOf(main.slice(h1!.end, main.indexOf('</h1>')))).toBe(title);
  expect(response.text).not.toMatch(/errors\.[a-zA-Z]/);
  // A stack frame ("at fn (file.js:1:2)"), a path into dependencies, or an error class name.
  expect(response.text).not.toMatch(/\bat [^\n]*:\d+:\d+|node_modules|\b[A-Z][A-Za-z]*Error\b/);
}

/** English titles of the error pages (locales/en/translation.json), as a supporter reads them. */
export const ERROR_TITLES = {
  400: 'Something in the request was not right',
  403: 'This action was refused',
  404: 'Page not found',
  409: 'This cannot be done now',
  413: 'Too much data',
  415: 'This kind of request is not accepted',
  422: 'Please check the form',
  429: 'Too many attempts',
} as const;
