import { keptNameIn, recipientNamedIn } from '../recipients/recipient-names.js';
import { translatedErrors } from '../http/input.js';
import { withLanguages } from '../http/language.js';
import { countryChoices, countryName } from '../lib/countries.js';
import type { TFunction } from '../lib/i18n.js';
import type { LetterPage } from '../letters/letter-service.js';
import { letterPath, letterTextPath } from '../letters/text-language.js';
import { DISPLAY_CHOICES } from '../signatures/signature.js';
import type { SharingViews } from '../sharing/sharing-views.js';
import { SIGNING_FORM_LIMITS, type SigningFormValues } from '../signatures/signature-input.js';
import { deliveryRecord } from './delivery-record.js';

/** The signing form before the supporter has typed anything. */
export const EMPTY_SIGNING_FORM: Readonly<SigningFormValues> = Object.freeze({
  name: '',
  email: '',
  country: '',
  city: '',
  organisation: '',
  title: '',
  display: 'initials',
  privacy: false,
  updates: false,
});

/** What the letter page's presenter needs from the request besides the page itself. */
export interface LetterPageRequest {
  t: TFunction;
  /** The interface language. */
  language: string;
  /** The request's query, to keep an interface language chosen in the address on the links and the form. */
  query: Record<string, unknown>;
  /** The share panel and the page's meta tags; absent where the page has neither (the embed). */
  sharing?: SharingViews;
}

/** The form as typed and its field errors (i18n keys), when the page comes back from a POST. */
export interface SigningFormState {
  values: SigningFormValues;
  errors: Partial<Record<string, string>>;
  /** Why the whole form was not taken, translated, with what to do (a request limit's wait); no field's. */
  refusal?: string;
}

/** Each text field's longest value, for its "too long" message. */
const FIELD_LIMITS = Object.fromEntries(
  Object.entries(SIGNING_FORM_LIMITS).map(([field, max]) => [field, { max }]),
);

/**
 * The letter page's view context: the letter (page), links between its translations that keep the
 * interface, its recent signatories with countries named in the interface language, and the signing form
 * with the limits of the input schema.
 */
export function letterPageView(page: LetterPage, request: LetterPageRequest, form: SigningFormState) {
  const { t, language, query, sharing } = request;
  const { values } = form;
  const shared = {
    slug: page.letter.slug,
    title: page.text.title,
    summary: page.text.summary,
    textLanguage: page.text.language,
  };
  const translated = translatedErrors(t, form.errors, FIELD_LIMITS);
  const { errors } = translated;
  // The summary's first line, unlinked (field null), for a refusal of the whole form.
  const errorList = [
    ...(form.refusal ? [{ field: null, message: form.refusal }] : []),
    ...translated.errorList,
  ];
  // The page's links keep an interface language the address chose (http/language.ts).
  const keep = (path: string) => withLanguages(path, { query }, { locals: { language } });
  return {
    page,
    textLanguages:
      page.languages.length > 1
        ? page.languages.map((code) => ({
            code,
            current: code === page.text.language,
            href: keep(letterTextPath(page.letter.slug, code)),
          }))
        : [],
    record: recordView(page, t, language, keep),
    // Named in the reader's interface language where the directory has it, as the page around them is.
    recipients: page.recipients.map((r) => recipientNamedIn(r, language)),
    signatories: page.recentSignatories.map((s) => ({
      name: s.name,
      title: s.title,
      organisation: s.organisation,
      country: s.country === '' ? '' : countryName(s.country, language),
    })),
    form: {
      values,
      errors,
      errorList,
      // Nothing to correct when the whole form was refused (a wait): the summary's heading says so.
      summaryHeading: form.refusal ? t('limitsSigning.waitHeading') : '',
      limits: SIGNING_FORM_LIMITS,
      countries: countryLists(language, page.featuredCountries, values.country),
      displayChoices: DISPLAY_CHOICES.map((choice) => ({
        value: choice,
        checked: values.display === choice,
      })),
      // The text the supporter read: their signature records its language.
      language: page.text.language,
    },
    // The form carries the text in its hidden field, so its address needs only the interface's lang=.
    signAction: keep(letterPath(page.letter.slug, '/sign')),
    // The letter's own privacy notice (pages/privacy-notice-routes.ts), beside the consent checkbox.
    privacyHref: keep(letterPath(page.letter.slug, '/privacy')),
    // Screen readers hear the title first: it says at once that the form came back with errors.
    pageTitle: errorList.length > 0 ? `${t('form.errorTitlePrefix')} ${page.text.title}` : page.text.title,
    // Links to the page unfold into its card (title, summary, card.png) in its languages.
    ...(sharing
      ? { meta: sharing.letterMeta(shared, language, t), share: sharing.panel(shared, language) }
      : {}),
  };
}

