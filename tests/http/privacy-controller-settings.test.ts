import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../server/accounts/account.js';
import { createAccount, loginAs } from '../support/accounts.js';
import { createLetter } from '../support/factories.js';
import { byId, decodeEntities, innerHtml, mainOf, textOf } from '../support/html.js';
import type { Visitor } from '../support/http.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

/** The controller's form as an admin fills it in. */
const FILLED = {
  controller_name: 'Undersigned Foundation',
  controller_address: '  12 Example Street \r\n\r\n Seoul 04524\r\nRepublic of Korea ',
  controller_email: 'privacy@undersigned.example.org',
  controller_dpo: 'Min-ji Park, dpo@undersigned.example.org',
  controller_authority: 'Personal Information Protection Commission, www.pipc.go.kr',
};

const CONTROLLER_KEYS = [
  'controllerName',
  'controllerAddress',
  'controllerEmail',
  'controllerDpo',
  'controllerAuthority',
];

/** The controller's settings as stored, straight from the table. */
async function storedController(t: TestPlatform): Promise<Record<string, string>> {
  const rows = await t.platform.db
    .selectFrom('settings')
    .select(['key', 'value'])
    .where('key', 'in', CONTROLLER_KEYS)
    .execute();
  return Object.fromEntries(rows.map((r) => [r.key, r.value]));
}

/** The value of a field of the page (an input's value, a textarea's text). */
function fieldValue(html: string, id: string): string {
  const tag = byId(html, id);
  if (!tag) throw new Error(`no #${id} in the page`);
  return tag.name === 'textarea' ? decodeEntities(innerHtml(html, tag)) : (tag.attrs.value ?? '');
}

