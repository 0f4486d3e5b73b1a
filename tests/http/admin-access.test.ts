import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../server/accounts/account.js';
import type { Db } from '../../server/db/database.js';
import type { EditorValues } from '../../server/letters/letter-input.js';
import { DeliveryReplyRepository } from '../../server/deliveries/delivery-reply-repository.js';
import { createAccount, loginAs, TEST_PASSWORD } from '../support/accounts.js';
import { createLetter, type LetterOverrides } from '../support/factories.js';
import { byId, hrefsIn, innerHtml, mainOf, textOf } from '../support/html.js';
import { describesItsError, fieldErrors } from '../support/admin-forms.js';
import { auditEntries } from '../support/audit-log.js';
import { csrfTokenIn, Visitor } from '../support/http.js';
import { ERROR_TITLES, expectErrorPage, sign } from '../support/signing.js';
import { commitList } from '../support/committed-lists.js';
import { EscalationRepository } from '../../server/deliveries/escalation-repository.js';
import { recordSentRound } from '../support/sent-deliveries.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

interface AdminRoute {
  method: 'GET' | 'POST';
  /** The route as declared, under /admin: `/admin/letters/:id`. */
  route: string;
}

interface LayerLike {
  rawPath?: unknown;
  handle: { stack?: LayerLike[] };
  route?: { path: string; stack: { method?: string }[] };
}

/** Every route the app serves under /admin, read from its routers (so a new route cannot be missed). */
function adminRoutesOf(app: TestPlatform['app']): AdminRoute[] {
  const stack = (app as unknown as { router: { stack: LayerLike[] } }).router.stack;
  const mount = stack.find((layer) => layer.rawPath === '/admin' && layer.handle.stack);
  if (!mount) throw new Error('no router is mounted at /admin');
  const routes = new Map<string, AdminRoute>();
  const walk = (layers: LayerLike[]) => {
    for (const layer of layers) {
      if (layer.route) {
        for (const method of new Set(layer.route.stack.map((l) => l.method?.toUpperCase()))) {
          if (method !== 'GET' && method !== 'POST') continue;
          const route = `/admin${layer.route.path === '/' ? '' : layer.route.path}`;
          routes.set(`${method} ${route}`, { method, route });
        }
      } else if (layer.handle.stack) {
        walk(layer.handle.stack);
      }
    }
  };
  walk(mount.handle.stack!);
  return [...routes.values()];
}

// Read from a throwaway platform at collection time, so each route gets its own test.
const ROUTES = await (async () => {
  const probe = await createTestPlatform();
  try {
    return adminRoutesOf(probe.app);
  } finally {
    await probe.close();
  }
})();
const POSTS = ROUTES.filter((r) => r.method === 'POST');
const label = (r: AdminRoute) => `${r.method} ${r.route}`;

/**
 * Admin-only routes: platform settings, the mail queue, review (sending a letter back, approving or
 * returning changes waiting for review), everything about signer data and accounts (moderation,
 * erasure, exports, users, the audit log), the block and allow lists, and the captured mailbox.
 */
const isAdminOnly = (r: AdminRoute) =>
  /^\/admin\/(settings|queue|signatures|erasure|exports|users|audit|abuse|mailbox)(\/|$)/.test(r.route) ||
  /^\/admin\/letters\/:id\/(return|changes\/approve|changes\/return)$/.test(r.route);
/** Routes about one letter, which only its owner, its collaborators and admins may use. */
const isAboutOneLetter = (r: AdminRoute) => r.route.startsWith('/admin/letters/:id');
/** Leaving a letter: only for an account it was shared with, never its owner or an admin (tested below). */
const isForCollaborators = (r: AdminRoute) => r.route.endsWith('/leave');
/**
 * Withdrawing a review request: only for the letter's organizers (its owner and collaborators), never an
 * admin as such, who approves it or sends it back instead (tested below).
 */
const isForTheLettersOrganizers = (r: AdminRoute) => r.route.endsWith('/withdraw-review');

const MESSAGES = {
  adminOnly: 'Only admins can open this page.',
  letterForbidden: 'This letter belongs to another organizer. Ask its owner to share it with you.',
  onlyOwnerShares: "Only the letter's owner or an admin can change who it is shared with.",
  csrf: 'This form has expired or was sent from another site. Go back, reload the page and try again.',
};

/**
 * Everything stored, table by table, except what a request may legitimately touch: session expiry, the
 * counters of request limits (a limited route such as POST /admin/exports counts every request that
 * reaches it, refused or not, as the login form counts failed attempts), and a refusal's own entry in the
 * audit log (tests/http/access-refusals-audited.test.ts).
 */
async function snapshot(db: Db): Promise<Record<string, unknown[]>> {
  // Kysely reads the table names from either database's catalogue (its own migration tables left out).
  const tables = (await db.introspection.getTables())
    .map((table) => table.name)
    .filter((name) => !['sessions', 'login_throttles', 'limit_counters'].includes(name))
    .sort();
  const result: Record<string, unknown[]> = {};
  for (const name of tables) {
    const { rows } = await (
      name === 'audit_events'
        ? sql`select * from audit_events where action <> 'access-refused'`
        : sql`select * from ${sql.table(name)}`
    ).execute(db);
    // In an order of their own: PostgreSQL returns rows in no fixed order, and a row rewritten with the
    // same values may come back elsewhere.
    result[name] = rows.map((row) => JSON.stringify(row)).sort();
  }
  return result;
}

/** The editor form for these values, as the browser sends it. */
function editorForm(values: EditorValues): Record<string, string> {
  const form: Record<string, string> = {
    slug: values.slug,
    primary_language: values.primaryLanguage,
    languages: values.languages.join(','),
    sponsor: values.sponsor,
    goal: values.goal,
    opens_at: values.opensAt,
    closes_at: values.closesAt,
    organisations: values.organisations,
    recipients: values.recipientIds.join(','),
  };
  if (values.languages.length !== 1 || values.recipientIds.length !== 1)
    throw new Error('editorForm sends one language and one recipient');
  if (values.closeOnGoal) form.close_on_goal = 'yes';
  for (const [language, text] of Object.entries(values.texts)) {
    form[`title_${language}`] = text.title;
    form[`summary_${language}`] = text.summary;
    form[`body_${language}`] = text.body;
  }
  return form;
}

