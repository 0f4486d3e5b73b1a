import { describe, expect, it } from 'vitest';
import {
  parseSigningForm,
  signingFormValues,
  type SigningFormValues,
} from '../../../server/signatures/signature-input.js';

function values(overrides: Partial<SigningFormValues> = {}): SigningFormValues {
  return {
    name: 'Kim Ji-hoon',
    email: 'ji-hoon@example.org',
    country: 'KR',
    city: '',
    organisation: '',
    title: '',
    display: 'full',
    privacy: true,
    updates: false,
    ...overrides,
  };
}

/** The error keys of a form that must fail. */
function errorsOf(form: SigningFormValues): Partial<Record<keyof SigningFormValues, string>> {
  const result = parseSigningForm(form);
  if (result.ok) throw new Error(`expected the form to be refused: ${JSON.stringify(form)}`);
  return result.errors;
}

/** The parsed input of a form that must pass. */
function inputOf(form: SigningFormValues) {
  const result = parseSigningForm(form);
  if (!result.ok) throw new Error(`expected the form to be accepted, got ${JSON.stringify(result.errors)}`);
  return result.input;
}

describe('the signing form', () => {
  it('accepts a complete form and maps it to the signing input', () => {
    expect(
      inputOf(
        values({
          city: 'Seoul',
          organisation: 'Freedom Now',
          title: 'Researcher',
          display: 'initials',
          updates: true,
        }),
      ),
    ).toEqual({
      fullName: 'Kim Ji-hoon',
      email: 'ji-hoon@example.org',
      country: 'KR',
      city: 'Seoul',
      organisation: 'Freedom Now',
      jobTitle: 'Researcher',
      display: 'initials',
      consentUpdates: true,
    });
  });

  it('accepts empty optional fields', () => {
    const input = inputOf(values({ city: '', organisation: '', title: '' }));
    expect(input).toMatchObject({ city: '', organisation: '', jobTitle: '' });
  });

  it('trims white space around every text field', () => {
    const input = inputOf(
      values({
        name: '  Kim Ji-hoon \t',
        email: '  ji-hoon@example.org  ',
        city: ' Seoul ',
        organisation: ' Freedom Now ',
        title: '  Researcher ',
      }),
    );
    expect(input).toMatchObject({
      fullName: 'Kim Ji-hoon',
      email: 'ji-hoon@example.org',
      city: 'Seoul',
      organisation: 'Freedom Now',
      jobTitle: 'Researcher',
    });
  });

  it('accepts Korean and Ukrainian names as written', () => {
    expect(inputOf(values({ name: '김지훈' })).fullName).toBe('김지훈');
    expect(inputOf(values({ name: 'Олена Коваленко' })).fullName).toBe('Олена Коваленко');
    expect(inputOf(values({ name: 'Юрій Ґудзь-Їжак' })).fullName).toBe('Юрій Ґудзь-Їжак');
    expect(inputOf(values({ name: '김'.repeat(120) })).fullName).toHaveLength(120);
  });

  describe('name', () => {
    it('refuses an e-mail address typed as the name, since names can be shown in public', () => {
      expect(errorsOf(values({ name: 'ji.hoon@example.org' })).name).toBe('errors.name.looksLikeEmail');
      expect(errorsOf(values({ name: 'Kim Ji-hoon <jh@mail.example.com>' })).name).toBe(
        'errors.name.looksLikeEmail',
      );
      expect(inputOf(values({ name: 'Kim @ Seoul' })).fullName).toBe('Kim @ Seoul');
    });

    it('refuses an address without a dot, or written with a full-width or small at sign', () => {
      for (const name of ['jihoon@localhost', 'ji.hoon＠example.org', 'ji.hoon﹫example.org'])
        expect(errorsOf(values({ name })).name, name).toBe('errors.name.looksLikeEmail');
    });
  });

  describe('organisation and title', () => {
    it('refuse an e-mail address, since they are printed beside the name in the annex recipients get', () => {
      for (const field of ['organisation', 'title'] as const) {
        for (const value of ['press@ngo.example.org', 'NGO (contact: a＠b.example)', 'x@y'])
          expect(errorsOf(values({ [field]: value }))[field], `${field}: ${value}`).toBe(
            'errors.field.looksLikeEmail',
          );
        // An at sign on its own, between spaces, is no address.
        expect(inputOf(values({ [field]: 'Amnesty @ Seoul' }))).toBeDefined();
      }
    });

    it('is required', () => {
      expect(errorsOf(values({ name: '' })).name).toBe('errors.name.required');
      expect(errorsOf(values({ name: '   ' })).name).toBe('errors.name.required');
    });

    it('is at most 120 characters, counted after trimming', () => {
      expect(inputOf(values({ name: `  ${'a'.repeat(120)}  ` })).fullName).toHaveLength(120);
      expect(errorsOf(values({ name: 'a'.repeat(121) })).name).toBe('errors.field.tooLong');
      expect(errorsOf(values({ name: 'a'.repeat(100_000) })).name).toBe('errors.field.tooLong');
    });

    it('refuses control characters inside the name', () => {
      for (const name of [
        'Kim\u0000Ji-hoon',
        'Kim\nJi-hoon',
        'Kim\tJi-hoon',
        'Kim\rBcc: x@example.org',
        'Kim\u007f',
        'Kim\u001b[31m',
      ]) {
        expect(errorsOf(values({ name })).name, JSON.stringify(name)).toBe('errors.field.controlCharacters');
      }
    });
  });

  describe('e-mail', () => {
    it('is required', () => {
      expect(errorsOf(values({ email: '' })).email).toBe('errors.email.required');
      expect(errorsOf(values({ email: '   ' })).email).toBe('errors.email.required');
    });

    it('must be an address', () => {
      for (const email of [
        'ji-hoon',
        'ji-hoon@',
        '@example.org',
        'ji hoon@example.org',
        'ji-hoon@example',
        'a@b@example.org',
        'ji-hoon@example.org\r\nBcc: x@example.org',
      ]) {
        expect(errorsOf(values({ email })).email, JSON.stringify(email)).toBe('errors.email.invalid');
      }
    });

    it('has at most 64 characters before the @ and 63 between dots, as mail servers require', () => {
      expect(inputOf(values({ email: `${'a'.repeat(64)}@example.org` })).email).toMatch(/^a{64}@/);
      expect(errorsOf(values({ email: `${'a'.repeat(65)}@example.org` })).email).toBe(
        'errors.email.partTooLong',
      );
      expect(inputOf(values({ email: `ji@${'b'.repeat(63)}.example.org` })).email).toMatch(/^ji@b{63}\./);
      expect(errorsOf(values({ email: `ji@${'b'.repeat(64)}.example.org` })).email).toBe(
        'errors.email.partTooLong',
      );
    });

    it('is at most 254 characters', () => {
      const long = `${'a'.repeat(60)}@${'b'.repeat(190)}.example`;
      expect(long.length).toBeGreaterThan(254);
      expect(errorsOf(values({ email: long })).email).toBe('errors.field.tooLong');
    });
  });

  describe('country', () => {
    it('must be one of the listed country codes', () => {
      for (const country of ['', 'ZZ', 'kr', 'KOR', 'Korea', ' KR']) {
        expect(errorsOf(values({ country })).country, JSON.stringify(country)).toBe(
          'errors.country.required',
        );
      }
      expect(inputOf(values({ country: 'UA' })).country).toBe('UA');
      expect(inputOf(values({ country: 'KP' })).country).toBe('KP');
    });
  });

  describe('display', () => {
    it('must be one of full, initials or hidden', () => {
      for (const display of ['full', 'initials', 'hidden'] as const)
        expect(inputOf(values({ display })).display).toBe(display);
      for (const display of ['', 'everyone', 'FULL', 'email']) {
        expect(errorsOf(values({ display })).display, JSON.stringify(display)).toBe(
          'errors.display.required',
        );
      }
    });
  });

  describe('privacy', () => {
    it('must be ticked', () => {
      expect(errorsOf(values({ privacy: false })).privacy).toBe('errors.privacy.required');
    });
  });

  describe('optional fields', () => {
    it('have length limits: city 80, organisation and title 120', () => {
      expect(inputOf(values({ city: 'c'.repeat(80) })).city).toHaveLength(80);
      expect(errorsOf(values({ city: 'c'.repeat(81) })).city).toBe('errors.field.tooLong');
      expect(inputOf(values({ organisation: 'o'.repeat(120) })).organisation).toHaveLength(120);
      expect(errorsOf(values({ organisation: 'o'.repeat(121) })).organisation).toBe('errors.field.tooLong');
      expect(inputOf(values({ title: 't'.repeat(120) })).jobTitle).toHaveLength(120);
      expect(errorsOf(values({ title: 't'.repeat(121) })).title).toBe('errors.field.tooLong');
    });

    it('refuse control characters', () => {
      expect(errorsOf(values({ city: 'Se\u0000oul' })).city).toBe('errors.field.controlCharacters');
      expect(errorsOf(values({ organisation: 'Free\ndom' })).organisation).toBe(
        'errors.field.controlCharacters',
      );
      expect(errorsOf(values({ title: 'Re\u0007searcher' })).title).toBe('errors.field.controlCharacters');
    });
  });

  it('reports one message per field when several fields are wrong, and only for those fields', () => {
    const errors = errorsOf(values({ name: '', email: 'nope', country: 'ZZ', display: 'x', privacy: false }));
    expect(errors).toEqual({
      name: 'errors.name.required',
      email: 'errors.email.invalid',
      country: 'errors.country.required',
      display: 'errors.display.required',
      privacy: 'errors.privacy.required',
    });
  });
});

