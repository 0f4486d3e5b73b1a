import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { formatsFor } from '../lib/format.js';
import { DEFAULT_LANGUAGE, type TFunction } from '../lib/i18n.js';
import { countryName } from '../lib/countries.js';
import { languageName } from '../lib/languages.js';
import { keepingAddressLanguage } from './language.js';

/** How many parameterless texts each language's t keeps translated (the catalogs hold ~1,500 keys). */
const MAX_PLAIN_TEXTS = 5_000;

type Compiled = HandlebarsTemplateDelegate<Record<string, unknown>>;
type EngineCallback = (error: unknown, rendered?: string) => void;

interface RootContext {
  t?: TFunction;
  language?: string;
  addressLanguage?: string;
}

function root(options: Handlebars.HelperOptions): RootContext {
  return options.data.root as RootContext;
}

/** Names the view in a rendering error: "x" not defined in [object Object] says nothing about where. */
function inView(error: unknown, file: string): unknown {
  if (error instanceof Error)
    error.message = `${path.basename(path.dirname(file))}/${path.basename(file)}: ${error.message}`;
  return error;
}

/**
 * The small Handlebars adapter for views/ (what is shown): its own environment, partials from
 * views/partials, a layout from views/layouts (`layout: false` to render without one), and helpers for
 * translated text, numbers and dates. Templates are compiled once and kept unless `cache` is off.
 */
export function createViewEngine(viewsDir: string, cache: boolean) {
  const env = Handlebars.create();
  const compiled = new Map<string, Compiled>();

  const registerPartials = () => {
    const dir = path.join(viewsDir, 'partials');
    for (const file of readdirSync(dir)) {
      if (file.endsWith('.hbs'))
        env.registerPartial(file.slice(0, -4), readFileSync(path.join(dir, file), 'utf8'));
    }
  };
  registerPartials();

  // Most texts of a page take no parameters, and i18next's translate was ~10 % of a rendering's CPU:
  // each language's t answers such a key once (its catalog does not change while the process runs).
  const plainTexts = new WeakMap<TFunction, Map<string, string>>();
  env.registerHelper('t', (key: string, options: Handlebars.HelperOptions) => {
    const t = root(options).t;
    if (!t) return key;
    const hash = options.hash as Record<string, unknown>;
    for (const _ in hash) return t(key, hash);
    let known = plainTexts.get(t);
    if (!known) {
      known = new Map();
      plainTexts.set(t, known);
    }
    let text = known.get(key);
    if (text === undefined) {
      text = t(key);
      // Keys are written in the views; the bound only guards against a key that comes from data.
      if (known.size < MAX_PLAIN_TEXTS) known.set(key, text);
    }
    return text;
  });
  // Formatters are made once per language (lib/format.ts): a page formats dozens of numbers and dates.
  env.registerHelper('formatNumber', (value: number, options: Handlebars.HelperOptions) =>
    formatsFor(root(options).language ?? DEFAULT_LANGUAGE).number(value),
  );
  env.registerHelper('formatDate', (value: Date | null, options: Handlebars.HelperOptions) =>
    value ? formatsFor(root(options).language ?? DEFAULT_LANGUAGE).date(value) : '',
  );
  env.registerHelper('formatDateTime', (value: Date | null, options: Handlebars.HelperOptions) =>
    value ? formatsFor(root(options).language ?? DEFAULT_LANGUAGE).dateTime(value) : '',
  );
  // A link from the page to another page of the site, keeping the address's ?lang= (language.ts).
  env.registerHelper('local', (target: string, options: Handlebars.HelperOptions) =>
    keepingAddressLanguage(target, root(options).addressLanguage),
  );
  env.registerHelper('isoDate', (value: Date | null) => (value ? value.toISOString() : ''));
  env.registerHelper('countryName', (code: string, options: Handlebars.HelperOptions) =>
    countryName(code, root(options).language ?? DEFAULT_LANGUAGE),
  );
  env.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  env.registerHelper('or', (...args: unknown[]) => args.slice(0, -1).some(Boolean));
  env.registerHelper('and', (...args: unknown[]) => args.slice(0, -1).every(Boolean));
  env.registerHelper('join', (list: unknown) => (Array.isArray(list) ? list.map(String).join(', ') : ''));
  env.registerHelper('sum', (...args: unknown[]) =>
    args.slice(0, -1).reduce((total: number, n) => total + Number(n), 0),
  );
  env.registerHelper('concat', (...args: unknown[]) => args.slice(0, -1).map(String).join(''));
  // A language named in itself, as a label on its own (the letter's text links): capitalised as a label
  // is, though Ukrainian and Russian write language names in lower case inside a sentence.
  env.registerHelper('languageName', (code: string) => {
    const name = languageName(code, code);
    return name.charAt(0).toLocaleUpperCase(code) + name.slice(1);
  });
  // A language named in the page's language, inside a sentence ("PDF (우크라이나어)"), as lists name it.
  env.registerHelper('languageInPage', (code: string, options: Handlebars.HelperOptions) =>
    languageName(code, root(options).language ?? DEFAULT_LANGUAGE),
  );

  const load = (file: string): Compiled => {
    let template = cache ? compiled.get(file) : undefined;
    if (!template) {
      // Strict (DESIGN convention 11): a field the context lacks throws instead of rendering blank, so a
      // renamed field fails a test. {{#if x}} over a missing x is still fine; {{x}} and {{x.y}} are not.
      template = env.compile(readFileSync(file, 'utf8'), { strict: true });
      compiled.set(file, template);
    }
    return template;
  };

  /** The Express engine: (file, locals, callback). */
  return function render(file: string, options: object, callback: EngineCallback): void {
    const locals = options as Record<string, unknown>;
    let current = file;
    let html: string;
    try {
      if (!cache) registerPartials();
      const body = load(file)(locals);
      const layout = locals.layout === false ? undefined : String(locals.layout ?? 'main');
      if (layout) current = path.join(viewsDir, 'layouts', `${layout}.hbs`);
      html = layout ? load(current)({ ...locals, body }) : body;
    } catch (error) {
      return callback(inView(error, current));
    }
    callback(null, html);
  };
}