describe('the data controller in the platform settings', () => {
  let t: TestPlatform;
  let admin: User;
  let organizer: User;
  let asAdmin: Visitor;
  let asOrganizer: Visitor;
  let draftId: number;

  beforeAll(async () => {
    t = await createTestPlatform();
    admin = await createAccount(t.platform, 'admin');
    organizer = await createAccount(t.platform, 'organizer');
    asAdmin = await loginAs(t.app, admin);
    asOrganizer = await loginAs(t.app, organizer);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('shows admins a to-do on the dashboard and the settings page until it is named, and organizers none', async () => {
    const dashboard = await asAdmin.get('/admin');
    expect(dashboard.status).toBe(200);
    expect(textOf(innerHtml(dashboard.text, byId(dashboard.text, 'controller-todo')!))).toContain(
      'The data controller is not named yet',
    );
    const settings = await asAdmin.get('/admin/settings');
    expect(byId(settings.text, 'controller-todo')).toBeDefined();
    const organizers = await asOrganizer.get('/admin');
    expect(organizers.status).toBe(200);
    expect(byId(organizers.text, 'controller-todo')).toBeUndefined();
  });

  /** The publish page of a draft the organizer owns: what it says about the data controller, if anything. */
  async function publishPageSays(visitor: Visitor): Promise<{ text: string; settingsLink: boolean } | null> {
    const page = await visitor.get(`/admin/letters/${draftId}/publish`);
    expect(page.status).toBe(200);
    const notice = byId(page.text, 'controller-missing');
    if (!notice) return null;
    const html = innerHtml(page.text, notice);
    return { text: textOf(html), settingsLink: html.includes('href="/admin/settings#controller-heading"') };
  }

  it('is pointed out before publishing until it is named: an admin is offered the settings, an organizer told to ask', async () => {
    ({ id: draftId } = await createLetter(t.platform.db, t.clock.now(), { status: 'draft' }));
    await t.platform.db
      .updateTable('letters')
      .set({ owner_id: organizer.id })
      .where('id', '=', draftId)
      .execute();
    const toOrganizer = await publishPageSays(asOrganizer);
    expect(toOrganizer?.text).toContain('The platform’s data controller is not named yet');
    expect(toOrganizer?.text).toContain('Ask an admin to name them in the settings before you publish.');
    expect(toOrganizer?.settingsLink).toBe(false);
    expect((await publishPageSays(asAdmin))?.settingsLink).toBe(true);
  });

  it('refuses an organizer with 403 and changes nothing', async () => {
    const response = await asOrganizer.submit('/admin', '/admin/settings/data-controller', FILLED);
    expect(response.status).toBe(403);
    expect(await storedController(t)).toEqual({});
  });

  it('refuses an address that is not one with 400, the message at the field and every value kept', async () => {
    const typed = { ...FILLED, controller_email: 'privacy at example' };
    const response = await asAdmin.submit('/admin/settings', '/admin/settings/data-controller', typed);
    expect(response.status).toBe(400);
    const message = 'Enter an e-mail address in the form name@example.org.';
    expect(textOf(innerHtml(response.text, byId(response.text, 'field-controllerEmail-error')!))).toContain(
      message,
    );
    // The summary at the top of the form links to the field.
    expect(/<a href="#field-controllerEmail">([^<]*)<\/a>/.exec(mainOf(response.text))?.[1]).toBe(message);
    expect(byId(response.text, 'field-controllerEmail')!.attrs['aria-invalid']).toBe('true');
    expect(byId(response.text, 'field-controllerEmail')!.attrs['aria-describedby']).toContain(
      'field-controllerEmail-error',
    );
    expect(fieldValue(response.text, 'field-controllerEmail')).toBe('privacy at example');
    expect(fieldValue(response.text, 'field-controllerName')).toBe(FILLED.controller_name);
    expect(fieldValue(response.text, 'field-controllerAddress').replace(/\r/g, '')).toBe(
      FILLED.controller_address.replace(/\r/g, ''),
    );
    expect(fieldValue(response.text, 'field-controllerDpo')).toBe(FILLED.controller_dpo);
    expect(fieldValue(response.text, 'field-controllerAuthority')).toBe(FILLED.controller_authority);
    expect(await storedController(t)).toEqual({});
  });

  it.each([
    [
      'a missing name',
      { controller_name: '   ' },
      'controllerName',
      'Enter the name of the data controller.',
    ],
    ['a NUL in the name', { controller_name: 'Found\u0000ation' }, 'controllerName', 'control characters'],
    ['a line break in the name', { controller_name: 'Found\nation' }, 'controllerName', 'line break'],
    [
      'a right-to-left override',
      { controller_dpo: 'Park \u202etxt.exe' },
      'controllerDpo',
      'control characters',
    ],
    [
      'an address of 10,000 characters',
      { controller_address: 'x'.repeat(10_000) },
      'controllerAddress',
      'at most 500',
    ],
    [
      'an address of 9 lines',
      { controller_address: 'line\n'.repeat(9) },
      'controllerAddress',
      'at most 8 lines',
    ],
    [
      'an authority of 501 characters',
      { controller_authority: 'a'.repeat(501) },
      'controllerAuthority',
      'at most 500',
    ],
  ])(
    'refuses %s with 400 and a message at the field, storing nothing',
    async (_label, change, field, message) => {
      const response = await asAdmin.submit('/admin/settings', '/admin/settings/data-controller', {
        ...FILLED,
        ...change,
      });
      expect(response.status).toBe(400);
      expect(textOf(innerHtml(response.text, byId(response.text, `field-${field}-error`)!))).toContain(
        message,
      );
      expect(await storedController(t)).toEqual({});
    },
  );

  it('refuses repeated fields (an array) as a missing value, not with a 500', async () => {
    const page = await asAdmin.get('/admin/settings');
    const token = /name="_csrf" value="([^"]*)"/.exec(page.text)![1]!;
    const response = await asAdmin.agent
      .post('/admin/settings/data-controller')
      .type('form')
      .set('Accept', 'text/html')
      .set('Sec-Fetch-Site', 'same-origin')
      .send(
        `_csrf=${encodeURIComponent(token)}&controller_name=A&controller_name=B&controller_address=x&controller_email=a%40b.org`,
      );
    expect(response.status).toBe(400);
    expect(await storedController(t)).toEqual({});
  });

  it('saves what an admin enters, trimmed, in the audit log, and the to-do goes', async () => {
    const response = await asAdmin.submit('/admin/settings', '/admin/settings/data-controller', FILLED);
    expect(response.status).toBe(303);
    expect(response.headers.location).toBe('/admin/settings?done=saved');
    const address = '12 Example Street\nSeoul 04524\nRepublic of Korea';
    expect(await storedController(t)).toEqual({
      controllerName: 'Undersigned Foundation',
      controllerAddress: address,
      controllerEmail: 'privacy@undersigned.example.org',
      controllerDpo: 'Min-ji Park, dpo@undersigned.example.org',
      controllerAuthority: 'Personal Information Protection Commission, www.pipc.go.kr',
    });
    const entry = await t.platform.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'settings-changed')
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    expect(entry.actor_email).toBe(admin.email);
    expect(JSON.parse(entry.details)).toMatchObject({
      controllerName: ' → Undersigned Foundation',
      controllerEmail: ' → privacy@undersigned.example.org',
    });
    const settings = await asAdmin.get('/admin/settings');
    expect(byId(settings.text, 'controller-todo')).toBeUndefined();
    expect(fieldValue(settings.text, 'field-controllerAddress')).toBe(address);
    expect(byId((await asAdmin.get('/admin')).text, 'controller-todo')).toBeUndefined();
    expect(await publishPageSays(asOrganizer)).toBeNull();
  });

  it('keeps the controller when the other settings are saved, and those when the controller is', async () => {
    const other = await asAdmin.submit('/admin/settings', '/admin/settings', {
      require_review: 'yes',
      trending_alert_per_hour: '9',
    });
    expect(other.status).toBe(303);
    expect((await storedController(t)).controllerName).toBe('Undersigned Foundation');
    const again = await asAdmin.submit('/admin/settings', '/admin/settings/data-controller', {
      ...FILLED,
      controller_dpo: '',
    });
    expect(again.status).toBe(303);
    const stored = await t.platform.appDeps.settings.read();
    expect(stored).toMatchObject({ requireReview: true, trendingAlertPerHour: 9, controllerDpo: '' });
  });
});