describe('signingFormValues: reading the raw form body', () => {
  it('reads the fields a browser sends, with the checkboxes as booleans', () => {
    expect(
      signingFormValues({
        name: 'Kim Ji-hoon',
        email: 'ji-hoon@example.org',
        country: 'KR',
        city: 'Seoul',
        organisation: 'Freedom Now',
        title: 'Researcher',
        display: 'initials',
        privacy: 'yes',
        updates: 'yes',
      }),
    ).toEqual({
      name: 'Kim Ji-hoon',
      email: 'ji-hoon@example.org',
      country: 'KR',
      city: 'Seoul',
      organisation: 'Freedom Now',
      title: 'Researcher',
      display: 'initials',
      privacy: true,
      updates: true,
    });
  });

  it('keeps the values as typed, so the form shows them back unchanged', () => {
    expect(signingFormValues({ name: '  Kim  ' }).name).toBe('  Kim  ');
  });

  it('treats missing fields as empty and unticked', () => {
    expect(signingFormValues({})).toEqual({
      name: '',
      email: '',
      country: '',
      city: '',
      organisation: '',
      title: '',
      display: '',
      privacy: false,
      updates: false,
    });
  });

  it('ticks a checkbox only for the value "yes"', () => {
    expect(signingFormValues({ privacy: 'on', updates: 'true' })).toMatchObject({
      privacy: false,
      updates: false,
    });
  });

  it('ignores repeated fields, non-string values and unknown fields', () => {
    const read = signingFormValues({
      name: ['a', 'b'],
      email: { $ne: '' },
      privacy: ['yes', 'yes'],
      country: 7,
      admin: 'true',
    });
    expect(read).toEqual(signingFormValues({}));
    expect(Object.keys(read).sort()).toEqual([
      'city',
      'country',
      'display',
      'email',
      'name',
      'organisation',
      'privacy',
      'title',
      'updates',
    ]);
  });

  it('copes with a body that is not an object', () => {
    for (const body of [undefined, null, 'name=Kim', 42, []])
      expect(signingFormValues(body)).toEqual(signingFormValues({}));
  });
});
