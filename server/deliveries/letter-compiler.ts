import { readFileSync } from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import type { LetterText } from '../letters/letter.js';
import { estimateLetterLength, MAX_LETTER_TEXT_LENGTH } from '../letters/letter-size.js';
import { renderLetter } from '../letters/letter-text.js';
import { buildMergeFields } from '../letters/merge-fields.js';
import { formatsFor } from '../lib/format.js';
import { fixedT, type i18n } from '../lib/i18n.js';
import { templatesDir } from '../lib/paths.js';
import type { EmailTemplates, RenderedEmail } from '../mail/email-templates.js';
import { statedStatusesOf, type SignatureStatus, type StatedStatus } from '../signatures/signature.js';
import { senderName, type AnnexEntry, type RoundKind } from './delivery.js';

/** What an admin's annex export holds, so the document says it instead of claiming a delivery's figures. */
export interface AnnexExportContents {
  /** The statuses asked for, in the order the platform lists them. */
  statuses: readonly SignatureStatus[];
  /** How many of each status the export holds (held ones apart from the other pending ones). */
  counts: Readonly<Partial<Record<StatedStatus, number>>>;
  /** The other filters, as the admin chose them. */
  country: string | undefined;
  from: string | undefined;
  to: string | undefined;
  consent: boolean | undefined;
  /** When the export was made. */
  at: Date;
}

/** An annex entry of an export: the signature's status goes with it when the export mixes statuses. */
export interface ExportAnnexEntry extends AnnexEntry {
  status: StatedStatus;
}

/** Everything one compiled letter is made from. */
export interface CompileInput {
  kind: RoundKind;
  text: LetterText;
  recipient: { name: string; title: string; organisation: string; salutation: string };
  date: Date;
  signatureCount: number;
  countries: readonly { code: string; count: number }[];
  /**
   * `unread`: named signatories left out of `entries` because a preview read only the first of them
   * (delivery-email-preview.ts); a round reads them all, and leaves it out.
   */
  annex: { entries: readonly AnnexEntry[]; unnamed: number; unread?: number };
  organisations: readonly string[];
  sponsor: string;
  letterUrl: string;
  replyTo: string;
  /** Whether the PDF will be attached (the e-mail says so). */
  pdfAttached: boolean;
  /**
   * The commitment to the round's list, printed at the letter's end: its size, root and where to verify
   * it. Null for a test (which commits to nothing, and says so); absent where no round is compiled.
   */
  commitment?: LetterCommitment | null;
  /**
   * A copy of a letter already sent, made now (the public "letter as sent" PDF): its annex is read now,
   * so it says how many of the round's count were withdrawn or removed since. Never for the letter sent.
   */
  laterCopy?: boolean;
}

/** A delivered list's commitment as a compiled letter prints it. */
export interface LetterCommitment {
  treeSize: number;
  root: string;
  verifyUrl: string;
}

export interface CompiledLetter {
  email: RenderedEmail;
  /** The name it is sent under ("<organisation> via Undersigned"); null without an organisation. */
  fromName: string | null;
  /** The letter and its annex as a print document, for the PDF. */
  printHtml: string;
  fileName: string;
}

/**
 * A letter text that would render past MAX_LETTER_TEXT_LENGTH with this round's signatories: it is not
 * rendered (the strings would take seconds and hundreds of megabytes, or pass V8's limit), and the round
 * fails with this reason. Carries plain data, so it crosses from the compile worker as it is.
 */
export class LetterTooLong extends Error {
  constructor(
    readonly line: number,
    readonly block: string,
    readonly signatures: number,
  ) {
    super(`the letter text would pass ${MAX_LETTER_TEXT_LENGTH} characters (${block} at line ${line})`);
  }
}

/**
 * Compiles a letter for one recipient: the text in its language with their salutation, the figures
 * of the round, and the annex of signatories as each chose to appear. E-mail addresses never appear:
 * the annex is built from names, countries and affiliations only.
 */
export class LetterCompiler {
  private readonly print: HandlebarsTemplateDelegate<Record<string, unknown>>;

  constructor(
    private readonly emails: EmailTemplates,
    private readonly i18n: i18n,
    private readonly countryName: (code: string, language: string) => string,
  ) {
    const env = Handlebars.create();
    env.registerHelper('t', (key: string, options: Handlebars.HelperOptions) => {
      const root = options.data.root as { language: string };
      return fixedT(i18n, root.language)(key, options.hash as Record<string, unknown>);
    });
    this.print = env.compile(
      readFileSync(path.join(templatesDir, 'documents', 'letter-print.html.hbs'), 'utf8'),
      {
        strict: true,
      },
    );
  }

