import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../../server/accounts/account.js';
import type { AuditAction } from '../../../server/audit/audit.js';
import type { AppDeps } from '../../../server/app.js';
import type { InterfaceLanguage } from '../../../server/lib/i18n.js';
import { createAccount, TEST_PASSWORD } from '../../support/accounts.js';
import { AUDIT_REFUSED, auditEntries, whileAuditRefused } from '../../support/audit-log.js';
import { createLetter } from '../../support/factories.js';
import { storeSignature } from '../../support/stored-signatures.js';
import { outboxMessage, testMessageId } from '../../support/temp-database.js';
import { createTestPlatform, type TestPlatform } from '../../support/test-platform.js';

const SECRET = 'test-secret-test-secret-test-secret-0123';

let t: TestPlatform;
let deps: AppDeps;
let admin: User;
let organizer: User;
let sequence = 0;

beforeAll(async () => {
  t = await createTestPlatform();
  deps = t.platform.appDeps;
  admin = await createAccount(t.platform, 'admin');
  organizer = await createAccount(t.platform, 'organizer');
});
afterAll(async () => {
  await t?.close();
});

const recipientValues = (email: string) => ({
  name: 'Ministry of Audits',
  title: '',
  organisation: '',
  country: 'KR',
  email,
  language: 'en',
  salutation: 'Dear Minister',
  notes: '',
});

/** A change an organizer or admin makes: how to prepare it, make it, and read what it changes. */
interface Step {
  action: AuditAction;
  /** Prepares one subject to change; returns what `change` and `state` need. */
  prepare: () => Promise<number | string>;
  change: (subject: number | string) => Promise<unknown>;
  state: (subject: number | string) => Promise<unknown>;
}

const user = async (id: number | string) => t.platform.repositories.users.findById(Number(id));
const recipient = async (id: number | string) => t.platform.repositories.recipients.findById(Number(id));
const message = async (id: number | string) =>
  (await t.platform.repositories.outbox.findById(Number(id)))?.status;
const queued = () => t.platform.repositories.outbox.enqueue(outboxMessage(), testMessageId(), t.clock.now());

