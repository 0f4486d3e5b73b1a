import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  parseRecipient,
  recipientFormValues,
  type RecipientFormValues,
} from '../../../server/recipients/recipient-input.js';

const LANGUAGES = ['en', 'ko', 'uk'] as const;

function values(overrides: Partial<RecipientFormValues> = {}): RecipientFormValues {
  return {
    name: 'Ms Park Eun-ji',
    title: 'Ambassador',
    organisation: 'Embassy of the Republic of Korea',
    country: 'KR',
    email: 'ambassador@embassy.example',
    language: 'en',
    salutation: 'Dear Ambassador',
    notes: '',
    salutations: {},
    names: {},
    ...overrides,
  };
}

/** The error keys of a recipient that must be refused. */
function errorsOf(form: RecipientFormValues, languages: readonly string[] = LANGUAGES) {
  const result = parseRecipient(form, languages);
  if (result.ok) throw new Error(`expected the recipient to be refused: ${JSON.stringify(form)}`);
  return result.errors;
}

/** The input of a recipient that must be accepted. */
function inputOf(form: RecipientFormValues, languages: readonly string[] = LANGUAGES) {
  const result = parseRecipient(form, languages);
  if (!result.ok)
    throw new Error(`expected the recipient to be accepted, got ${JSON.stringify(result.errors)}`);
  return result.input;
}

/** Every leaf key of a nested messages object, dotted. */
function keysOf(messages: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(messages).flatMap(([key, value]) =>
    typeof value === 'object' && value !== null
      ? keysOf(value as Record<string, unknown>, `${prefix}${key}.`)
      : [`${prefix}${key}`],
  );
}