  compile(input: CompileInput): CompiledLetter {
    const { text } = input;
    const language = text.language;
    const numbers = formatsFor(language);
    const fields = buildMergeFields(
      {
        recipient: input.recipient,
        letterTitle: text.title,
        language,
        date: input.date,
        signatureCount: input.signatureCount,
        countries: input.countries,
        signatories: input.annex.entries.map((e) => ({ name: e.name, country: e.country })),
        organisations: input.organisations,
      },
      this.countryName,
    );
    // Measured before it is built: texts saved before the limits existed, or a list grown since.
    const size = estimateLetterLength(text.body, fields);
    if (size.over)
      throw new LetterTooLong(size.largest?.line ?? 1, size.largest?.name ?? '', input.annex.entries.length);
    const rendered = renderLetter(text.body, fields);
    const countries = input.countries.map((c) => ({
      name: this.countryName(c.code, language),
      count: numbers.number(c.count),
    }));
    const update = input.kind === 'update' || input.kind === 'milestone';
    const commitment = this.commitmentSection(input, language);
    const context = {
      letterTitle: text.title,
      letterHtml: rendered.html,
      letterText: rendered.text,
      // The signature figure, once: the number chooses the plural form, the formatted string is shown.
      count: input.signatureCount,
      formatted: numbers.number(input.signatureCount),
      countries,
      unnamed: input.annex.unnamed > 0 ? numbers.number(input.annex.unnamed) : '',
      unnamedCount: input.annex.unnamed,
      pdfAttached: input.pdfAttached,
      test: input.kind === 'test' ? { recipient: input.recipient.name } : false,
      update,
      sponsor: input.sponsor || fixedT(this.i18n, language)('emails.letter-delivery.defaultSponsor'),
      letterUrl: input.letterUrl,
      replyTo: input.replyTo,
      title: text.title,
      recipient: input.recipient.name,
      commitment,
    };
    const subjectKey = input.kind === 'test' ? 'testSubject' : update ? 'updateSubject' : 'subject';
    const email = this.emails.render('letter-delivery', language, context, subjectKey);
    const t = fixedT(this.i18n, language);
    const test = input.kind === 'test';
    const printHtml = this.print({
      language,
      letterTitle: text.title,
      letterHtml: rendered.html,
      // A test's PDF says so on every page, so a copy forwarded or printed is never taken for the letter sent.
      testMark: test ? t('documents.annex.testMark') : '',
      testBanner: test ? t('documents.annex.testBanner', { recipient: input.recipient.name }) : '',
      meta: t('documents.annex.meta', {
        date: formatsFor(language).date(input.date),
        recipient: input.recipient.name,
      }),
      ...this.annexFields(input, language),
      commitment,
    });
    return {
      email,
      fromName: senderName(t, input.sponsor),
      printHtml,
      fileName: `${test ? 'TEST-' : ''}${slugify(text.title)}.pdf`,
    };
  }

  /**
   * The annex alone, as a print document: for an admin's PDF export of a letter's signatories. It says
   * what it holds (statuses with their counts, filters, export time) and claims confirmation only when
   * every signature in it is confirmed: an export may hold pending, withdrawn or invalidated ones.
   */
  annexDocument(input: {
    language: string;
    letterTitle: string;
    signatureCount: number;
    countries: readonly { code: string; count: number }[];
    annex: { entries: readonly ExportAnnexEntry[]; unnamed: number };
    organisations: readonly string[];
    contents: AnnexExportContents;
  }): string {
    const { language, contents } = input;
    const t = fixedT(this.i18n, language);
    const numbers = formatsFor(language);
    const day = numbers.date;
    const time = numbers.time(contents.at);
    const onlyConfirmed = contents.statuses.length === 1 && contents.statuses[0] === 'confirmed';
    // Held ones are said apart only when there are some: "0 held" would puzzle more than it tells.
    const breakdown = statedStatusesOf(contents.statuses)
      .filter((status) => status !== 'held' || (contents.counts.held ?? 0) > 0)
      .map((status) =>
        t(`documents.annexExport.status.${status}`, {
          count: contents.counts[status] ?? 0,
          formatted: numbers.number(contents.counts[status] ?? 0),
        }),
      )
      .join('; ');
    const filters = [
      t('documents.annexExport.filters.statuses', {
        statuses: contents.statuses.map((s) => t(`documents.annexExport.statusName.${s}`)).join(', '),
      }),
      contents.country
        ? t('documents.annexExport.filters.country', {
            country: this.countryName(contents.country, language),
          })
        : '',
      contents.from ? t('documents.annexExport.filters.from', { day: contents.from }) : '',
      contents.to ? t('documents.annexExport.filters.to', { day: contents.to }) : '',
      contents.consent === undefined
        ? ''
        : t(`documents.annexExport.filters.consent${contents.consent ? 'Yes' : 'No'}`),
    ].filter((part) => part !== '');
    const fields = this.annexFields(input, language);
    return this.print({
      language,
      letterTitle: input.letterTitle,
      letterHtml: '',
      testMark: '',
      testBanner: '',
      meta: t('documents.annexExport.exportedAt', { date: day(contents.at), time }),
      ...fields,
      commitment: null,
      intro: [
        t('documents.annexExport.holds', {
          count: input.signatureCount,
          formatted: numbers.number(input.signatureCount),
          breakdown,
        }),
        t(onlyConfirmed ? 'documents.annexExport.allConfirmed' : 'documents.annexExport.notAllConfirmed'),
        t('documents.annexExport.named', { named: fields.namedCount, unnamed: fields.unnamed }),
        t('documents.annexExport.filtersUsed', { filters: filters.join('; ') }),
      ],
      statusColumn: onlyConfirmed ? '' : t('documents.annexExport.statusColumn'),
      entries: fields.entries.map((entry, index) => ({
        ...entry,
        status: onlyConfirmed
          ? ''
          : t(`documents.annexExport.statusName.${input.annex.entries[index]!.status}`),
      })),
    });
  }