/** The signing form's two country lists (the letter's countries first, then the others), one selected. */
function countryLists(language: string, featured: readonly string[], selected: string) {
  const { featured: first, others } = countryChoices(language, featured);
  const mark = (c: { code: string; name: string }) => ({ ...c, selected: c.code === selected });
  return { featured: first.map(mark), others: others.map(mark) };
}

/**
 * The public delivery record, each delivery with its PDF in each language it went in. A recipient still
 * on the letter's list with a name typed for the page's language is named in it, as "Addressed to"
 * names them (the name kept with a delivery is the directory's, often English); otherwise the record
 * keeps the name the letter went to, not the directory's name now (a new ambassador since).
 */
function recordView(page: LetterPage, t: TFunction, language: string, keep: (path: string) => string) {
  const listed = new Map(page.recipients.map((r) => [r.id, r]));
  const inPageLanguage = (recipientId: number | null | undefined, name: string, organisation: string) =>
    keptNameIn({ name, organisation }, recipientId == null ? undefined : listed.get(recipientId), language);
  const sent = page.sent.map((s) => {
    const { name, organisation } = inPageLanguage(s.recipientId, s.recipientName, s.organisation);
    return { ...s, recipientName: name, organisation };
  });
  const record = deliveryRecord(sent, page.escalations);
  const slug = encodeURIComponent(page.letter.slug);
  // The check opens in the language the address chose for this page, as its other links do.
  const verifyHref = (roundId: number) =>
    keep(`/verify?${new URLSearchParams({ letter: page.letter.slug, round: String(roundId) }).toString()}`);
  const withDownloads = (d: (typeof record.recent)[number]) => ({
    ...d,
    // Said beside the round an escalation sent: no reply from the tier before within the schedule's days.
    escalationNote: d.escalation
      ? t(`escalation.record.${d.escalation.fromTier}-${d.escalation.toTier}`, { count: d.escalation.days })
      : '',
    downloads: d.languages.map((language) => ({
      language,
      href: `/letters/${slug}/deliveries/${d.roundId}/${language}.pdf`,
    })),
    // Where anyone checks the list against its root (the verify page reads the letter and round).
    verifyHref: d.commitment ? verifyHref(d.roundId) : '',
    // Each correction of its list (an erratum): the count before and after, its root, and its check.
    corrections: d.corrections.map((c) => ({
      ...c,
      before: d.commitment?.treeSize ?? d.signatureCount,
      verifyHref: verifyHref(c.roundId),
    })),
  });
  return {
    ...record,
    recent: record.recent.map(withDownloads),
    earlier: record.earlier.map(withDownloads),
    // Replies the organizer chose to publish: who answered and when, never the sender's address.
    replies: page.replies.map((r) => {
      const { name, organisation } = inPageLanguage(r.recipientId, r.recipientName, r.institution);
      return {
        ...r,
        recipientName: name,
        institution: organisation,
        person: organisation !== name ? name : '',
      };
    }),
  };
}
