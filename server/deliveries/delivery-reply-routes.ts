import { Router, type RequestHandler, type Response } from 'express';
import { currentUser } from '../http/auth.js';
import { idParam } from '../http/input.js';
import { noticeFrom, redirectWithNotice } from '../http/notice.js';
import { publicReplyText, publishRefusal, type ReplyInList } from './delivery-reply.js';
import type { DeliveryReplyService } from './delivery-reply-service.js';

export interface DeliveryReplyRoutesDeps {
  replies: DeliveryReplyService;
  csrf: { verify: RequestHandler };
}

/** What the organizer may do with a reply, each after a confirmation page. */
const STEPS = ['publish', 'unpublish'] as const;
type Step = (typeof STEPS)[number];
const stepParam = (value: unknown): Step | undefined => STEPS.find((step) => step === value);

type T = Response['locals']['t'];

/** One reply as the organizer's page shows it: the mail's words as plain text (escaped by the view). */
function replyView(t: T, letterId: number, reply: ReplyInList) {
  const refusal = publishRefusal(reply);
  const href = `/admin/letters/${letterId}/replies/${reply.id}`;
  return {
    ...reply,
    anchor: `reply-${reply.id}`,
    institution: reply.organisation.trim() || reply.recipientName,
    person:
      reply.organisation.trim() && reply.organisation.trim() !== reply.recipientName
        ? reply.recipientName
        : '',
    published: reply.publishedAt !== null,
    publishHref: refusal === null && reply.publishedAt === null ? `${href}/publish` : null,
    unpublishHref: reply.publishedAt !== null ? `${href}/unpublish` : null,
    refusal: refusal && reply.publishedAt === null ? t(`replies.refusals.${refusal}`) : null,
    forwarded: reply.forwardedOutboxMessageId !== null,
  };
}

/** The letter's replies grouped by the round they answered, newest round first. */
function byRound(t: T, letterId: number, replies: readonly ReplyInList[]) {
  const rounds = new Map<number, ReplyInList[]>();
  for (const reply of replies) {
    const list = rounds.get(reply.roundId);
    if (list) list.push(reply);
    else rounds.set(reply.roundId, [reply]);
  }
  return [...rounds]
    .sort(([a], [b]) => b - a)
    .map(([roundId, list]) => ({
      roundId,
      kindLabel: t(`replies.roundKinds.${list[0]!.roundKind}`),
      askedAt: list[0]!.roundAskedAt,
      replies: list.map((r) => replyView(t, letterId, r)),
    }));
}

/** The organizer's page of a letter's replies, and publishing one on the record or taking it off. */
export function deliveryReplyRoutes(deps: DeliveryReplyRoutesDeps): Router {
  const router = Router();

  router.get('/letters/:id/replies', async (req, res) => {
    const t = res.locals.t;
    const { letter, replies, receiving } = await deps.replies.list(currentUser(res), idParam(req, 'id'));
    res.render('admin/replies', {
      pageTitle: t('replies.title'),
      letter,
      receiving,
      rounds: byRound(t, letter.id, replies),
      notice: noticeFrom(req, t, 'replies.done', ['published', 'unpublished']),
    });
  });

  router.get('/letters/:id/replies/:replyId/:step', async (req, res, next) => {
    const step = stepParam(req.params.step);
    if (!step) return next();
    const t = res.locals.t;
    const { letter, reply } = await deps.replies.find(
      currentUser(res),
      idParam(req, 'id'),
      idParam(req, 'replyId'),
    );
    const view = replyView(t, letter.id, reply);
    res.render('admin/replies-confirm', {
      pageTitle: t(`replies.steps.${step}.title`),
      letter,
      reply: view,
      step,
      action: `/admin/letters/${letter.id}/replies/${reply.id}/${step}`,
      // What the record would show: without quoted lines and addresses.
      publicText: step === 'publish' ? publicReplyText(reply.bodyText) : '',
      publicSubject: step === 'publish' ? publicReplyText(reply.subject) : '',
      refusal: step === 'publish' ? view.refusal : null,
      danger: step === 'publish',
    });
  });

  router.post('/letters/:id/replies/:replyId/:step', deps.csrf.verify, async (req, res, next) => {
    const step = stepParam(req.params.step);
    if (!step) return next();
    const user = currentUser(res);
    const letterId = idParam(req, 'id');
    const replyId = idParam(req, 'replyId');
    if (step === 'publish') await deps.replies.publish(user, letterId, replyId);
    else await deps.replies.unpublish(user, letterId, replyId);
    redirectWithNotice(res, `/admin/letters/${letterId}/replies#reply-${replyId}`, `${step}ed`);
  });

  return router;
}