  /**
   * The letter's last section: the size and root of the round's committed list and where to verify it,
   * in the letter's language; a test says it commits to nothing; null where no round is compiled.
   */
  private commitmentSection(
    input: CompileInput,
    language: string,
  ): { heading: string; lines: string[]; url: string; root: string } | null {
    const t = fixedT(this.i18n, language);
    if (input.kind === 'test')
      return {
        heading: t('commitments.letter.heading'),
        lines: [t('commitments.letter.test')],
        url: '',
        root: '',
      };
    if (!input.commitment) return null;
    const { treeSize, root, verifyUrl } = input.commitment;
    const numbers = formatsFor(language);
    // Each copy's annex is read when it is compiled: one compiled after a withdrawal or an erasure leaves
    // that person out while the committed list still counts them, so the copy says why its annex is shorter.
    const leftOut = treeSize - (input.annex.entries.length + (input.annex.unread ?? 0) + input.annex.unnamed);
    return {
      heading: t('commitments.letter.heading'),
      lines: [
        t('commitments.letter.committed', { count: treeSize, formatted: numbers.number(treeSize), root }),
        ...(leftOut > 0
          ? [t('commitments.letter.leftOut', { count: leftOut, formatted: numbers.number(leftOut) })]
          : []),
        t('commitments.letter.verifyAt'),
      ],
      url: verifyUrl,
      root,
    };
  }

  /** The annex part of the print document: figures, countries, organisations and the numbered signatories. */
  private annexFields(
    input: {
      signatureCount: number;
      countries: readonly { code: string; count: number }[];
      annex: { entries: readonly AnnexEntry[]; unnamed: number };
      organisations: readonly string[];
      laterCopy?: boolean;
    },
    language: string,
  ) {
    const numbers = formatsFor(language);
    const t = fixedT(this.i18n, language);
    const signatureCount = numbers.number(input.signatureCount);
    const namedCount = numbers.number(input.annex.entries.length);
    const unnamed = numbers.number(input.annex.unnamed);
    // A later copy's annex is read when it is made: one made after a withdrawal or an erasure leaves those
    // people out of a count that still holds them, and says so here, beside figures that would otherwise
    // not add up. The letter as it is sent says nothing of the kind (the commitment section covers a
    // withdrawal while its round compiles).
    const leftOut = input.laterCopy
      ? input.signatureCount - (input.annex.entries.length + input.annex.unnamed)
      : 0;
    return {
      namedCount,
      unnamed,
      // A delivered letter's annex holds the confirmed signatures of the round, and says so.
      intro: [
        t('documents.annex.intro', {
          count: input.signatureCount,
          formatted: signatureCount,
          named: namedCount,
          unnamed,
        }),
        ...(leftOut > 0
          ? [t('documents.annex.leftOut', { count: leftOut, formatted: numbers.number(leftOut) })]
          : []),
      ],
      statusColumn: '',
      countries: input.countries.map((c) => ({
        name: this.countryName(c.code, language),
        count: numbers.number(c.count),
      })),
      organisations: input.organisations,
      entries: input.annex.entries.map((e, index) => ({
        number: numbers.number(index + 1),
        name: e.name,
        country: e.country ? this.countryName(e.country, language) : '',
        affiliation: e.affiliation,
      })),
    };
  }
}

/** How long a file name made from a title may be, before its extension. */
const FILE_NAME_MAX = 80;

/**
 * A file name from a title: letters and digits of any script kept, the rest turned into hyphens; a long
 * title is cut after its last whole word that fits ("…-North-Korean-prisoners", not "…-prisoners-o").
 */
export function slugify(title: string): string {
  const slug = title
    .normalize('NFKC')
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '');
  const chars = Array.from(slug);
  if (chars.length <= FILE_NAME_MAX) return slug || 'letter';
  const cut = chars.slice(0, FILE_NAME_MAX + 1).join('');
  const lastBreak = cut.lastIndexOf('-');
  // One word longer than the whole limit is cut where it must be.
  return lastBreak > 0 ? cut.slice(0, lastBreak) : chars.slice(0, FILE_NAME_MAX).join('');
}