describe('the recipient form', () => {
  it('accepts a complete recipient and keeps every field', () => {
    expect(inputOf(values({ notes: 'Prefers post to the embassy address.' }))).toEqual({
      name: 'Ms Park Eun-ji',
      title: 'Ambassador',
      organisation: 'Embassy of the Republic of Korea',
      country: 'KR',
      email: 'ambassador@embassy.example',
      language: 'en',
      salutation: 'Dear Ambassador',
      salutations: { en: 'Dear Ambassador' },
      names: {},
      notes: 'Prefers post to the embassy address.',
    });
  });

  it('accepts a recipient with only the required fields, and stores no country as null', () => {
    const input = inputOf(values({ title: '', organisation: '', country: '', notes: '' }));
    expect(input).toMatchObject({ title: '', organisation: '', country: null, notes: '' });
  });

  it('trims every field and stores the address lower-cased', () => {
    const input = inputOf(
      values({
        name: '  Ms Park \t',
        title: ' Ambassador ',
        organisation: ' Embassy ',
        country: ' KR ',
        email: '  Ambassador@Embassy.EXAMPLE  ',
        language: ' ko ',
        salutation: '  Dear Ambassador ',
        notes: '\n  A note.  \n',
      }),
    );
    expect(input).toEqual({
      name: 'Ms Park',
      title: 'Ambassador',
      organisation: 'Embassy',
      country: 'KR',
      email: 'ambassador@embassy.example',
      language: 'ko',
      salutation: 'Dear Ambassador',
      salutations: { ko: 'Dear Ambassador' },
      names: {},
      notes: 'A note.',
    });
  });

  it('accepts Korean and Ukrainian text as written', () => {
    const input = inputOf(
      values({
        name: '외교부 장관',
        organisation: '대한민국 외교부',
        language: 'ko',
        salutation: '존경하는 장관님께',
      }),
    );
    expect(input).toMatchObject({
      name: '외교부 장관',
      organisation: '대한민국 외교부',
      salutation: '존경하는 장관님께',
    });
    expect(
      inputOf(
        values({
          name: 'Андрій Сибіга',
          title: 'Міністр',
          language: 'uk',
          salutation: 'Шановний пане Міністре',
        }),
      ),
    ).toMatchObject({ name: 'Андрій Сибіга', salutation: 'Шановний пане Міністре' });
  });

  it('keeps markup and spreadsheet formulas as plain text: escaping and neutralising happen on output', () => {
    expect(inputOf(values({ name: '<script>alert(1)</script>' })).name).toBe('<script>alert(1)</script>');
    expect(inputOf(values({ organisation: '=HYPERLINK("http://x.example","y")' })).organisation).toBe(
      '=HYPERLINK("http://x.example","y")',
    );
  });

  describe('required fields', () => {
    it('refuses an empty or blank name, e-mail, language and salutation, each with its own message', () => {
      expect(errorsOf(values({ name: '', email: ' ', language: '', salutation: '\t' }))).toEqual({
        name: 'recipients.errors.name.required',
        email: 'recipients.errors.email.required',
        language: 'recipients.errors.language.required',
        salutation: 'recipients.errors.salutation.required',
      });
    });
  });

  describe('lengths', () => {
    it('allows 200 characters in name, title, organisation and salutation, counted after trimming, and refuses 201', () => {
      for (const key of ['name', 'title', 'organisation', 'salutation'] as const) {
        expect(inputOf(values({ [key]: `  ${'가'.repeat(200)}  ` }))[key]).toHaveLength(200);
        expect(errorsOf(values({ [key]: 'a'.repeat(201) }))[key], key).toBe(
          'recipients.errors.field.tooLong',
        );
      }
    });

    it('allows 2000 characters of notes and refuses more, even a megabyte', () => {
      expect(inputOf(values({ notes: 'n'.repeat(2000) })).notes).toHaveLength(2000);
      expect(errorsOf(values({ notes: 'n'.repeat(2001) })).notes).toBe('recipients.errors.field.tooLong');
      expect(errorsOf(values({ notes: 'n'.repeat(1_000_000) })).notes).toBe(
        'recipients.errors.field.tooLong',
      );
    });

    it('refuses an address longer than 254 characters', () => {
      const long = `${'a'.repeat(60)}@${'b'.repeat(190)}.example`;
      expect(long.length).toBeGreaterThan(254);
      expect(errorsOf(values({ email: long })).email).toBe('recipients.errors.field.tooLong');
    });
  });

  describe('e-mail', () => {
    it('refuses what is not an address, including header injection', () => {
      for (const email of [
        'ambassador',
        'ambassador@',
        '@embassy.example',
        'the ambassador@embassy.example',
        'ambassador@embassy',
        'a@b@embassy.example',
        'ambassador@embassy.example\r\nBcc: x@example.org',
      ]) {
        expect(errorsOf(values({ email })).email, JSON.stringify(email)).toBe(
          'recipients.errors.email.invalid',
        );
      }
    });

    it('refuses more than 64 characters before the @, which no mail server would take', () => {
      expect(inputOf(values({ email: `${'a'.repeat(64)}@embassy.example` })).email).toMatch(/^a{64}@/);
      expect(errorsOf(values({ email: `${'a'.repeat(65)}@embassy.example` })).email).toBe(
        'recipients.errors.email.partTooLong',
      );
    });
  });

  describe('country', () => {
    it('accepts a listed code or nothing, and refuses anything else', () => {
      expect(inputOf(values({ country: 'UA' })).country).toBe('UA');
      expect(inputOf(values({ country: 'KP' })).country).toBe('KP');
      for (const country of ['ZZ', 'kr', 'KOR', 'South Korea', '<b>']) {
        expect(errorsOf(values({ country })).country, country).toBe('recipients.errors.country.unknown');
      }
    });
  });

  describe('language', () => {
    it('must be one of the languages passed in, exactly', () => {
      expect(inputOf(values({ language: 'uk' })).language).toBe('uk');
      for (const language of ['fr', 'KO', 'Korean', 'en-GB']) {
        expect(errorsOf(values({ language })).language, language).toBe(
          'recipients.errors.language.unsupported',
        );
      }
      expect(errorsOf(values({ language: 'ko' }), ['en']).language).toBe(
        'recipients.errors.language.unsupported',
      );
      expect(inputOf(values({ language: 'fr' }), ['fr']).language).toBe('fr');
    });
  });

  describe('control characters', () => {
    it('are refused in every field but the notes', () => {
      for (const key of ['name', 'title', 'organisation', 'salutation'] as const) {
        for (const bad of [
          'a\u0000b',
          'a\nb',
          'a\tb',
          'a\rBcc: x@example.org',
          'a\u007f',
          'a\u001b[31m',
          'a\u0085b',
        ]) {
          expect(errorsOf(values({ [key]: bad }))[key], `${key} ${JSON.stringify(bad)}`).toBe(
            'recipients.errors.field.controlCharacters',
          );
        }
      }
    });

    it('allow line breaks and tabs in the notes, stored with one kind of line break', () => {
      expect(inputOf(values({ notes: 'First line\r\nSecond\tline\rThird' })).notes).toBe(
        'First line\nSecond\tline\nThird',
      );
    });

    it('refuse other control characters in the notes', () => {
      for (const bad of ['a\u0000b', 'a\u0007b', 'a\u001b[2J', 'a\u007fb']) {
        expect(errorsOf(values({ notes: bad })).notes, JSON.stringify(bad)).toBe(
          'recipients.errors.field.controlCharacters',
        );
      }
    });
  });

  it('reports one message per wrong field, and only for those fields', () => {
    expect(
      errorsOf(values({ name: '', email: 'nope', country: 'ZZ', language: 'xx', title: 't'.repeat(300) })),
    ).toEqual({
      name: 'recipients.errors.name.required',
      email: 'recipients.errors.email.invalid',
      country: 'recipients.errors.country.unknown',
      language: 'recipients.errors.language.unsupported',
      title: 'recipients.errors.field.tooLong',
    });
  });

  it('uses only message keys that have an English text', () => {
    const messages = JSON.parse(
      readFileSync(new URL('../../../locales/en/recipients.json', import.meta.url), 'utf8'),
    );
    const known = new Set(keysOf(messages));
    const produced = Object.values(
      errorsOf(
        values({ name: '', email: '', language: '', salutation: '', country: 'ZZ', title: 'x'.repeat(201) }),
      ),
    ).concat(Object.values(errorsOf(values({ email: 'nope', language: 'xx', name: 'a\u0000' }))));
    for (const key of produced) expect(known, key).toContain(key);
  });
});

describe('recipientFormValues: reading the raw form body', () => {
  /** The form as it reads when nothing usable was sent. */
  const EMPTY: RecipientFormValues = {
    name: '',
    title: '',
    organisation: '',
    country: '',
    email: '',
    language: '',
    salutation: '',
    notes: '',
    salutations: {},
    names: {},
  };

  it('reads every field as sent', () => {
    const body = values({ notes: 'n' });
    expect(recipientFormValues({ ...body })).toEqual(body);
  });

  it('keeps values untrimmed, so the form shows them back as typed', () => {
    expect(recipientFormValues({ name: '  Ms Park  ' }).name).toBe('  Ms Park  ');
  });

  it('treats missing, repeated and non-string fields as empty, and drops unknown fields', () => {
    const read = recipientFormValues({
      name: ['a', 'b'],
      email: { $ne: '' },
      country: 7,
      language: null,
      admin: 'true',
    });
    expect(read).toEqual(EMPTY);
  });

  it('copes with a body that is not an object', () => {
    for (const body of [undefined, null, 'name=Park', 42, []])
      expect(recipientFormValues(body), JSON.stringify(body)).toEqual(EMPTY);
  });
});