/** The ids of the letters a page links to as /admin/letters/<id>. */
function letterIdsLinked(html: string): number[] {
  const ids = hrefsIn(mainOf(html)).flatMap((href) => {
    const match = /^\/admin\/letters\/(\d+)(?:[/?#]|$)/.exec(href);
    return match ? [Number(match[1])] : [];
  });
  return [...new Set(ids)].sort((a, b) => a - b);
}

/**
 * Stores a real message, with an HTML part and a PDF attached, in the captured mailbox as the capture
 * server names its files; returns its name.
 */
async function captureMessageWithPdf(mailboxDir: string): Promise<string> {
  const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  const info = await composer.sendMail({
    from: 'letters@undersigned.example.org',
    to: 'embassy@example.org',
    subject: 'Open letter with annex',
    text: 'The letter is attached.',
    html: '<p>The letter is attached.</p>',
    attachments: [
      {
        filename: 'letter-annex.pdf',
        content: Buffer.from('%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n', 'latin1'),
        contentType: 'application/pdf',
      },
    ],
  });
  const name = '2026-11-23T10-00-00-000Z-0a1b2c3d.eml';
  mkdirSync(mailboxDir, { recursive: true });
  writeFileSync(path.join(mailboxDir, name), info.message as Buffer);
  return name;
}

/** The message of the one error page. */
function errorMessage(html: string): string {
  return textOf(mainOf(html).split('</h1>')[1]!.split('</p>')[0]!);
}

describe('access to the admin pages', () => {
  let t: TestPlatform;
  let admin: User;
  let owner: User;
  let stranger: User;
  let collaborator: User;
  const as: Record<'admin' | 'owner' | 'stranger' | 'collaborator', Visitor> = {} as never;
  /** The owner's letters, one per state the routes need, and one shared with `collaborator`. */
  const letters = {
    open: 0,
    draft: 0,
    closed: 0,
    inReview: 0,
    withChanges: 0,
    shared: 0,
    strangers: 0,
    unowned: 0,
  };
  const ids = {
    templateSlug: '',
    importOfAdmin: '',
    importOfOwner: '',
    recipient: 0,
    outboxMessage: 0,
    /** A pending signature (invalidating it would change it) and an invalidated one (restoring would). */
    standingSignature: 0,
    invalidatedSignature: 0,
    /** A signature silenced by the block list (clearing it would change it). */
    suspectSignature: 0,
    unownedSlug: '',
    /** An entry of the block list, and a captured message with a PDF attached. */
    abuseEntry: 0,
    capturedMessage: '',
    /** A webhook endpoint of the owner's open letter, and a delivered round of it (its PDF). */
    webhookEndpoint: 0,
    sentRound: 0,
    /** A pending escalation step of the owner's open letter (cancelling it would change it). */
    escalationStep: 0,
    /** An API token of the admin's and one of the owner's: each account sees only its own. */
    tokenOfAdmin: 0,
    tokenOfOwner: 0,
    /** An official's reply to the delivered round of the owner's open letter (publishing it would change it). */
    reply: 0,
  };
  /**
   * An organizer whose role or state a let-through request would change (locked out of logging in, so
   * that an unlock would change something too), and a disabled account to enable.
   */
  let target: User;
  let disabled: User;
  let openLetterForm: Record<string, string>;

  async function ownedLetter(ownerId: number, overrides: LetterOverrides = {}): Promise<number> {
    const { id } = await createLetter(t.platform.db, t.clock.now(), overrides);
    await t.platform.db.updateTable('letters').set({ owner_id: ownerId }).where('id', '=', id).execute();
    return id;
  }

  async function stageImport(visitor: Visitor, email: string): Promise<string> {
    const pasted = `name,email,language,salutation\nMinistry of Tests,${email},en,Dear Minister`;
    const response = await visitor.submit('/admin/recipients/import', '/admin/recipients/import', { pasted });
    expect(response.status, 'the import is staged').toBe(303);
    return response.headers.location!.split('/').at(-1)!;
  }

  /** The route with its parameters filled in, each pointing at something that exists. */
  function pathOf(
    route: string,
    letterIds: Partial<typeof letters> = {},
    importId = ids.importOfAdmin,
    tokenId = ids.tokenOfAdmin,
  ): string {
    const letter = { ...letters, ...letterIds };
    // Sharing's steps need an account the letter is shared with: the shared letter's collaborator.
    const letterId = /\/(collaborators\/:userId\/remove|leave)$/.test(route)
      ? letter.shared
      : route.endsWith('/withdraw-review')
        ? letter.inReview
        : route.endsWith('/publish') || route.endsWith('/delete')
          ? letter.draft
          : route.endsWith('/reopen')
            ? letter.closed
            : route.endsWith('/changes/return')
              ? letter.withChanges
              : route.endsWith('/return')
                ? letter.inReview
                : letter.open;
    const path = route
      .replace('/letters/templates/:slug', `/letters/templates/${ids.templateSlug}`)
      .replace('/letters/:id', `/letters/${letterId}`)
      .replace('/webhooks/:endpointId/:step', `/webhooks/${ids.webhookEndpoint}/disable`)
      .replace('/webhooks/:endpointId', `/webhooks/${ids.webhookEndpoint}`)
      .replace('/replies/:replyId/:step', `/replies/${ids.reply}/publish`)
      .replace('/rounds/:round/:language.pdf', `/rounds/${ids.sentRound}/en.pdf`)
      .replace('/rounds/:round/erratum', `/rounds/${ids.sentRound}/erratum`)
      .replace('/escalation/steps/:step/cancel', `/escalation/steps/${ids.escalationStep}/cancel`)
      .replace('/api-tokens/:id', `/api-tokens/${tokenId}`)
      .replace(':userId', String(collaborator.id))
      .replace('/recipients/import/:id', `/recipients/import/${importId}`)
      .replace('/recipients/:id', `/recipients/${ids.recipient}`)
      .replace('/queue/:id', `/queue/${ids.outboxMessage}`)
      .replace(
        '/signatures/:id',
        `/signatures/${
          route.endsWith('/restore')
            ? ids.invalidatedSignature
            : route.endsWith('/clear')
              ? ids.suspectSignature
              : ids.standingSignature
        }`,
      )
      .replace('/abuse/entries/:id', `/abuse/entries/${ids.abuseEntry}`)
      .replace('/mailbox/:name', `/mailbox/${ids.capturedMessage}`)
      .replace('/attachments/:number', '/attachments/1')
      .replace('/users/:id', `/users/${route.endsWith('/enable') ? disabled.id : target.id}`);
    if (path.includes(':')) throw new Error(`the test does not know how to fill in ${route}`);
    return path;
  }

  /** A body that would change something if the request were let through. */
  function bodyFor(route: string): Record<string, string> {
    switch (route) {
      case '/admin/letters':
        return { ...openLetterForm, slug: 'made-without-permission', title_en: 'Made without permission' };
      case '/admin/letters/:id':
        return { ...openLetterForm, title_en: 'Changed without permission' };
      case '/admin/letters/preview.json':
      case '/admin/letters/:id/preview.json':
        return openLetterForm;
      case '/admin/letters/:id/collaborators':
        return { email: stranger.email };
      case '/admin/recipients':
      case '/admin/recipients/:id':
        return {
          name: 'Changed without permission',
          title: '',
          organisation: '',
          country: 'KR',
          email: 'changed@example.org',
          language: 'en',
          salutation: 'Dear Sir or Madam',
          notes: '',
        };
      case '/admin/recipients/import':
        return { pasted: 'name,email,language,salutation\nSomeone,someone@example.org,en,Dear Someone' };
      case '/admin/settings':
        return { require_review: 'yes', trending_alert_per_hour: '7' };
      case '/admin/settings/data-controller':
        return {
          controller_name: 'Named without permission',
          controller_address: '1 Test Street',
          controller_email: 'controller@example.org',
        };
      case '/admin/letters/:id/delivery/escalation':
        return { days: '7' };
      case '/admin/signatures/:id/invalidate':
        return { reason: 'invalidated without permission' };
      case '/admin/signatures/bulk':
        // The count the preview would show: the pending signature on the unowned letter.
        return {
          letter: ids.unownedSlug,
          domain: 'example.org',
          expected: '1',
          reason: 'without permission',
        };
      case '/admin/signatures/bulk/restore':
        // The count the preview would show: the invalidated signature on the unowned letter.
        return { letter: ids.unownedSlug, domain: 'example.net', expected: '1' };
      case '/admin/signatures/bulk/clear':
        // The held signature from the block-listed domain, on the unowned letter.
        return { letter: ids.unownedSlug, domain: 'listed.example', expected: '1' };
      case '/admin/erasure':
        return { email: 'ji-hoon@example.org', confirm: 'yes' };
      case '/admin/exports':
        // A successful export leaves an entry in the audit log, which the snapshot would show.
        return { letter: '', format: 'csv', status: 'pending', columns: 'status' };
      case '/admin/users/invite':
        return { email: 'invited-without-permission@example.org', role: 'admin' };
      case '/admin/users/:id/role':
        return { role: 'admin', confirmed: 'yes' };
      case '/admin/abuse/entries':
        return { list: 'block', kind: 'domain', value: 'blocked-without-permission.example', note: '' };
      case '/admin/abuse/trending/block':
        return { kind: 'domain', value: 'trending-without-permission.example', confirm: 'yes' };
      default:
        return route.includes('/delivery/') ? { request_key: 'a-request-key-for-the-test' } : {};
    }
  }

  beforeAll(async () => {
    // With Chromium: the organizer's download of a delivered letter's PDF is one of the routes.
    t = await createTestPlatform({ pdf: true });
    admin = await createAccount(t.platform, 'admin');
    owner = await createAccount(t.platform, 'organizer');
    stranger = await createAccount(t.platform, 'organizer');
    collaborator = await createAccount(t.platform, 'organizer');
    as.admin = await loginAs(t.app, admin);
    as.owner = await loginAs(t.app, owner);
    as.stranger = await loginAs(t.app, stranger);
    as.collaborator = await loginAs(t.app, collaborator);

    letters.open = await ownedLetter(owner.id, { title: 'The owner’s open letter' });
    letters.draft = await ownedLetter(owner.id, { status: 'draft', title: 'The owner’s draft' });
    letters.closed = await ownedLetter(owner.id, { status: 'closed', title: 'The owner’s closed letter' });
    letters.inReview = await ownedLetter(owner.id, { status: 'draft', title: 'The owner’s draft in review' });
    await t.platform.repositories.letters.setReviewRequested(letters.inReview, t.clock.now());
    // A published letter whose owner's changes wait for review (saved while review was required).
    letters.withChanges = await ownedLetter(owner.id, { title: 'The owner’s letter with changes in review' });
    {
      const { drafting } = t.platform.letterAdmin;
      const { settings } = t.platform.appDeps;
      await settings.write({ ...(await settings.read()), requireReview: true }, t.clock.now());
      const values = drafting.valuesOf(await drafting.editor(owner, letters.withChanges));
      const saved = await drafting.save(
        owner,
        letters.withChanges,
        { ...values, sponsor: 'A new sponsor' },
        true,
      );
      expect(saved.kind).toBe('held-for-review');
      await settings.write({ ...(await settings.read()), requireReview: false }, t.clock.now());
    }
    letters.shared = await ownedLetter(owner.id, { status: 'draft', title: 'The owner’s shared draft' });
    await t.platform.repositories.letters.addCollaborator(letters.shared, collaborator.id, t.clock.now());
    letters.strangers = await ownedLetter(stranger.id, { status: 'draft', title: 'The stranger’s draft' });
    const unowned = await createLetter(t.platform.db, t.clock.now(), { title: 'A seed letter nobody owns' });
    letters.unowned = unowned.id;

    // A supporter's signature puts a message in the mail queue.
    await sign(new Visitor(t.app), unowned.slug);
    const message = await t.platform.db
      .selectFrom('outbox_messages')
      .select(['id', 'signature_id'])
      .where('kind', '=', 'signature-confirmation')
      .executeTakeFirstOrThrow();
    ids.outboxMessage = message.id;
    ids.unownedSlug = unowned.slug;
    ids.standingSignature = message.signature_id!;
    await sign(new Visitor(t.app), unowned.slug, { name: 'Olena Kovalenko', email: 'olena@example.net' });
    const second = await t.platform.db
      .selectFrom('signatures')
      .select('id')
      .where('email', '=', 'olena@example.net')
      .executeTakeFirstOrThrow();
    ids.invalidatedSignature = second.id;
    await t.platform.appDeps.moderation.invalidate(admin, second.id, 'spam, for the test');
    // A domain on the block list: a signature from it is answered like any other, and silenced.
    const listed = await t.platform.appDeps.abuse.addEntry(admin, {
      list: 'block',
      kind: 'domain',
      value: 'listed.example',
      note: 'for the test',
    });
    if (listed.kind !== 'added') throw new Error('the block list entry was not added');
    ids.abuseEntry = listed.entry.id;
    await sign(new Visitor(t.app), unowned.slug, { name: 'Listed Sender', email: 'sender@listed.example' });
    const suspect = await t.platform.db
      .selectFrom('signatures')
      .select(['id', 'suspect_reasons'])
      .where('email', '=', 'sender@listed.example')
      .executeTakeFirstOrThrow();
    expect(suspect.suspect_reasons, 'the listed sender’s signature is silenced').toContain('blocked-domain');
    ids.suspectSignature = suspect.id;
    ids.capturedMessage = await captureMessageWithPdf(t.config.mailboxDir);
    target = await createAccount(t.platform, 'organizer');
    disabled = await createAccount(t.platform, 'organizer');
    await t.platform.appDeps.userAdmin.disable(admin, disabled.id);
    for (let n = 0; n < 3; n += 1) {
      await new Visitor(t.app).submit('/login', '/login', { email: target.email, password: 'a wrong guess' });
    }
    const locked = await new Visitor(t.app).submit('/login', '/login', {
      email: target.email,
      password: TEST_PASSWORD,
    });
    expect(locked.status, 'the target is locked out').toBe(429);
    ids.templateSlug = t.platform.letterAdmin.drafting.templates()[0]!.slug;
    ids.recipient = await t.platform.repositories.recipients.findOrCreate(
      {
        name: 'An unused recipient',
        title: '',
        organisation: 'Unused office',
        country: 'KR',
        email: 'unused@example.org',
        language: 'en',
        salutation: 'Dear Sir or Madam',
      },
      t.clock.now(),
    );
    ids.importOfAdmin = await stageImport(as.admin, 'admin-import@example.org');
    ids.importOfOwner = await stageImport(as.owner, 'owner-import@example.org');
    // What the webhook, download and token routes act on.
    ids.webhookEndpoint = (
      await t.platform.appDeps.webhooks.register(owner, letters.open, {
        url: 'https://93.184.216.34/hooks/receiver',
        events: ['letter.published'],
      })
    ).id;
    ids.sentRound = await recordSentRound(
      t.platform.db,
      letters.open,
      [{ name: 'Embassy of the test', organisation: '' }],
      { createdAt: t.clock.now(), sentAt: t.clock.now(), signatureCount: 0 },
    );
    // Its published list (empty): a correction of it is asked for on a page of its own.
    await commitList(t.platform.db, ids.sentRound, [], t.clock.now());
    const sentDelivery = await t.platform.db
      .selectFrom('deliveries')
      .select(['id', 'recipient_id'])
      .where('delivery_round_id', '=', ids.sentRound)
      .executeTakeFirstOrThrow();
    ids.reply = (await new DeliveryReplyRepository(t.platform.db).store({
      deliveryId: sentDelivery.id,
      letterId: letters.open,
      recipientId: sentDelivery.recipient_id,
      fromAddress: 'consul@example.org',
      fromName: 'The Consul',
      subject: 'Re: the letter',
      bodyText: 'We received it.',
      automatic: false,
      messageId: '<admin-access-reply@example.org>',
      receivedAt: t.clock.now(),
      senderDomain: null,
    }))!.id;
    ids.escalationStep = (await new EscalationRepository(t.platform.db).planStep(
      {
        letterId: letters.open,
        fromTier: 1,
        toTier: 2,
        basisRoundId: ids.sentRound,
        tierReachedAt: t.clock.now(),
        days: 14,
        dueAt: new Date(t.clock.now().getTime() + 14 * 86_400_000),
      },
      t.clock.now(),
    ))!.id;
    ids.tokenOfAdmin = (await t.platform.appDeps.apiTokens.create(admin, { name: 'Admin', lifetime: 0 })).id;
    ids.tokenOfOwner = (await t.platform.appDeps.apiTokens.create(owner, { name: 'Owner', lifetime: 0 })).id;
    openLetterForm = editorForm(
      t.platform.letterAdmin.drafting.valuesOf(
        await t.platform.letterAdmin.drafting.editor(admin, letters.open),
      ),
    );
  });
  afterAll(async () => {
    await t?.close();
  });

  it('finds every admin route in the routers, and knows how to fill in each', () => {
    const labels = ROUTES.map(label);
    for (const known of [
      'GET /admin',
      'GET /admin/letters',
      'GET /admin/letters/:id',
      'POST /admin/letters/:id',
      'POST /admin/letters/:id/preview.json',
      'POST /admin/letters/:id/collaborators/:userId/remove',
      'GET /admin/recipients/import/:id',
      'POST /admin/recipients/:id/delete',
      'GET /admin/settings',
      'POST /admin/settings',
      'POST /admin/settings/data-controller',
      'GET /admin/signatures',
      'POST /admin/signatures/:id/invalidate',
      'POST /admin/signatures/:id/restore',
      'POST /admin/signatures/bulk',
      'GET /admin/signatures/bulk/restore',
      'POST /admin/signatures/bulk/restore',
      'POST /admin/erasure',
      'GET /admin/exports',
      'POST /admin/exports',
      'POST /admin/users/invite',
      'POST /admin/users/:id/role',
      'GET /admin/users/:id/disable',
      'POST /admin/users/:id/disable',
      'POST /admin/users/:id/enable',
      'GET /admin/audit',
      'POST /admin/letters/:id/changes/approve',
      'POST /admin/letters/:id/changes/return',
      'GET /admin/letters/:id/withdraw-review',
      'POST /admin/letters/:id/withdraw-review',
      'POST /admin/signatures/:id/clear',
      'POST /admin/users/:id/unlock',
      'GET /admin/abuse',
      'POST /admin/abuse/entries',
      'GET /admin/abuse/entries/:id/remove',
      'POST /admin/abuse/entries/:id/remove',
      'GET /admin/abuse/trending',
      'POST /admin/abuse/trending/block',
      // The captured mailbox exists whenever mail is captured (SMTP_URL unset), as in these tests.
      'GET /admin/mailbox',
      'GET /admin/mailbox/:name',
      'GET /admin/mailbox/:name/html',
      'GET /admin/mailbox/:name/attachments/:number',
      'GET /admin/api-tokens/:id/revoke',
      'POST /admin/api-tokens/:id/revoke',
      'GET /admin/letters/:id/webhooks/:endpointId',
      'GET /admin/letters/:id/webhooks/:endpointId/:step',
      'POST /admin/letters/:id/webhooks/:endpointId/:step',
      'GET /admin/letters/:id/delivery/rounds/:round/:language.pdf',
      'GET /admin/letters/:id/delivery/rounds/:round/erratum',
      'POST /admin/letters/:id/delivery/rounds/:round/erratum',
      'GET /admin/letters/:id/supporters',
      'POST /admin/letters/:id/supporters',
      'GET /admin/letters/:id/replies',
      'GET /admin/letters/:id/replies/:replyId/:step',
      'POST /admin/letters/:id/replies/:replyId/:step',
      'POST /admin/letters/:id/delivery/escalation',
      'GET /admin/letters/:id/delivery/escalation/steps/:step/cancel',
      'POST /admin/letters/:id/delivery/escalation/steps/:step/cancel',
    ]) {
      expect(labels).toContain(known);
    }
    expect(ROUTES.length).toBeGreaterThanOrEqual(45);
    for (const r of ROUTES) expect(() => pathOf(r.route), label(r)).not.toThrow();
  });

  describe('anonymous visitors', () => {
    it.each(ROUTES.map((r) => [label(r), r] as const))(
      '%s sends them to the login form (303) and changes nothing',
      async (_label, r) => {
        const before = await snapshot(t.platform.db);
        const anonymous = new Visitor(t.app);
        const path = pathOf(r.route);
        // A POST carries a valid CSRF token: only the missing login stops it.
        const response =
          r.method === 'GET'
            ? await anonymous.get(path)
            : await anonymous.submit('/login', path, bodyFor(r.route));
        expect(response.status).toBe(303);
        // A form sent without a session (one that ended) says so on the login form; without a page of
        // this site it came from, it comes back to the dashboard.
        expect(response.headers.location).toBe(
          r.method === 'GET'
            ? `/login?next=${encodeURIComponent(path)}`
            : `/login?next=${encodeURIComponent('/admin')}&done=sessionEnded`,
        );
        expect(await snapshot(t.platform.db)).toEqual(before);
      },
    );
  });

  describe('forms without a CSRF token', () => {
    it.each(POSTS.map((r) => [label(r), r] as const))(
      '%s is refused with 403, even for an admin, and changes nothing',
      async (_label, r) => {
        const before = await snapshot(t.platform.db);
        const response = await as.admin.agent
          .post(pathOf(r.route))
          .type('form')
          .set('Accept', 'text/html')
          .send(bodyFor(r.route));
        expectErrorPage(response, 403, ERROR_TITLES[403]);
        expect(errorMessage(response.text)).toBe(MESSAGES.csrf);
        expect(await snapshot(t.platform.db)).toEqual(before);
      },
    );

    it('refuses a token taken from another browser', async () => {
      const before = await snapshot(t.platform.db);
      const othersToken = csrfTokenIn((await new Visitor(t.app).get('/login')).text);
      const response = await as.admin.agent
        .post('/admin/settings')
        .type('form')
        .set('Accept', 'text/html')
        .send({ require_review: 'yes', _csrf: othersToken });
      expectErrorPage(response, 403, ERROR_TITLES[403]);
      expect(await snapshot(t.platform.db)).toEqual(before);
    });

    it('refuses an uploaded CSV file sent without a token, and stages nothing', async () => {
      const before = await snapshot(t.platform.db);
      const response = await as.admin.agent
        .post('/admin/recipients/import')
        .set('Accept', 'text/html')
        .attach(
          'file',
          Buffer.from('name,email,language,salutation\nUploaded,uploaded@example.org,en,Dear Sir'),
          'recipients.csv',
        );
      expectErrorPage(response, 403, ERROR_TITLES[403]);
      expect(await snapshot(t.platform.db)).toEqual(before);
    });
  });

  describe('organizers', () => {
    it.each(ROUTES.filter(isAdminOnly).map((r) => [label(r), r] as const))(
      '%s is for admins only: an organizer gets 403 and nothing changes',
      async (_label, r) => {
        const before = await snapshot(t.platform.db);
        // The owner, on the owner's own letter, with a valid token: only the role stops it.
        const path = pathOf(r.route);
        const response =
          r.method === 'GET'
            ? await as.owner.get(path)
            : await as.owner.submit('/admin', path, bodyFor(r.route));
        expectErrorPage(response, 403, ERROR_TITLES[403]);
        expect(errorMessage(response.text)).toBe(MESSAGES.adminOnly);
        expect(await snapshot(t.platform.db)).toEqual(before);
      },
    );

    it.each(
      ROUTES.filter((r) => r.method === 'GET' && !isAdminOnly(r) && !isForCollaborators(r)).map(
        (r) => [label(r), r] as const,
      ),
    )('%s opens for an organizer on their own letter', async (_label, r) => {
      const response = await as.owner.get(pathOf(r.route, {}, ids.importOfOwner, ids.tokenOfOwner));
      expect(response.status).toBe(200);
    });

    it('cannot see or revoke another account’s API token', async () => {
      const before = await snapshot(t.platform.db);
      const page = await as.owner.get(`/admin/api-tokens/${ids.tokenOfAdmin}/revoke`);
      expectErrorPage(page, 403, ERROR_TITLES[403]);
      const revoke = await as.owner.submit('/admin', `/admin/api-tokens/${ids.tokenOfAdmin}/revoke`, {});
      expectErrorPage(revoke, 403, ERROR_TITLES[403]);
      expect(await snapshot(t.platform.db)).toEqual(before);
    });

    it('cannot see another organizer’s staged CSV import', async () => {
      const response = await as.owner.get(`/admin/recipients/import/${ids.importOfAdmin}`);
      expectErrorPage(response, 404, ERROR_TITLES[404]);
      const confirm = await as.owner.submit(
        '/admin',
        `/admin/recipients/import/${ids.importOfAdmin}/confirm`,
        {},
      );
      expectErrorPage(confirm, 404, ERROR_TITLES[404]);
      expect(
        await t.platform.repositories.recipients.findByEmail('admin-import@example.org'),
      ).toBeUndefined();
    });

    it.each(ROUTES.filter(isAboutOneLetter).map((r) => [label(r), r] as const))(
      '%s on another organizer’s letter is refused with 403, shows nothing of it, and changes nothing',
      async (_label, r) => {
        const before = await snapshot(t.platform.db);
        const path = pathOf(r.route);
        const response =
          r.method === 'GET'
            ? await as.stranger.get(path)
            : await as.stranger.submit('/admin', path, bodyFor(r.route));
        expectErrorPage(response, 403, ERROR_TITLES[403]);
        expect(errorMessage(response.text)).toBe(
          // Review (returning a letter, approving or returning changes) is for admins, whoever owns the letter.
          /\/(return|approve)$/.test(r.route) ? MESSAGES.adminOnly : MESSAGES.letterForbidden,
        );
        expect(response.text).not.toMatch(/The owner’s|The owner&#x27;s|The owner&#39;s/);
        expect(await snapshot(t.platform.db)).toEqual(before);
      },
    );

    it('is led from a refusal back to the page it came from and to their letters, not to the public pages', async () => {
      const refused = await as.stranger.agent
        .get(`/admin/letters/${letters.open}`)
        .set('Host', 'letters.example.org')
        .set('Referer', 'https://letters.example.org/admin/letters?page=2');
      expectErrorPage(refused, 403, ERROR_TITLES[403]);
      const links = hrefsIn(mainOf(refused.text));
      expect(links).toEqual(['/admin/letters?page=2', '/admin']);
      // Another site's Referer, or none: the dashboard only.
      const elsewhere = await as.stranger.agent
        .get(`/admin/letters/${letters.open}`)
        .set('Referer', 'https://evil.example/admin/letters');
      expect(hrefsIn(mainOf(elsewhere.text))).toEqual(['/admin']);
      // A visitor not logged in, on a public page, is led to the open letters as before.
      const missing = await new Visitor(t.app).get('/letters/no-such-letter');
      expect(hrefsIn(mainOf(missing.text))).toEqual(['/']);
    });

    it('gets a JSON 403 from another organizer’s live preview, with none of the letter in it', async () => {
      const page = await as.stranger.get('/admin');
      const response = await as.stranger.agent
        .post(`/admin/letters/${letters.open}/preview.json`)
        .type('form')
        .set('Accept', 'application/json')
        .send({ ...openLetterForm, preview_signatories: 'real', _csrf: csrfTokenIn(page.text) });
      expect(response.status).toBe(403);
      expect(response.body).toEqual({
        error: { status: 403, code: 'letter_forbidden', message: MESSAGES.letterForbidden },
      });
    });
  });

  describe('an organizer the letter is shared with', () => {
    it('reads the editor, the versions and the preview', async () => {
      const editor = await as.collaborator.get(`/admin/letters/${letters.shared}`);
      expect(editor.status).toBe(200);
      expect(editor.text).toContain('The owner’s shared draft');
      expect((await as.collaborator.get(`/admin/letters/${letters.shared}/versions`)).status).toBe(200);
      const form = editorForm(
        t.platform.letterAdmin.drafting.valuesOf(
          await t.platform.letterAdmin.drafting.editor(admin, letters.shared),
        ),
      );
      const preview = await as.collaborator.submit(
        '/admin',
        `/admin/letters/${letters.shared}/preview.json`,
        form,
      );
      expect(preview.status).toBe(200);
      expect(preview.body).toMatchObject({ ok: true });
      expect((preview.body as { html: string }).html).toContain('Dear Ambassador');
    });

    it('saves a change to the text', async () => {
      const form = editorForm(
        t.platform.letterAdmin.drafting.valuesOf(
          await t.platform.letterAdmin.drafting.editor(admin, letters.shared),
        ),
      );
      const response = await as.collaborator.submit('/admin', `/admin/letters/${letters.shared}`, {
        ...form,
        title_en: 'The owner’s shared draft, improved',
      });
      expect(response.status).toBe(303);
      expect(response.headers.location).toBe(`/admin/letters/${letters.shared}?done=saved`);
      const state = await t.platform.letterAdmin.drafting.editor(admin, letters.shared);
      expect(state.texts.find((text) => text.language === 'en')!.title).toBe(
        'The owner’s shared draft, improved',
      );
    });

    it('cannot change who the letter is shared with', async () => {
      const before = await snapshot(t.platform.db);
      const add = await as.collaborator.submit('/admin', `/admin/letters/${letters.shared}/collaborators`, {
        email: stranger.email,
      });
      expectErrorPage(add, 403, ERROR_TITLES[403]);
      expect(errorMessage(add.text)).toBe(MESSAGES.onlyOwnerShares);
      const remove = await as.collaborator.submit(
        '/admin',
        `/admin/letters/${letters.shared}/collaborators/${collaborator.id}/remove`,
        {},
      );
      expectErrorPage(remove, 403, ERROR_TITLES[403]);
      expect(errorMessage(remove.text)).toBe(MESSAGES.onlyOwnerShares);
      const asking = await as.collaborator.get(
        `/admin/letters/${letters.shared}/collaborators/${collaborator.id}/remove`,
      );
      expectErrorPage(asking, 403, ERROR_TITLES[403]);
      expect(await snapshot(t.platform.db)).toEqual(before);
      expect(await t.platform.repositories.letters.collaboratorIds(letters.shared)).toEqual([
        collaborator.id,
      ]);
    });
  });

  describe('leaving a shared letter', () => {
    it('is offered to the account it is shared with, asks first, and takes it out of their lists', async () => {
      const id = await ownedLetter(owner.id, { status: 'draft', title: 'A draft to leave' });
      await t.platform.repositories.letters.addCollaborator(id, collaborator.id, t.clock.now());
      const base = `/admin/letters/${id}`;
      const editor = await as.collaborator.get(base);
      expect(editor.text).toContain(`href="${base}/leave"`);
      // The owner has nothing to leave, and is not offered it.
      expect((await as.owner.get(base)).text).not.toContain(`href="${base}/leave"`);

      const asking = await as.collaborator.get(`${base}/leave`);
      expect(asking.status).toBe(200);
      expect(textOf(mainOf(asking.text))).toContain('A draft to leave');
      expect(await t.platform.repositories.letters.collaboratorIds(id)).toEqual([collaborator.id]);

      const left = await as.collaborator.submit(`${base}/leave`, `${base}/leave`, {});
      expect(left.status).toBe(303);
      expect(left.headers.location).toBe('/admin/letters?done=left');
      expect(await t.platform.repositories.letters.collaboratorIds(id)).toEqual([]);
      const list = await as.collaborator.get(left.headers.location!);
      expect(textOf(mainOf(list.text))).toContain('You have left the letter');
      expect(letterIdsLinked(list.text)).not.toContain(id);
      expectErrorPage(await as.collaborator.get(base), 403, ERROR_TITLES[403]);
      expect((await auditEntries(t.platform.db, 'letter-collaborator-left')).at(-1)).toMatchObject({
        actor_user_id: collaborator.id,
        target_id: String(id),
        details: { letterId: id, userId: collaborator.id },
      });
    });

    it.each(['owner', 'admin'] as const)(
      'is refused to the %s, whom the letter was not shared with',
      async (who) => {
        const before = await snapshot(t.platform.db);
        const base = `/admin/letters/${letters.shared}`;
        for (const response of [
          await as[who].get(`${base}/leave`),
          await as[who].submit('/admin', `${base}/leave`, {}),
        ]) {
          expectErrorPage(response, 403, ERROR_TITLES[403]);
          expect(errorMessage(response.text)).toBe(
            'Only an account the letter was shared with can leave it.',
          );
        }
        expect(await snapshot(t.platform.db)).toEqual(before);
      },
    );
  });

  describe('deleting a draft', () => {
    it('asks its owner first, deletes it with what hangs on it, and the log keeps its title', async () => {
      const id = await ownedLetter(owner.id, { status: 'draft', title: 'A draft nobody needs' });
      await t.platform.repositories.letters.addCollaborator(id, collaborator.id, t.clock.now());
      const base = `/admin/letters/${id}`;
      expect(hrefsIn(mainOf((await as.owner.get(base)).text))).toContain(`${base}/delete`);
      // A collaborator is not offered it, and is refused.
      expect(hrefsIn(mainOf((await as.collaborator.get(base)).text))).not.toContain(`${base}/delete`);
      const before = await snapshot(t.platform.db);
      for (const refused of [
        await as.collaborator.get(`${base}/delete`),
        await as.collaborator.submit('/admin', `${base}/delete`, {}),
      ]) {
        expectErrorPage(refused, 403, ERROR_TITLES[403]);
        expect(errorMessage(refused.text)).toBe('Only the letter’s owner or an admin can delete it.');
      }
      expect(await snapshot(t.platform.db)).toEqual(before);

      const asking = await as.owner.get(`${base}/delete`);
      expect(asking.status).toBe(200);
      expect(textOf(mainOf(asking.text))).toContain('A draft nobody needs');
      const deleted = await as.owner.submit(`${base}/delete`, `${base}/delete`, {});
      expect(deleted.headers.location).toBe('/admin/letters?done=deleted');
      expect(await t.platform.repositories.letters.findById(id)).toBeUndefined();
      expect(await t.platform.repositories.letters.collaboratorIds(id)).toEqual([]);
      expect(textOf(mainOf((await as.owner.get(deleted.headers.location!)).text))).toContain(
        'The draft is deleted.',
      );
      expectErrorPage(await as.owner.get(base), 404, ERROR_TITLES[404]);
      expect((await auditEntries(t.platform.db, 'letter-deleted')).at(-1)).toMatchObject({
        actor_user_id: owner.id,
        target_id: String(id),
        details: { letterId: id, title: 'A draft nobody needs' },
      });
    });

    it('is refused for a letter published once, which is closed instead', async () => {
      const before = await snapshot(t.platform.db);
      for (const letterId of [letters.open, letters.closed]) {
        const base = `/admin/letters/${letterId}`;
        expect(hrefsIn(mainOf((await as.owner.get(base)).text))).not.toContain(`${base}/delete`);
        expectErrorPage(await as.owner.get(`${base}/delete`), 409, ERROR_TITLES[409]);
        expectErrorPage(await as.admin.submit('/admin', `${base}/delete`, {}), 409, ERROR_TITLES[409]);
      }
      expect(await snapshot(t.platform.db)).toEqual(before);
    });
  });

  describe('lists of letters', () => {
    it.each(['/admin', '/admin/letters'])(
      '%s shows an organizer only their own and shared letters',
      async (path) => {
        expect(letterIdsLinked((await as.stranger.get(path)).text)).toEqual([letters.strangers]);
        expect(letterIdsLinked((await as.collaborator.get(path)).text)).toEqual([letters.shared]);
        const owners = letterIdsLinked((await as.owner.get(path)).text);
        expect(owners).toEqual(
          expect.arrayContaining([
            letters.open,
            letters.draft,
            letters.closed,
            letters.inReview,
            letters.shared,
          ]),
        );
        expect(owners).not.toContain(letters.strangers);
        expect(owners).not.toContain(letters.unowned);
      },
    );

    it.each(['/admin', '/admin/letters'])('%s shows an admin every letter', async (path) => {
      const all = await t.platform.db.selectFrom('letters').select('id').orderBy('id').execute();
      expect(letterIdsLinked((await as.admin.get(path)).text)).toEqual(all.map((row) => row.id));
    });
  });

  describe.each(['owner', 'admin'] as const)('the %s', (who) => {
    it('can do everything with the letter: edit, preview, share, publish, close and reopen', async () => {
      const visitor = as[who];
      const helper = await createAccount(t.platform, 'organizer');
      const id = await ownedLetter(owner.id, { status: 'draft', title: `A fresh draft for the ${who}` });
      const base = `/admin/letters/${id}`;
      const stored = async () => (await t.platform.repositories.letters.findById(id))!;
      const form = editorForm(
        t.platform.letterAdmin.drafting.valuesOf(await t.platform.letterAdmin.drafting.editor(admin, id)),
      );

      expect((await visitor.get(base)).status).toBe(200);
      const saved = await visitor.submit(base, base, { ...form, title_en: `Edited by the ${who}` });
      expect(saved.headers.location).toBe(`${base}?done=saved`);
      const state = await t.platform.letterAdmin.drafting.editor(admin, id);
      expect(state.texts[0]!.title).toBe(`Edited by the ${who}`);

      const preview = await visitor.submit(base, `${base}/preview.json`, form);
      expect(preview.body).toMatchObject({ ok: true });
      expect((await visitor.get(`${base}/versions`)).status).toBe(200);

      // An address with no account: said beside the field, which keeps what was typed.
      const unknown = await visitor.submit(base, `${base}/collaborators`, { email: 'nobody@example.org' });
      expect(unknown.status).toBe(422);
      expect(fieldErrors(unknown.text, 'field-collaborator')).toHaveLength(1);
      expect(describesItsError(unknown.text, 'field-collaborator')).toBe(true);
      expect(byId(unknown.text, 'field-collaborator')?.attrs).toMatchObject({
        'aria-invalid': 'true',
        value: 'nobody@example.org',
      });
      // The summary above the form says what it is, as every form's does (the editor's own `heading`
      // once stood in for it: "[object Object]").
      expect(textOf(innerHtml(unknown.text, byId(unknown.text, 'error-summary-heading')!))).toBe(
        'Please correct the following:',
      );
      // The editor page this refusal answers with shows the e-mail preview's styles, as every editor page.
      expect(unknown.headers['content-security-policy']).toContain("style-src-attr 'unsafe-inline'");
      // No address, not an address, the owner's own, or an admin's: each said beside the field too, and
      // nothing is shared.
      for (const [email, message] of [
        ['  ', 'Enter the e-mail address of the account to share the letter with.'],
        ['bad-address', 'Enter an e-mail address in the form name@example.org.'],
        [owner.email, 'This is the account of the letter’s owner, who has it already.'],
        [admin.email, 'This is an admin’s account: admins already see and edit every letter.'],
      ] as const) {
        const refused = await visitor.submit(base, `${base}/collaborators`, { email });
        expect(refused.status).toBe(422);
        expect(fieldErrors(refused.text, 'field-collaborator')).toEqual([message]);
      }
      expect(await t.platform.repositories.letters.collaboratorIds(id)).toEqual([]);
      const shared = await visitor.submit(base, `${base}/collaborators`, { email: helper.email });
      expect(shared.headers.location).toBe(`${base}?done=shared#collaborators`);
      expect(await t.platform.repositories.letters.collaboratorIds(id)).toEqual([helper.id]);
      // Shared again: said to have been already, not shared anew.
      const sharedAgain = await visitor.submit(base, `${base}/collaborators`, {
        email: helper.email.toUpperCase(),
      });
      expect(sharedAgain.headers.location).toBe(`${base}?done=alreadyShared#collaborators`);
      // Stopping asks first, naming the account; the editor links to that page rather than posting.
      const removal = `${base}/collaborators/${helper.id}/remove`;
      expect((await visitor.get(base)).text).toContain(`href="${removal}"`);
      const asking = await visitor.get(removal);
      expect(asking.status).toBe(200);
      expect(textOf(mainOf(asking.text))).toContain(helper.email);
      expect(await t.platform.repositories.letters.collaboratorIds(id)).toEqual([helper.id]);
      const unshared = await visitor.submit(removal, removal, {});
      expect(unshared.headers.location).toBe(`${base}?done=unshared#collaborators`);
      expect(await t.platform.repositories.letters.collaboratorIds(id)).toEqual([]);
      // A second press (or a colleague was quicker) says nothing changed, and its page is a 404.
      const again = await visitor.submit(removal, removal, {});
      expect(again.headers.location).toBe(`${base}?done=notShared#collaborators`);
      expectErrorPage(await visitor.get(removal), 404, ERROR_TITLES[404]);

      const published = await visitor.submit(base, `${base}/publish`, {});
      expect(published.headers.location).toBe(`${base}?done=published`);
      expect((await stored()).status).toBe('open');

      expect((await visitor.get(`${base}/close`)).status).toBe(200);
      const closed = await visitor.submit(`${base}/close`, `${base}/close`, {});
      expect(closed.headers.location).toBe(`${base}?done=closed`);
      expect((await stored()).status).toBe('closed');

      const reopened = await visitor.submit(base, `${base}/reopen`, {});
      expect(reopened.headers.location).toBe(`${base}?done=reopened`);
      expect((await stored()).status).toBe('open');
    });
  });

  describe('admins', () => {
    // The captured e-mail's own HTML (shown in a sandboxed frame) is the message as sent, not a page of ours.
    const ourPages = ROUTES.filter((r) => r.method === 'GET' && r.route !== '/admin/mailbox/:name/html');
    it.each(ourPages.map((r) => [label(r), r] as const))(
      '%s, as a page, has a title of its own before the site name',
      async (_label, r) => {
        // Leaving is a collaborator's page: the one account that can open it; withdrawing a review
        // request is its organizers'.
        const response = await (
          isForCollaborators(r) ? as.collaborator : isForTheLettersOrganizers(r) ? as.owner : as.admin
        ).get(pathOf(r.route));
        expect(response.status).toBe(200);
        // JSON, PDF, CSV and images have no <title>; every HTML page does.
        if (!String(response.headers['content-type']).startsWith('text/html')) return;
        const title = /<title>([^<]*)<\/title>/.exec(response.text)?.[1];
        expect(title).toMatch(/^\S.* · Undersigned$/);
        // A missing translation shows its key ("abuse.title"), which the pattern above would let through.
        expect(title).not.toMatch(/^[\w-]+(\.[\w-]+)+ · /);
      },
    );

    it('send a letter in review back to its organizer', async () => {
      const id = await ownedLetter(owner.id, { status: 'draft', title: 'Waiting for an admin' });
      await t.platform.repositories.letters.setReviewRequested(id, t.clock.now());
      const response = await as.admin.submit('/admin', `/admin/letters/${id}/return`, {});
      expect(response.headers.location).toBe(`/admin/letters/${id}?done=returned`);
      expect((await t.platform.repositories.letters.findById(id))!.reviewRequestedAt).toBeNull();
    });

    it('open and change the platform settings', async () => {
      expect((await as.admin.get('/admin/settings')).status).toBe(200);
      const before = await t.platform.appDeps.settings.read();
      const response = await as.admin.submit('/admin/settings', '/admin/settings', {
        require_review: 'yes',
        trending_alert_per_hour: '7',
      });
      expect(response.headers.location).toBe('/admin/settings?done=saved');
      expect(await t.platform.appDeps.settings.read()).toMatchObject({
        requireReview: true,
        trendingAlertPerHour: 7,
      });
      await as.admin.submit('/admin/settings', '/admin/settings', {
        trending_alert_per_hour: String(before.trendingAlertPerHour),
      });
      expect(await t.platform.appDeps.settings.read()).toEqual(before);
    });

    it('read the captured message the mailbox routes are checked with: its text, its HTML and its PDF', async () => {
      const base = `/admin/mailbox/${ids.capturedMessage}`;
      expect(textOf(mainOf((await as.admin.get(base)).text))).toContain('Open letter with annex');
      // The HTML part itself (its markup), not the text part or the raw message.
      const html = await as.admin.get(`${base}/html`);
      expect(String(html.headers['content-type'])).toMatch(/^text\/html/);
      expect(html.text).toContain('<p>The letter is attached.</p>');
      const pdf = await as.admin
        .get(`${base}/attachments/1`)
        .buffer(true)
        .parse((res, done) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => done(null, Buffer.concat(chunks)));
        });
      expect(pdf.headers['content-type']).toBe('application/pdf');
      expect((pdf.body as Buffer).toString('latin1')).toBe('%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n');
    });

    it.each(
      ROUTES.filter((r) => r.method === 'GET' && !isForCollaborators(r) && !isForTheLettersOrganizers(r)).map(
        (r) => [label(r), r] as const,
      ),
    )('%s opens for an admin', async (_label, r) => {
      expect((await as.admin.get(pathOf(r.route))).status).toBe(200);
    });

    it.each(ROUTES.filter(isForTheLettersOrganizers).map((r) => [label(r), r] as const))(
      "%s is refused to an admin who is not one of the letter's organizers, and changes nothing",
      async (_label, r) => {
        const before = await snapshot(t.platform.db);
        const path = pathOf(r.route);
        const response =
          r.method === 'GET'
            ? await as.admin.get(path)
            : await as.admin.submit('/admin', path, bodyFor(r.route));
        expectErrorPage(response, 403, ERROR_TITLES[403]);
        expect(errorMessage(response.text)).toBe(
          'Only the letter’s owner or an account it is shared with can withdraw its review request. An admin approves it or sends it back instead.',
        );
        expect(await snapshot(t.platform.db)).toEqual(before);
      },
    );

    // Runs last: it changes what the refusals above were checked against, to show they were not vacuous.
    it('would change something with each body sent to the signer-data, abuse and account routes', async () => {
      const routes = POSTS.filter((r) =>
        /^\/admin\/(signatures|exports|users|erasure|abuse|settings)(\/|$)/.test(r.route),
      )
        // Erasure empties the signature the others act on: it goes last.
        .sort((a, b) => Number(a.route === '/admin/erasure') - Number(b.route === '/admin/erasure'));
      expect(routes.length).toBeGreaterThanOrEqual(14);
      const signatures = t.platform.repositories.signatures;
      for (const r of routes) {
        // Each request starts from the state the refusals were checked in.
        if ((await signatures.findById(ids.standingSignature))!.status === 'invalidated')
          await t.platform.appDeps.moderation.restore(admin, ids.standingSignature);
        if ((await signatures.findById(ids.invalidatedSignature))!.status !== 'invalidated')
          await t.platform.appDeps.moderation.invalidate(admin, ids.invalidatedSignature, 'again');
        await t.platform.db
          .updateTable('signatures')
          .set({ suspect_reasons: 'blocked-domain' })
          .where('id', '=', ids.suspectSignature)
          .execute();
        await t.platform.appDeps.userAdmin.changeRole(admin, target.id, 'organizer');
        await t.platform.appDeps.userAdmin.enable(admin, target.id);
        await t.platform.appDeps.userAdmin.disable(admin, disabled.id);
        const before = await snapshot(t.platform.db);
        const response = await as.admin.submit('/admin', pathOf(r.route), bodyFor(r.route));
        expect(response.status, label(r)).toBeLessThan(400);
        expect(await snapshot(t.platform.db), label(r)).not.toEqual(before);
      }
    });
  });
});
