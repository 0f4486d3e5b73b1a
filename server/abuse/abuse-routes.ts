import { Router, type RequestHandler, type Response } from 'express';
import { currentUser, requireAdmin } from '../http/auth.js';
import { formBody, formText, idParam, queryText, translatedErrors } from '../http/input.js';
import { NO_ABUSE_ALERT } from '../http/locals.js';
import type { TFunction } from '../lib/i18n.js';
import type { AbuseListEntry } from './abuse-list.js';
import { shortHash, type AbuseService, type EntryInput } from './abuse-service.js';

export interface AbuseRoutesDeps {
  abuse: AbuseService;
  csrf: { verify: RequestHandler };
}

const EMPTY_INPUT: EntryInput = { list: 'block', kind: 'ip', value: '', note: '' };

/** An entry as the page shows it: hashes shortened, whole addresses never (the list has only their hash). */
function entryView(t: TFunction, entry: AbuseListEntry) {
  return {
    id: entry.id,
    list: entry.list,
    listLabel: t(`abuse.lists.${entry.list}`),
    kindLabel: t(`abuse.kinds.${entry.kind}`),
    value:
      entry.kind === 'address'
        ? t('abuse.hiddenAddress')
        : entry.kind === 'ip-hash'
          ? shortHash(entry.value)
          : entry.value,
    note: entry.note,
    createdAt: entry.createdAt,
  };
}

/** The admins' abuse pages: block and allow lists, trending sources, and the dashboard's alert. */
export function abuseRoutes(deps: AbuseRoutesDeps): Router {
  const router = Router();
  const { abuse } = deps;

  async function renderLists(
    res: Response,
    view: { input?: EntryInput; errors?: Partial<Record<string, string>>; done?: string },
    status = 200,
  ) {
    const t = res.locals.t;
    const input = view.input ?? EMPTY_INPUT;
    const entries = (await abuse.entries(currentUser(res))).map((e) => entryView(t, e));
    res.status(status).render('admin/abuse', {
      titleKey: 'abuse.title',
      sections: [
        { id: 'blocked', heading: t('abuse.blockList'), entries: entries.filter((e) => e.list === 'block') },
        { id: 'allowed', heading: t('abuse.allowList'), entries: entries.filter((e) => e.list === 'allow') },
      ],
      input,
      lists: (['block', 'allow'] as const).map((value) => ({
        value,
        label: t(`abuse.lists.${value}`),
        checked: input.list === value,
      })),
      kinds: (['ip', 'domain', 'address'] as const).map((value) => ({
        value,
        label: t(`abuse.kinds.${value}`),
        selected: input.kind === value,
      })),
      done: view.done,
      ...translatedErrors(t, view.errors ?? {}),
    });
  }

  // The dashboard's alert: set here, shown by the dashboard view that the letters routes render next.
  router.get('/', async (_req, res, next) => {
    res.locals.abuseAlert = (await abuse.alert(currentUser(res))) ?? NO_ABUSE_ALERT;
    next();
  });

  router.get('/abuse', requireAdmin, async (req, res) => {
    const done = queryText(req, 'done');
    await renderLists(res, { done: ['added', 'removed', 'duplicate'].includes(done) ? done : undefined });
  });

  router.post('/abuse/entries', requireAdmin, deps.csrf.verify, async (req, res) => {
    const body = formBody(req.body);
    const input: EntryInput = {
      list: formText(body, 'list'),
      kind: formText(body, 'kind'),
      value: formText(body, 'value').slice(0, 300),
      note: formText(body, 'note').slice(0, 1_000),
    };
    const outcome = await abuse.addEntry(currentUser(res), input);
    if (outcome.kind === 'added') return res.redirect(303, '/admin/abuse?done=added');
    if (outcome.kind === 'duplicate') return renderLists(res, { input, done: 'duplicate' }, 409);
    const errors = Object.fromEntries(
      Object.entries(outcome.errors).map(([field, code]) => [field, `abuse.errors.${code}`]),
    );
    await renderLists(res, { input, errors }, 422);
  });

  router.get('/abuse/entries/:id/remove', requireAdmin, async (req, res) => {
    const t = res.locals.t;
    const entry = await abuse.entry(currentUser(res), idParam(req, 'id'));
    res.render('admin/abuse-remove', { titleKey: 'abuse.remove.title', entry: entryView(t, entry) });
  });

  router.post('/abuse/entries/:id/remove', requireAdmin, deps.csrf.verify, async (req, res) => {
    await abuse.removeEntry(currentUser(res), idParam(req, 'id'));
    res.redirect(303, '/admin/abuse?done=removed');
  });

  router.get('/abuse/trending', requireAdmin, async (req, res) => {
    const sources = await abuse.trending(currentUser(res));
    res.set('Cache-Control', 'no-store');
    res.render('admin/abuse-trending', {
      titleKey: 'abuse.trending.title',
      ...sources,
      addresses: sources.addresses.map((row) => ({ ...row, shortSource: shortHash(row.source) })),
      blockedNow: queryText(req, 'done') === 'blocked',
    });
  });

  // Blocking from the trending view asks first: the confirmation page repeats what will be blocked.
  router.post('/abuse/trending/block', requireAdmin, deps.csrf.verify, async (req, res) => {
    const body = formBody(req.body);
    const kind = formText(body, 'kind') === 'domain' ? 'domain' : 'ip-hash';
    const value = formText(body, 'value').slice(0, 300);
    if (formText(body, 'confirm') !== 'yes') {
      return res.render('admin/abuse-block', {
        titleKey: 'abuse.block.title',
        kind,
        value,
        shown: kind === 'domain' ? value : shortHash(value),
      });
    }
    const outcome = await abuse.blockSource(currentUser(res), { kind, value });
    if (outcome.kind === 'invalid') {
      return res.status(422).render('admin/abuse-block', {
        titleKey: 'abuse.block.title',
        kind,
        value,
        shown: kind === 'domain' ? value : shortHash(value),
        invalid: true,
      });
    }
    res.redirect(303, '/admin/abuse/trending?done=blocked');
  });

  return router;
}