const STEPS: Record<string, Step> = {
  'inviting a user': {
    action: 'user-invited',
    prepare: async () => `invited-${++sequence}@example.org`,
    change: (email) => deps.userAdmin.invite(admin, String(email), 'organizer'),
    state: (email) => t.platform.repositories.users.findByEmail(String(email)),
  },
  'changing a role': {
    action: 'role-changed',
    prepare: async () => (await createAccount(t.platform, 'organizer')).id,
    change: (id) => deps.userAdmin.changeRole(admin, Number(id), 'admin'),
    state: async (id) => (await user(id))?.role,
  },
  'disabling a user': {
    action: 'user-disabled',
    prepare: async () => (await createAccount(t.platform, 'organizer')).id,
    change: (id) => deps.userAdmin.disable(admin, Number(id)),
    state: async (id) => (await user(id))?.disabled,
  },
  'enabling a user': {
    action: 'user-enabled',
    prepare: async () => {
      const { id } = await createAccount(t.platform, 'organizer');
      await deps.userAdmin.disable(admin, id);
      return id;
    },
    change: (id) => deps.userAdmin.enable(admin, Number(id)),
    state: async (id) => (await user(id))?.disabled,
  },
  'changing the settings': {
    action: 'settings-changed',
    prepare: async () => 0,
    change: async () =>
      deps.settingsService.change(admin, {
        ...(await deps.settings.read()),
        trendingAlertPerHour: 1000 + ++sequence,
      }),
    state: () => deps.settings.read(),
  },
  'adding to a block list': {
    action: 'abuse-list-added',
    prepare: async () => `spam-${++sequence}.example`,
    change: (domain) =>
      deps.abuse.addEntry(admin, { list: 'block', kind: 'domain', value: String(domain), note: '' }),
    state: async () => (await deps.abuse.entries(admin)).length,
  },
  'removing from a block list': {
    action: 'abuse-list-removed',
    prepare: async () => {
      const added = await deps.abuse.addEntry(admin, {
        list: 'block',
        kind: 'domain',
        value: `gone-${++sequence}.example`,
        note: '',
      });
      if (added.kind !== 'added') throw new Error('the entry was not added');
      return added.entry.id;
    },
    change: (id) => deps.abuse.removeEntry(admin, Number(id)),
    state: async () => (await deps.abuse.entries(admin)).length,
  },
  'cancelling a message': {
    action: 'message-cancelled',
    prepare: queued,
    change: (id) => deps.queue.cancel(admin, Number(id)),
    state: message,
  },
  'retrying a message': {
    action: 'message-retried',
    prepare: async () => {
      const id = await queued();
      t.sink.reply = () => ({ code: 550, message: '5.1.1 User unknown' });
      await t.drainOutbox();
      t.sink.reply = undefined;
      return id;
    },
    change: (id) => deps.queue.retry(admin, Number(id)),
    state: message,
  },
  'adding a recipient': {
    action: 'recipient-created',
    prepare: async () => `added-${++sequence}@ministry.example.org`,
    change: (email) => deps.recipients.create(admin, recipientValues(String(email))),
    state: (email) => t.platform.repositories.recipients.findByEmail(String(email)),
  },
  'editing a recipient': {
    action: 'recipient-changed',
    prepare: async () => {
      const created = await deps.recipients.create(
        admin,
        recipientValues(`edited-${++sequence}@ministry.example.org`),
      );
      if (created.kind !== 'saved') throw new Error('the recipient was not added');
      return created.id;
    },
    change: async (id) =>
      deps.recipients.update(admin, Number(id), {
        ...recipientValues((await recipient(id))!.email),
        title: 'Minister',
      }),
    state: async (id) => (await recipient(id))?.title,
  },
  'deleting a recipient': {
    action: 'recipient-deleted',
    prepare: async () => {
      const created = await deps.recipients.create(
        admin,
        recipientValues(`deleted-${++sequence}@ministry.example.org`),
      );
      if (created.kind !== 'saved') throw new Error('the recipient was not added');
      return created.id;
    },
    change: (id) => deps.recipients.delete(admin, Number(id)),
    state: recipient,
  },
  'importing recipients': {
    action: 'recipients-imported',
    prepare: async () => {
      const staged = await deps.recipients.stage(
        admin,
        'audited.csv',
        `name,email,language,salutation\nImported ${++sequence},imported-${sequence}@ministry.example.org,en,Dear Sir`,
      );
      if (staged.kind !== 'staged') throw new Error('the import was not staged');
      return staged.id;
    },
    change: (id) => deps.recipients.confirm(admin, String(id)),
    state: async () => (await t.platform.repositories.recipients.listAll()).length,
  },
  "choosing the language of one's e-mails": {
    action: 'email-language-changed',
    prepare: async () => {
      await t.platform.repositories.users.setLanguage(admin.id, 'en', t.clock.now());
      return admin.id;
    },
    change: () => deps.accounts.chooseEmailLanguage(admin, 'uk'),
    state: async (id) => (await user(id))?.language,
  },
  'erasing a person': {
    action: 'erasure',
    prepare: async () => {
      const { id } = await createLetter(t.platform.db, t.clock.now());
      const email = `erase-${++sequence}@example.org`;
      await storeSignature(t.platform.db, SECRET, id, {
        name: 'Someone To Erase',
        email,
        status: 'confirmed',
        country: 'KR',
        createdAt: '2026-11-20T10:00:00.000Z',
      });
      return email;
    },
    change: (email) => deps.privacy.erase(String(email), admin),
    state: async () =>
      (await t.platform.db.selectFrom('signatures').select('email').orderBy('id').execute()).map(
        (s) => s.email,
      ),
  },
};

describe('every change an organizer or admin makes is audited in the transaction that makes it', () => {
  it.each(Object.keys(STEPS))('%s: writes its entry with the change', async (name) => {
    const step = STEPS[name]!;
    const subject = await step.prepare();
    const before = await step.state(subject);
    const entries = (await auditEntries(t.platform.db, step.action)).length;
    await step.change(subject);
    expect(await step.state(subject)).not.toEqual(before);
    const after = await auditEntries(t.platform.db, step.action);
    expect(after).toHaveLength(entries + 1);
    expect(after.at(-1)).toMatchObject({ actor_user_id: admin.id, actor_email: admin.email });
  });

  it.each(Object.keys(STEPS))('%s: does not happen when its entry cannot be written', async (name) => {
    const step = STEPS[name]!;
    const subject = await step.prepare();
    const before = await step.state(subject);
    const entries = await auditEntries(t.platform.db);
    await expect(whileAuditRefused(t.platform.db, () => step.change(subject))).rejects.toThrow(AUDIT_REFUSED);
    expect(await step.state(subject)).toEqual(before);
    expect(await auditEntries(t.platform.db)).toEqual(entries);
  });
});

