import { readFileSync } from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { fixedT, type i18n } from '../lib/i18n.js';
import { templatesDir } from '../lib/paths.js';

/** The e-mails the platform sends; each has templates/emails/<name>.html.hbs and <name>.text.hbs. */
export type EmailName =
  | 'signature-confirmation'
  | 'signature-already-signed'
  | 'letter-delivery'
  | 'letter-erratum'
  | 'letter-sent'
  | 'data-access'
  | 'account-invitation'
  | 'password-reset'
  | 'letter-review-requested'
  | 'letter-review-withdrawn'
  | 'letter-review-outcome'
  | 'letter-shared'
  | 'reply-forwarded';
const EMAIL_NAMES: EmailName[] = [
  'signature-confirmation',
  'signature-already-signed',
  'letter-delivery',
  'letter-erratum',
  'letter-sent',
  'data-access',
  'account-invitation',
  'password-reset',
  'letter-review-requested',
  'letter-review-withdrawn',
  'letter-review-outcome',
  'letter-shared',
  'reply-forwarded',
];

/**
 * The frame around each e-mail: supporters' mail carries the withdraw and privacy links; a letter
 * delivered to an official carries only where it comes from.
 */
const LAYOUTS: Record<EmailName, string> = {
  'signature-confirmation': 'layout',
  'signature-already-signed': 'layout',
  'letter-sent': 'layout',
  'letter-delivery': 'letter-layout',
  // A correction goes to the letter's recipients, framed as the letter was.
  'letter-erratum': 'letter-layout',
  'data-access': 'layout',
  'account-invitation': 'staff-layout',
  'password-reset': 'staff-layout',
  'letter-review-requested': 'staff-layout',
  'letter-review-withdrawn': 'staff-layout',
  'letter-review-outcome': 'staff-layout',
  'letter-shared': 'staff-layout',
  'reply-forwarded': 'staff-layout',
};

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

type Compiled = HandlebarsTemplateDelegate<Record<string, unknown>>;

/**
 * A translation for HTML: plain text, escaped when shown, unless a value is already HTML (a SafeString,
 * such as a title marked with its language), which then goes into the escaped sentence as it is.
 */
function translatedHtml(
  t: (key: string, options: Record<string, unknown>) => string,
  key: string,
  hash: Record<string, unknown>,
): string | Handlebars.SafeString {
  const html: string[] = [];
  const values = Object.fromEntries(
    Object.entries(hash).map(([name, value]) => {
      if (!(value instanceof Handlebars.SafeString)) return [name, value];
      html.push(value.toHTML());
      // A private-use character stands in for it: no translation or value holds one.
      return [name, `\uE000${html.length - 1}\uE000`];
    }),
  );
  if (html.length === 0) return t(key, hash);
  return new Handlebars.SafeString(
    Handlebars.escapeExpression(t(key, values)).replace(
      /\uE000(\d+)\uE000/g,
      (_, n: string) => html[Number(n)]!,
    ),
  );
}

/**
 * Renders platform e-mails in the supporter's language. HTML and text are separate Handlebars
 * environments (escaping on for HTML, off for text), both strict, both with only the `t` helper.
 */
export class EmailTemplates {
  private readonly html = new Map<string, Compiled>();
  private readonly text = new Map<string, Compiled>();

  constructor(private readonly i18n: i18n) {
    const htmlEnv = Handlebars.create();
    const textEnv = Handlebars.create();
    textEnv.registerHelper('t', function (this: unknown, key: string, options: Handlebars.HelperOptions) {
      const root = options.data.root as { language: string };
      return fixedT(i18n, root.language)(key, options.hash as Record<string, unknown>);
    });
    htmlEnv.registerHelper('t', function (this: unknown, key: string, options: Handlebars.HelperOptions) {
      const root = options.data.root as { language: string };
      return translatedHtml(fixedT(i18n, root.language), key, options.hash as Record<string, unknown>);
    });
    // A text in another language than the e-mail's (a letter's title in the text the supporter read):
    // marked with its own lang in the HTML, so it is read out and hyphenated as that language.
    htmlEnv.registerHelper('inLanguage', (value: unknown, language: unknown) =>
      language
        ? new Handlebars.SafeString(
            `<span lang="${Handlebars.escapeExpression(String(language))}">${Handlebars.escapeExpression(String(value))}</span>`,
          )
        : String(value),
    );
    textEnv.registerHelper('inLanguage', (value: unknown) => String(value));
    const read = (file: string) => readFileSync(path.join(templatesDir, 'emails', file), 'utf8');
    for (const name of [...EMAIL_NAMES, 'layout', 'letter-layout', 'staff-layout']) {
      this.html.set(name, htmlEnv.compile(read(`${name}.html.hbs`), { strict: true }));
      this.text.set(name, textEnv.compile(read(`${name}.text.hbs`), { strict: true, noEscape: true }));
    }
  }

  /** Renders one e-mail: subject from the translations, bodies from the templates inside the layout. */
  render(
    name: EmailName,
    language: string,
    context: Record<string, unknown>,
    subjectKey = 'subject',
  ): RenderedEmail {
    const t = fixedT(this.i18n, language);
    const data = { ...context, language };
    const subject = t(`emails.${name}.${subjectKey}`, context);
    const layout = LAYOUTS[name];
    const html = this.html.get(layout)!({ ...data, subject, content: this.html.get(name)!(data) });
    const text = this.text.get(layout)!({ ...data, subject, content: this.text.get(name)!(data) });
    return { subject, text, html };
  }
}
