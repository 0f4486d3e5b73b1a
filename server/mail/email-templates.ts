import { readFileSync } from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { fixedT, type i18n } from '../lib/i18n.js';
import { templatesDir } from '../lib/paths.js';

/** The e-mails the platform sends; each has templates/emails/<name>.html.hbs and <name>.text.hbs. */
export type EmailName =
  | 'signature-confirmation'
  | 'letter-delivery'
  | 'letter-sent'
  | 'data-access'
  | 'account-invitation'
  | 'password-reset'
  | 'letter-review-requested'
  | 'letter-review-outcome';
const EMAIL_NAMES: EmailName[] = [
  'signature-confirmation',
  'letter-delivery',
  'letter-sent',
  'data-access',
  'account-invitation',
  'password-reset',
  'letter-review-requested',
  'letter-review-outcome',
];

/**
 * The frame around each e-mail: supporters' mail carries the withdraw and privacy links; a letter
 * delivered to an official carries only where it comes from.
 */
const LAYOUTS: Record<EmailName, string> = {
  'signature-confirmation': 'layout',
  'letter-sent': 'layout',
  'letter-delivery': 'letter-layout',
  'data-access': 'layout',
  'account-invitation': 'staff-layout',
  'password-reset': 'staff-layout',
  'letter-review-requested': 'staff-layout',
  'letter-review-outcome': 'staff-layout',
};

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

type Compiled = HandlebarsTemplateDelegate<Record<string, unknown>>;

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
    for (const env of [htmlEnv, textEnv]) {
      env.registerHelper('t', function (this: unknown, key: string, options: Handlebars.HelperOptions) {
        const root = options.data.root as { language: string };
        return fixedT(i18n, root.language)(key, options.hash as Record<string, unknown>);
      });
    }
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
