/**
 * An admin undoes a mistaken bulk invalidation: from the link after it (or by the reason given), a
 * preview of what would be restored, then a confirmation; a second confirmation from another tab
 * restores nothing.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signedIn } from '../support/accounts.js';
import { fieldErrors, formFields, postForm, withField } from '../support/admin-forms.js';
import { createLetter } from '../support/factories.js';
import { byId, innerHtml, mainOf, startTags, textById, textOf } from '../support/html.js';
import type { Visitor } from '../support/http.js';
import { storedCount } from '../support/signing.js';
import { storeSignature } from '../support/stored-signatures.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

const SECRET = 'test-secret-test-secret-test-secret-0123';
const RESTORE = '/admin/signatures/bulk/restore';

describe('restoring invalidated signatures in bulk', () => {
  let t: TestPlatform;
  let adminVisitor: Visitor;
  let letter: { id: number; slug: string };
  let made = 0;

  beforeEach(async () => {
    t = await createTestPlatform();
    ({ visitor: adminVisitor } = await signedIn(t.app, t.platform, 'admin'));
    letter = await createLetter(t.platform.db, t.clock.now(), { slug: 'let-them-choose' });
    // Two confirmed and one pending from the domain a filter wrongly took, one confirmed from another.
    await stored('confirmed', 'partner.example');
    await stored('confirmed', 'partner.example');
    await stored('pending', 'partner.example');
    await stored('confirmed', 'example.org');
  });
  afterEach(async () => {
    await t.close();
  });

  async function stored(status: 'pending' | 'confirmed', domain: string) {
    made += 1;
    await storeSignature(t.platform.db, SECRET, letter.id, {
      name: `Supporter ${made}`,
      email: `supporter-${made}@${domain}`,
      status,
      country: 'KR',
      createdAt: t.clock.now().toISOString(),
    });
    if (status === 'confirmed') await t.platform.repositories.letters.addToSignatureCount(letter.id, 1, 'KR');
  }

  const statuses = async () =>
    (await t.platform.db.selectFrom('signatures').select('status').orderBy('id').execute()).map(
      (r) => r.status,
    );

  const restoredEntries = () =>
    t.platform.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'signatures-bulk-restored')
      .execute();

  /** Invalidates the partner's signatures through the bulk page; the list page it leads to. */
  async function invalidatePartner(): Promise<string> {
    const form = `/admin/signatures/bulk?domain=partner.example`;
    const page = await adminVisitor.get(form);
    const fields = withField(formFields(page.text, 'bulk-form'), 'reason', 'a mistaken filter');
    const done = await postForm(adminVisitor, form, '/admin/signatures/bulk', fields);
    expect(done.status).toBe(303);
    expect(done.headers.location).toMatch(/^\/admin\/signatures\?done=bulk&count=3&batch=\d+$/);
    return done.headers.location as string;
  }

  const heading = (html: string) => textById(html, 'preview-heading');

  it('undoes a bulk invalidation from the link after it: a preview, then each signature back as it was', async () => {
    const list = await adminVisitor.get(await invalidatePartner());
    expect(await storedCount(t, letter.slug)).toBe(1);
    const undo = byId(list.text, 'undo-batch');
    expect(textOf(innerHtml(list.text, undo!))).toBe('Restore the 3 signatures just invalidated…');

    const preview = await adminVisitor.get(undo!.attrs.href!);
    expect(preview.status).toBe(200);
    expect(heading(preview.text)).toBe('3 signatures would be restored');
    expect(textOf(mainOf(preview.text))).toContain(
      '2 would count again, 1 would wait for confirmation, on 1 letter.',
    );
    // The card table, each row in the status it returns to.
    const table = byId(preview.text, 'preview-rows');
    expect(table?.attrs.class).toContain('data-table--cards');
    expect(startTags(innerHtml(preview.text, table!), 'tr')).toHaveLength(4);
    expect(await statuses()).toEqual(['invalidated', 'invalidated', 'invalidated', 'confirmed']);

    const fields = formFields(preview.text, 'restore-form');
    expect(fields).toContainEqual(['expected', '3']);
    const done = await postForm(adminVisitor, undo!.attrs.href!, RESTORE, fields);
    expect(done.status).toBe(303);
    expect(done.headers.location).toBe('/admin/signatures?done=bulkRestored&count=3');
    expect(await statuses()).toEqual(['confirmed', 'confirmed', 'pending', 'confirmed']);
    expect(await storedCount(t, letter.slug)).toBe(3);
    expect(textOf(mainOf((await adminVisitor.get(done.headers.location!)).text))).toContain(
      '3 signatures were restored.',
    );
    const entries = await restoredEntries();
    expect(entries).toHaveLength(1);
    expect(JSON.parse(entries[0]!.details)).toMatchObject({ count: 3 });

    // The same confirmation from another tab: nothing left to restore, said so, nothing done.
    const again = await postForm(adminVisitor, undo!.attrs.href!, RESTORE, fields);
    expect(again.status).toBe(409);
    expect(heading(again.text)).toBe('Nothing to restore');
    expect(textOf(mainOf(again.text))).toContain('The number changed since the preview');
    expect(byId(again.text, 'restore-form')).toBeUndefined();
    expect(await restoredEntries()).toHaveLength(1);
    expect(await storedCount(t, letter.slug)).toBe(3);
  });

  it('finds them by the reason given, in Korean and Ukrainian too, and says when there is nothing to restore', async () => {
    await invalidatePartner();
    const byReason = await adminVisitor.get(`${RESTORE}?reason=${encodeURIComponent('a mistaken filter')}`);
    expect(heading(byReason.text)).toBe('3 signatures would be restored');
    const ko = await adminVisitor.get(`${RESTORE}?reason=${encodeURIComponent('a mistaken filter')}&lang=ko`);
    expect(heading(ko.text)).toBe('서명 3건이 복원됩니다');
    const uk = await adminVisitor.get(`${RESTORE}?reason=${encodeURIComponent('a mistaken filter')}&lang=uk`);
    expect(heading(uk.text)).toBe('Буде відновлено 3 підписи');

    const none = await adminVisitor.get(`${RESTORE}?reason=${encodeURIComponent('another reason')}&lang=en`);
    expect(none.status).toBe(200);
    expect(heading(none.text)).toBe('Nothing to restore');
    expect(byId(none.text, 'restore-form')).toBeUndefined();
  });

  it('refuses criteria that narrow nothing or are malformed (400), keeping what was typed', async () => {
    const first = await adminVisitor.get(RESTORE);
    expect(first.status).toBe(200);
    expect(byId(first.text, 'preview-heading')).toBeUndefined();

    const empty = await adminVisitor.get(`${RESTORE}?letter=${letter.slug}&show=1`);
    expect(empty.status).toBe(400);
    expect(textOf(mainOf(empty.text))).toContain(
      'Give the reason they were invalidated for, an e-mail domain, a connection hash, or both ends of a time window.',
    );
    const domain = await adminVisitor.get(`${RESTORE}?domain=not%20a%20domain&reason=spam`);
    expect(domain.status).toBe(400);
    expect(fieldErrors(domain.text, 'field-domain')).toEqual(['Enter a domain, like example.org.']);
    expect(byId(domain.text, 'field-reason')?.attrs.value).toBe('spam');

    const posted = await postForm(adminVisitor, RESTORE, RESTORE, [
      ['batch', 'x1'],
      ['reason', 'spam'],
      ['expected', '1'],
    ]);
    expect(posted.status).toBe(400);
    expect(textOf(mainOf(posted.text))).toContain('That is not the number of a bulk invalidation.');
    expect(byId(posted.text, 'field-reason')?.attrs.value).toBe('spam');

    const unknown = await adminVisitor.get(`${RESTORE}?batch=999999`);
    expect(unknown.status).toBe(404);
    expect(await restoredEntries()).toEqual([]);
  });

  it('is refused to an organizer, who changes nothing', async () => {
    const location = await invalidatePartner();
    const batch = new URL(location, 'http://x').searchParams.get('batch')!;
    const { visitor: organizer } = await signedIn(t.app, t.platform, 'organizer');
    const preview = await organizer.get(`${RESTORE}?batch=${batch}`);
    expect(preview.status).toBe(403);
    const dashboard = '/admin';
    const posted = await postForm(organizer, dashboard, RESTORE, [
      ['batch', batch],
      ['expected', '3'],
    ]);
    expect(posted.status).toBe(403);
    expect(await statuses()).toEqual(['invalidated', 'invalidated', 'invalidated', 'confirmed']);
    expect(await restoredEntries()).toEqual([]);
  });
});
