import { readFileSync } from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import type { LetterText } from '../letters/letter.js';
import { renderLetter } from '../letters/letter-text.js';
import { buildMergeFields } from '../letters/merge-fields.js';
import type { i18n } from '../lib/i18n.js';
import { templatesDir } from '../lib/paths.js';
import type { EmailTemplates, RenderedEmail } from '../mail/email-templates.js';
import type { AnnexEntry, RoundKind } from './delivery.js';

/** Everything one compiled letter is made from. */
export interface CompileInput {
  kind: RoundKind;
  text: LetterText;
  recipient: { name: string; title: string; organisation: string; salutation: string };
  date: Date;
  signatureCount: number;
  countries: readonly { code: string; count: number }[];
  annex: { entries: readonly AnnexEntry[]; unnamed: number };
  organisations: readonly string[];
  sponsor: string;
  letterUrl: string;
  replyTo: string;
  /** Whether the PDF will be attached (the e-mail says so). */
  pdfAttached: boolean;
}

export interface CompiledLetter {
  email: RenderedEmail;
  /** The letter and its annex as a print document, for the PDF. */
  printHtml: string;
  fileName: string;
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
      return i18n.getFixedT(root.language)(key, options.hash as Record<string, unknown>);
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
    const numbers = new Intl.NumberFormat(language);
    const rendered = renderLetter(
      text.body,
      buildMergeFields(
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
      ),
    );
    const countries = input.countries.map((c) => ({
      name: this.countryName(c.code, language),
      count: numbers.format(c.count),
    }));
    const update = input.kind === 'update' || input.kind === 'milestone';
    const context = {
      letterTitle: text.title,
      letterHtml: rendered.html,
      letterText: rendered.text,
      signatureCount: numbers.format(input.signatureCount),
      count: numbers.format(input.signatureCount),
      countries,
      unnamed: input.annex.unnamed > 0 ? numbers.format(input.annex.unnamed) : '',
      pdfAttached: input.pdfAttached,
      test: input.kind === 'test' ? { recipient: input.recipient.name } : false,
      update,
      sponsor: input.sponsor || this.i18n.getFixedT(language)('emails.letter-delivery.defaultSponsor'),
      letterUrl: input.letterUrl,
      replyTo: input.replyTo,
      title: text.title,
      recipient: input.recipient.name,
    };
    const subjectKey = input.kind === 'test' ? 'testSubject' : update ? 'updateSubject' : 'subject';
    const email = this.emails.render('letter-delivery', language, context, subjectKey);
    const t = this.i18n.getFixedT(language);
    const printHtml = this.print({
      language,
      letterTitle: text.title,
      letterHtml: rendered.html,
      meta: t('documents.annex.meta', {
        date: new Intl.DateTimeFormat(language, { dateStyle: 'long', timeZone: 'UTC' }).format(input.date),
        recipient: input.recipient.name,
      }),
      ...this.annexFields(input, language),
    });
    return { email, printHtml, fileName: `${slugify(text.title)}.pdf` };
  }

  /** The annex alone, as a print document: for an admin's PDF export of a letter's signatories. */
  annexDocument(input: {
    language: string;
    letterTitle: string;
    date: Date;
    signatureCount: number;
    countries: readonly { code: string; count: number }[];
    annex: { entries: readonly AnnexEntry[]; unnamed: number };
    organisations: readonly string[];
  }): string {
    const { language } = input;
    const t = this.i18n.getFixedT(language);
    return this.print({
      language,
      letterTitle: input.letterTitle,
      letterHtml: '',
      meta: t('documents.annex.exported', {
        date: new Intl.DateTimeFormat(language, { dateStyle: 'long', timeZone: 'UTC' }).format(input.date),
      }),
      ...this.annexFields(input, language),
    });
  }

  /** The annex part of the print document: figures, countries, organisations and the numbered signatories. */
  private annexFields(
    input: {
      signatureCount: number;
      countries: readonly { code: string; count: number }[];
      annex: { entries: readonly AnnexEntry[]; unnamed: number };
      organisations: readonly string[];
    },
    language: string,
  ) {
    const numbers = new Intl.NumberFormat(language);
    return {
      signatureCount: numbers.format(input.signatureCount),
      namedCount: numbers.format(input.annex.entries.length),
      unnamed: numbers.format(input.annex.unnamed),
      countries: input.countries.map((c) => ({
        name: this.countryName(c.code, language),
        count: numbers.format(c.count),
      })),
      organisations: input.organisations,
      entries: input.annex.entries.map((e, index) => ({
        number: numbers.format(index + 1),
        name: e.name,
        country: e.country ? this.countryName(e.country, language) : '',
        affiliation: e.affiliation,
      })),
    };
  }
}

/** A file name from a title: letters and digits of any script kept, the rest turned into hyphens. */
export function slugify(title: string): string {
  const slug = title
    .normalize('NFKC')
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80);
  return slug || 'letter';
}