describe('a refused change leaves no entry', () => {
  const refusals: [string, () => Promise<unknown>, number][] = [
    [
      'an organizer changing a role',
      async () => deps.userAdmin.changeRole(organizer, admin.id, 'organizer'),
      403,
    ],
    ['an organizer disabling an admin', async () => deps.userAdmin.disable(organizer, admin.id), 403],
    ['an admin disabling themselves', async () => deps.userAdmin.disable(admin, admin.id), 409],
    [
      'an organizer changing the settings',
      async () => deps.settingsService.change(organizer, await deps.settings.read()),
      403,
    ],
    [
      'an organizer adding to a block list',
      () => deps.abuse.addEntry(organizer, { list: 'block', kind: 'domain', value: 'x.example', note: '' }),
      403,
    ],
    ['retrying a message that has not failed', async () => deps.queue.retry(admin, await queued()), 409],
    [
      'deleting a recipient a letter addresses',
      async () => {
        const { id } = await createLetter(t.platform.db, t.clock.now());
        const [used] = await t.platform.db
          .selectFrom('letter_recipients')
          .select('recipient_id')
          .where('letter_id', '=', id)
          .execute();
        return deps.recipients.delete(admin, used!.recipient_id);
      },
      409,
    ],
  ];

  it.each(refusals)('%s', async (_name, change, status) => {
    const entries = await auditEntries(t.platform.db);
    await expect(change()).rejects.toMatchObject({ status });
    expect(await auditEntries(t.platform.db)).toEqual(entries);
  });
});

describe("choosing the language of one's e-mails", () => {
  it('records the old and the new language on the account', async () => {
    const owner = await createAccount(t.platform, 'organizer');
    await deps.accounts.chooseEmailLanguage(owner, 'ko');
    expect((await auditEntries(t.platform.db, 'email-language-changed')).at(-1)).toMatchObject({
      actor_user_id: owner.id,
      target_type: 'user',
      target_id: String(owner.id),
      details: { from: 'en', to: 'ko' },
    });
    expect((await user(owner.id))?.language).toBe('ko');
  });

  it('records nothing when the language is the one the account has', async () => {
    const owner = await createAccount(t.platform, 'organizer');
    const entries = await auditEntries(t.platform.db);
    await deps.accounts.chooseEmailLanguage(owner, 'en');
    expect(await auditEntries(t.platform.db)).toEqual(entries);
  });

  it('refuses, in the service, a language that is not an interface language, storing nothing', async () => {
    const owner = await createAccount(t.platform, 'organizer');
    const entries = await auditEntries(t.platform.db);
    for (const language of ['de', 'ko-KR', 'KO', '']) {
      await expect(
        deps.accounts.chooseEmailLanguage(owner, language as InterfaceLanguage),
        language,
      ).rejects.toMatchObject({ status: 400, code: 'email_language_invalid' });
    }
    expect((await user(owner.id))?.language).toBe('en');
    expect(await auditEntries(t.platform.db)).toEqual(entries);
  });
});

describe('a login', () => {
  it('is recorded in the transaction that records it on the account', async () => {
    const user = await createAccount(t.platform, 'organizer');
    const lastLogin = async () => (await t.platform.repositories.users.findById(user.id))!.lastLoginAt;
    await expect(
      whileAuditRefused(t.platform.db, () =>
        t.platform.accounts.login(user.email, TEST_PASSWORD, '192.0.2.1'),
      ),
    ).rejects.toThrow(AUDIT_REFUSED);
    expect(await lastLogin()).toBeNull();

    expect((await t.platform.accounts.login(user.email, TEST_PASSWORD, '192.0.2.1')).kind).toBe('ok');
    expect(await lastLogin()).toEqual(t.clock.now());
    expect((await auditEntries(t.platform.db, 'login')).at(-1)).toMatchObject({ actor_user_id: user.id });
  });
});
