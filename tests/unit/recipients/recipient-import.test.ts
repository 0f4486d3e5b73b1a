import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  parseRecipientCsv,
  RECIPIENT_CSV_ALIASES,
  RECIPIENT_CSV_COLUMNS,
  type ImportParse,
  type ImportRow,
} from '../../../server/recipients/recipient-import.js';

const LANGUAGES = ['en', 'ko', 'uk'] as const;
const HEADER = 'name,title,organisation,country,email,language,salutation,notes';

/** A file from its lines. */
const file = (lines: string[], eol = '\n') => lines.join(eol) + eol;

/** The rows of a file that must be readable as a whole. */
function rowsOf(text: string, limits?: { maxRows?: number }): ImportRow[] {
  const result = parseRecipientCsv(text, LANGUAGES, limits);
  if (!result.ok) throw new Error(`expected the file to be read, got ${JSON.stringify(result)}`);
  return result.rows;
}

/** The whole-file error of a file that must be refused. */
function fileErrorOf(text: string, limits?: { maxRows?: number }) {
  const result = parseRecipientCsv(text, LANGUAGES, limits);
  if (result.ok) throw new Error(`expected the file to be refused, got ${result.rows.length} rows`);
  return { messageKey: result.messageKey, params: result.params };
}

const park =
  'Park Eun-ji,Ambassador,Embassy of the Republic of Korea,KR,park@embassy.example,en,Dear Ambassador,';
const kovalenko =
  'Olena Kovalenko,Minister,Ministry of Foreign Affairs,UA,minister@mfa.example,uk,Dear Minister,';
const cho = 'Cho Min-su,Director,UNHCR,,cho@unhcr.example,ko,Dear Director,';

/**
 * Every leaf key of a nested messages object, with the {{params}} its text uses. A plural key (`x_one`,
 * `x_other`) is listed under the key its callers pass (`x`).
 */
function messagesOf(messages: Record<string, unknown>, prefix = ''): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [key, value] of Object.entries(messages)) {
    if (typeof value === 'object' && value !== null) {
      for (const [k, v] of messagesOf(value as Record<string, unknown>, `${prefix}${key}.`)) out.set(k, v);
    } else {
      const name = key.replace(/_(zero|one|two|few|many|other)$/, '');
      out.set(
        `${prefix}${name}`,
        [...String(value).matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1] ?? '').sort(),
      );
    }
  }
  return out;
}

describe('importing recipients from CSV', () => {
  it('reads every row of a well-formed file into recipient input, with the line each row is on', () => {
    const result = parseRecipientCsv(file([HEADER, park, kovalenko, cho]), LANGUAGES);
    expect(result).toEqual({
      ok: true,
      columns: [...RECIPIENT_CSV_COLUMNS],
      ignoredColumns: [],
      rows: [
        expect.objectContaining({
          line: 2,
          errors: [],
          input: expect.objectContaining({ name: 'Park Eun-ji' }),
        }),
        expect.objectContaining({ line: 3, errors: [], input: expect.objectContaining({ country: 'UA' }) }),
        expect.objectContaining({ line: 4, errors: [], input: expect.objectContaining({ country: null }) }),
      ],
    });
    const [first] = rowsOf(file([HEADER, park]));
    expect(first?.input).toEqual({
      name: 'Park Eun-ji',
      title: 'Ambassador',
      organisation: 'Embassy of the Republic of Korea',
      country: 'KR',
      email: 'park@embassy.example',
      language: 'en',
      salutation: 'Dear Ambassador',
      salutations: { en: 'Dear Ambassador' },
      names: {},
      notes: '',
    });
  });

  it('reports a row with a bad e-mail by its line number and keeps the other rows', () => {
    const rows = rowsOf(
      file([HEADER, park, kovalenko.replace('minister@mfa.example', 'minister-at-mfa'), cho]),
    );
    expect(rows.map((row) => [row.line, row.input !== null])).toEqual([
      [2, true],
      [3, false],
      [4, true],
    ]);
    expect(rows[1]?.errors).toEqual([{ field: 'email', messageKey: 'recipients.errors.email.invalid' }]);
    expect(rows[1]?.values.email).toBe('minister-at-mfa');
  });

  it('reports every wrong field of a row, in column order', () => {
    const [row] = rowsOf(file([HEADER, ',,,Narnia,,fr,,']));
    expect(row?.errors).toEqual([
      { field: 'name', messageKey: 'recipients.errors.name.required' },
      { field: 'country', messageKey: 'recipients.import.errors.country', params: { value: 'Narnia' } },
      { field: 'email', messageKey: 'recipients.errors.email.required' },
      {
        field: 'language',
        messageKey: 'recipients.import.errors.language',
        params: { value: 'fr', languages: 'en, ko, uk' },
      },
      { field: 'salutation', messageKey: 'recipients.errors.salutation.required' },
    ]);
    expect(row?.input).toBeNull();
  });

  describe('the header row', () => {
    it('matches column names case-insensitively and with spaces around them, in any order', () => {
      const rows = rowsOf(
        file(['  SALUTATION , Email ,Name,LANGUAGE', 'Dear Minister,m@mfa.example,Olena,uk']),
      );
      expect(rows[0]?.input).toMatchObject({
        name: 'Olena',
        email: 'm@mfa.example',
        language: 'uk',
        salutation: 'Dear Minister',
      });
    });

    it('accepts the documented aliases for each column', () => {
      const header =
        'Full Name,Job_Title,Organization,Country Code,E-mail Address,Preferred Language,Greeting,Comments';
      const [row] = rowsOf(
        file([header, 'Olena,Minister,MFA,ua,m@mfa.example,Ukrainian,Dear Minister,Met in Kyiv']),
      );
      expect(row?.input).toEqual({
        name: 'Olena',
        title: 'Minister',
        organisation: 'MFA',
        country: 'UA',
        email: 'm@mfa.example',
        language: 'uk',
        salutation: 'Dear Minister',
        salutations: { uk: 'Dear Minister' },
        names: {},
        notes: 'Met in Kyiv',
      });
      for (const [column, aliases] of Object.entries(RECIPIENT_CSV_ALIASES)) {
        for (const alias of aliases) {
          const headerCells = ['name', 'email', 'language', 'salutation']
            .filter((c) => c !== column)
            .concat(alias);
          const cells = headerCells.map(
            (cell) =>
              (
                ({ name: 'N', email: 'n@example.org', language: 'en', salutation: 'Dear N' }) as Record<
                  string,
                  string
                >
              )[cell] ?? 'x',
          );
          const result = parseRecipientCsv(file([headerCells.join(','), cells.join(',')]), LANGUAGES);
          expect(result.ok && result.columns, alias).toContain(column);
        }
      }
      expect(RECIPIENT_CSV_ALIASES.email).toEqual(expect.arrayContaining(['e-mail', 'email address']));
      expect(RECIPIENT_CSV_ALIASES.organisation).toContain('organization');
      expect(RECIPIENT_CSV_ALIASES.language).toEqual(expect.arrayContaining(['lang', 'preferred language']));
      expect(RECIPIENT_CSV_ALIASES.title).toEqual(expect.arrayContaining(['position', 'job title']));
    });

    it('reads a file kept in Korean or Ukrainian, with its headers in that language', () => {
      const korean = rowsOf(
        file([
          '이름,직함,기관,국가,이메일,언어,인사말,메모',
          '통일부 장관,장관,통일부,KR,m@unikorea.example,ko,존경하는 장관님께,',
        ]),
      );
      expect(korean[0]?.input).toMatchObject({
        name: '통일부 장관',
        title: '장관',
        organisation: '통일부',
        email: 'm@unikorea.example',
        language: 'ko',
        salutation: '존경하는 장관님께',
      });
      // The apostrophe as a keyboard types it ("ім'я") and as typography writes it ("ім’я") alike.
      for (const name of ["Ім'я", 'Ім’я', 'Імʼя']) {
        const ukrainian = rowsOf(
          file([
            `${name},Посада,Електронна пошта,Мова,Звертання`,
            'Міністр,Міністр,m@mfa.example,uk,Шановний пане Міністре',
          ]),
        );
        expect(ukrainian[0]?.input, name).toMatchObject({
          name: 'Міністр',
          title: 'Міністр',
          language: 'uk',
        });
      }
    });

    it('reads names in other interface languages from name_<code>, title_<code> and organisation_<code> columns, under any header of the field', () => {
      const result = parseRecipientCsv(
        file([
          'name,email,language,salutation,name_ko,Organization KO,기관_uk,title_de',
          'Embassy of Canada,c@canada.example,en,Dear Ambassador,주한 캐나다 대사관 대표,주한 캐나다 대사관,Посольство Канади,Botschafter',
        ]),
        LANGUAGES,
      );
      expect(result).toMatchObject({
        ok: true,
        columns: ['name', 'email', 'language', 'salutation', 'name_ko', 'organisation_ko', 'organisation_uk'],
        // German is no interface language: no page would name them in it.
        ignoredColumns: ['title_de'],
      });
      expect(result.ok && result.rows[0]?.input?.names).toEqual({
        ko: { name: '주한 캐나다 대사관 대표', title: '', organisation: '주한 캐나다 대사관' },
        uk: { name: '', title: '', organisation: 'Посольство Канади' },
      });
      // A name in another language is checked like the recipient's own, and named by its column.
      const refused = rowsOf(
        file([
          'name,email,language,salutation,name_ko',
          `Embassy,e@x.example,en,Dear Sir,${'가'.repeat(201)}`,
        ]),
      );
      expect(refused[0]?.input).toBeNull();
      expect(refused[0]?.errors.map((e) => e.field)).toEqual(['name_ko']);
      expect(
        fileErrorOf(file(['name,email,language,salutation,name_ko,이름_ko', 'a,a@example.org,en,Hi,가,나'])),
      ).toMatchObject({
        messageKey: 'recipients.import.errors.duplicateColumn',
        params: { column: '이름_ko' },
      });
    });

    it('ignores unknown columns and lists them, when the required ones are there', () => {
      const result = parseRecipientCsv(
        file([
          'name,Fax,email,language,salutation,Internal ID,',
          'Olena,+380 44,m@mfa.example,uk,Dear Minister,17,',
        ]),
        LANGUAGES,
      );
      expect(result).toMatchObject({
        ok: true,
        columns: ['name', 'email', 'language', 'salutation'],
        ignoredColumns: ['Fax', 'Internal ID'],
      });
      expect(result.ok && result.rows[0]?.input?.email).toBe('m@mfa.example');
    });

    it('refuses the file when a required column is missing, naming it and any unrecognised columns', () => {
      expect(fileErrorOf(file(['name,email,title', 'Olena,m@mfa.example,Minister']))).toEqual({
        messageKey: 'recipients.import.errors.missingColumns',
        params: { columns: 'language, salutation' },
      });
      expect(fileErrorOf(file(['name,mail,lang,Anrede', 'Olena,m@mfa.example,uk,Sehr geehrte']))).toEqual({
        messageKey: 'recipients.import.errors.missingColumnsWithUnknown',
        params: { columns: 'email, salutation', unknown: 'mail, Anrede' },
      });
    });

    it('refuses a file whose first row is data rather than column names', () => {
      expect(fileErrorOf(file([park, kovalenko])).messageKey).toBe(
        'recipients.import.errors.missingColumnsWithUnknown',
      );
    });

    it('refuses two columns for the same field, even under different names', () => {
      expect(
        fileErrorOf(file(['name,email,E-Mail,language,salutation', 'a,a@example.org,b@example.org,en,Hi'])),
      ).toEqual({
        messageKey: 'recipients.import.errors.duplicateColumn',
        params: { column: 'E-Mail' },
      });
    });
  });

  describe('file formats', () => {
    it('detects semicolons from the header, with commas inside values kept', () => {
      const rows = rowsOf(
        file([
          'name;organisation;email;language;salutation',
          'Olena Kovalenko;Ministry of Foreign Affairs, Kyiv;m@mfa.example;uk;Dear Minister, Ms Kovalenko',
        ]),
      );
      expect(rows[0]?.input).toMatchObject({
        organisation: 'Ministry of Foreign Affairs, Kyiv',
        salutation: 'Dear Minister, Ms Kovalenko',
      });
    });

    it('detects commas when values contain semicolons', () => {
      const rows = rowsOf(
        file(['name,organisation,email,language,salutation', 'Olena,"MFA; Kyiv",m@mfa.example,uk,Hi']),
      );
      expect(rows[0]?.input?.organisation).toBe('MFA; Kyiv');
    });

    it('reads Windows line endings (CRLF) and old Mac ones (CR) with the same line numbers', () => {
      for (const eol of ['\r\n', '\r', '\n']) {
        const rows = rowsOf(file([HEADER, park, '', kovalenko], eol));
        expect(
          rows.map((row) => row.line),
          JSON.stringify(eol),
        ).toEqual([2, 4]);
        expect(rows[1]?.input?.salutation).toBe('Dear Minister');
      }
    });

    it('ignores a UTF-8 byte order mark before the header', () => {
      const rows = rowsOf(`\uFEFF${file([HEADER, park], '\r\n')}`);
      expect(rows[0]?.input?.name).toBe('Park Eun-ji');
    });

    it('reads a file without a final line break', () => {
      expect(rowsOf([HEADER, park].join('\n'))).toHaveLength(1);
    });

    it('keeps line breaks inside quoted values and counts the lines they take', () => {
      const rows = rowsOf(
        file(
          [
            'name,email,language,salutation,notes',
            'Olena,m@mfa.example,uk,Dear Minister,"Met in Kyiv.\r\nFollow up in May.\r\n\r\nCall first."',
            'Park,park@embassy.example,en,Dear Ambassador,',
            '"Cho\r\nMin-su",cho@unhcr.example,ko,"Dear\r\nDirector",',
            'Lee,lee@example.org,en,Dear Ms Lee,',
          ],
          '\r\n',
        ),
      );
      expect(rows.map((row) => row.line)).toEqual([2, 6, 7, 10]);
      expect(rows[0]?.input?.notes).toBe('Met in Kyiv.\nFollow up in May.\n\nCall first.');
      // A line break is allowed in notes only; in a name it is refused on the row, by its first line.
      expect(rows[2]?.errors).toEqual([
        { field: 'name', messageKey: 'recipients.errors.field.controlCharacters' },
        { field: 'salutation', messageKey: 'recipients.errors.field.controlCharacters' },
      ]);
      expect(rows[3]?.input?.name).toBe('Lee');
    });

    it('skips blank lines and rows of empty cells, keeping the real line numbers', () => {
      const rows = rowsOf(
        file(['', HEADER, '', '   ', park, ',,,,,,,', ' , ; ,,,,,', '\t', kovalenko, '', '']),
      );
      expect(rows.map((row) => row.line)).toEqual([5, 7, 9]);
      expect(rows[1]?.errors[0]?.messageKey).toBe('recipients.import.errors.fieldCount');
    });

    it('accepts quoted values with doubled quotes and spaces around them', () => {
      const rows = rowsOf(
        file(['name, email, language, salutation', '"The ""Ministry""", "m@mfa.example" , uk, "Dear, dear"']),
      );
      expect(rows[0]?.input).toMatchObject({ name: 'The "Ministry"', salutation: 'Dear, dear' });
    });
  });

  describe('rows that are wrong as a whole', () => {
    it('reports a row with too few or too many values on that row, and keeps the others', () => {
      const rows = rowsOf(file([HEADER, park, 'Olena,Minister', `${cho},extra`, kovalenko]));
      expect(rows.map((row) => row.input !== null)).toEqual([true, false, false, true]);
      expect(rows[1]).toMatchObject({
        line: 3,
        errors: [
          {
            field: 'row',
            messageKey: 'recipients.import.errors.fieldCount',
            params: { expected: '8', count: 2 },
          },
        ],
        values: { name: 'Olena', title: 'Minister', email: '' },
      });
      expect(rows[2]?.errors[0]?.params).toEqual({ expected: '8', count: 9 });
    });

    it('refuses the same address twice, naming the line of the first, whatever its case and spaces', () => {
      const rows = rowsOf(
        file([HEADER, park, kovalenko, park.replace('park@embassy.example', ' PARK@Embassy.example '), cho]),
      );
      expect(rows.map((row) => row.input !== null)).toEqual([true, true, false, true]);
      expect(rows[2]).toMatchObject({
        line: 4,
        errors: [
          { field: 'email', messageKey: 'recipients.import.errors.duplicateEmail', params: { line: '2' } },
        ],
      });
    });

    it('counts an address as taken by a first row that is wrong for another reason', () => {
      const rows = rowsOf(file([HEADER, park.replace(',en,', ',fr,'), park]));
      expect(rows[1]?.errors).toEqual([
        { field: 'email', messageKey: 'recipients.import.errors.duplicateEmail', params: { line: '2' } },
      ]);
    });
  });

  describe('values', () => {
    it('normalises a country given as a code in any case or as an English name', () => {
      const countries = [
        'KR',
        'kr',
        ' Kr ',
        'South Korea',
        'SOUTH KOREA',
        'United Kingdom',
        'UK',
        "Cote d'Ivoire",
        'Côte d’Ivoire',
        'Bosnia and Herzegovina',
        '',
      ];
      const rows = rowsOf(
        file([
          'name,email,language,salutation,country',
          ...countries.map((c, i) => `N,n${i}@example.org,en,Hi,"${c}"`),
        ]),
      );
      expect(rows.map((row) => row.input?.country)).toEqual([
        'KR',
        'KR',
        'KR',
        'KR',
        'KR',
        'GB',
        'GB',
        'CI',
        'CI',
        'BA',
        null,
      ]);
    });

    it('refuses an unknown country by naming the value', () => {
      for (const country of ['Korea, Republic of', 'ZZ', 'Atlantis']) {
        const [row] = rowsOf(
          file(['name,email,language,salutation,country', `N,n@example.org,en,Hi,"${country}"`]),
        );
        expect(row?.errors).toEqual([
          { field: 'country', messageKey: 'recipients.import.errors.country', params: { value: country } },
        ]);
      }
    });

    it('normalises a language given as a code, an English name or its own name, when it is offered', () => {
      const languages = [
        'ko',
        'KO',
        'Korean',
        'korean',
        '한국어',
        'uk',
        'Ukrainian',
        'українська',
        'English',
      ];
      const rows = rowsOf(
        file(['name,email,language,salutation', ...languages.map((l, i) => `N,n${i}@example.org,${l},Hi`)]),
      );
      expect(rows.map((row) => row.input?.language)).toEqual([
        'ko',
        'ko',
        'ko',
        'ko',
        'ko',
        'uk',
        'uk',
        'uk',
        'en',
      ]);
      const french = parseRecipientCsv(
        file(['name,email,language,salutation', 'N,n@example.org,French,Hi']),
        ['en', 'fr'],
      );
      expect(french.ok && french.rows[0]?.input?.language).toBe('fr');
    });

    it('refuses a language that is not offered, naming the value and the offered ones', () => {
      const [row] = rowsOf(file(['name,email,language,salutation', 'N,n@example.org,Japanese,Hi']));
      expect(row?.errors).toEqual([
        {
          field: 'language',
          messageKey: 'recipients.import.errors.language',
          params: { value: 'Japanese', languages: 'en, ko, uk' },
        },
      ]);
    });

    it('imports Korean and Ukrainian text as written', () => {
      const rows = rowsOf(
        file([
          'name,title,organisation,country,email,language,salutation,notes',
          '조태열,장관,대한민국 외교부,KR,minister@mofa.example,ko,존경하는 장관님께,"서울 회의에서 만남"',
          'Андрій Сибіга,Міністр,Міністерство закордонних справ України,Україна,minister@mfa.example,uk,"Шановний пане Міністре,",Ґ Є І Ї',
        ]),
      );
      expect(rows[0]?.input).toMatchObject({
        name: '조태열',
        organisation: '대한민국 외교부',
        salutation: '존경하는 장관님께',
      });
      // Country names are matched in English only; a Ukrainian name is refused on the row, not misread.
      expect(rows[1]?.errors).toEqual([
        { field: 'country', messageKey: 'recipients.import.errors.country', params: { value: 'Україна' } },
      ]);
      expect(rows[1]?.values).toMatchObject({
        name: 'Андрій Сибіга',
        salutation: 'Шановний пане Міністре,',
        notes: 'Ґ Є І Ї',
      });
    });

    it('keeps spreadsheet formulas and markup as plain text', () => {
      const [row] = rowsOf(
        file([
          'name,organisation,email,language,salutation,notes',
          '<script>alert(1)</script>,"=HYPERLINK(""http://evil.example"",""click"")",x@example.org,en,+SUM(A1:A9),@cmd|\' /C calc\'!A0',
        ]),
      );
      expect(row?.input).toMatchObject({
        name: '<script>alert(1)</script>',
        organisation: '=HYPERLINK("http://evil.example","click")',
        salutation: '+SUM(A1:A9)',
        notes: "@cmd|' /C calc'!A0",
      });
    });

    it('keeps the cells as written in values, for the preview, and the normalised ones in input', () => {
      const [row] = rowsOf(
        file(['name,email,language,salutation,country', ' Olena ,M@MFA.example,Ukrainian,Hi,ukraine']),
      );
      expect(row?.values).toMatchObject({
        name: 'Olena',
        email: 'M@MFA.example',
        language: 'Ukrainian',
        country: 'ukraine',
        title: '',
      });
      expect(row?.input).toMatchObject({ email: 'm@mfa.example', language: 'uk', country: 'UA' });
    });

    it('refuses control characters in cells on the row', () => {
      const [row] = rowsOf(
        file(['name,email,language,salutation', 'Ol\u0007ena,o@example.org,uk,Hi\u001b[31m']),
      );
      expect(row?.errors.map((error) => error.field)).toEqual(['name', 'salutation']);
    });
  });

  describe('files that cannot be imported', () => {
    it('refuses an empty file, a blank one and one with only a byte order mark', () => {
      for (const text of ['', '\n\n', '  \r\n\t', '\uFEFF']) {
        expect(fileErrorOf(text), JSON.stringify(text)).toEqual({
          messageKey: 'recipients.import.errors.empty',
          params: undefined,
        });
      }
    });

    it('refuses a file with column names and no recipients', () => {
      for (const text of [HEADER, file([HEADER]), file([HEADER, '', ',,,,,,,'])]) {
        expect(fileErrorOf(text).messageKey).toBe('recipients.import.errors.noRows');
      }
    });

    it('accepts 5000 recipients and refuses 5001 with the limit named', () => {
      const lines = (count: number) =>
        Array.from({ length: count }, (_, i) => `Recipient ${i},r${i}@example.org,en,Dear Sir or Madam`);
      const header = 'name,email,language,salutation';
      expect(rowsOf(file([header, ...lines(5000)]))).toHaveLength(5000);
      expect(fileErrorOf(file([header, ...lines(5001)]))).toEqual({
        messageKey: 'recipients.import.errors.tooManyRows',
        params: { count: 5000 },
      });
    });

    it('applies a lower limit when given one, not counting blank lines', () => {
      const text = file([
        'name,email,language,salutation',
        'a,a@example.org,en,Hi',
        '',
        ',,,',
        'b,b@example.org,en,Hi',
      ]);
      expect(rowsOf(text, { maxRows: 2 })).toHaveLength(2);
      expect(fileErrorOf(text, { maxRows: 1 })).toEqual({
        messageKey: 'recipients.import.errors.tooManyRows',
        params: { count: 1 },
      });
    });

    it('refuses binary data and text that is not UTF-8', () => {
      const png = new Uint8Array([
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
      ]);
      const latin1 = new Uint8Array([
        ...new TextEncoder().encode('name,email,language,salutation\nJos'),
        0xe9,
        0x0a,
      ]);
      for (const bytes of [png, latin1]) {
        expect(fileErrorOf(new TextDecoder().decode(bytes)).messageKey).toBe(
          'recipients.import.errors.notText',
        );
      }
      expect(fileErrorOf(`${HEADER}\n\u0000\u0000\u0000`).messageKey).toBe(
        'recipients.import.errors.notText',
      );
    });

    it('refuses a quote that is never closed, naming the line where its value starts', () => {
      expect(
        fileErrorOf(
          file([HEADER, park, '', ',,,,,,,', '"Olena,Minister,MFA,UA,m@mfa.example,uk,Hi,', kovalenko]),
        ),
      ).toEqual({
        messageKey: 'recipients.import.errors.quoteNotClosed',
        params: { line: '5' },
      });
      expect(fileErrorOf('"name,email\n')).toEqual({
        messageKey: 'recipients.import.errors.quoteNotClosed',
        params: { line: '1' },
      });
    });

    it('refuses a quote in the middle of a value, naming its line', () => {
      expect(
        fileErrorOf(file([HEADER, park, 'Olena "the minister" K,Minister,MFA,UA,m@mfa.example,uk,Hi,'])),
      ).toEqual({
        messageKey: 'recipients.import.errors.misplacedQuote',
        params: { line: '3' },
      });
      expect(fileErrorOf(file([HEADER, '"Olena" K,Minister,MFA,UA,m@mfa.example,uk,Hi,'])).messageKey).toBe(
        'recipients.import.errors.misplacedQuote',
      );
    });

    it('refuses a row far larger than a recipient can be, without reading it as one huge value', () => {
      expect(fileErrorOf(file([HEADER, park, `x,${'y'.repeat(100_000)},,,,,,`]))).toEqual({
        messageKey: 'recipients.import.errors.rowTooLarge',
        params: { line: '3' },
      });
    });
  });

  it('uses only message keys that have an English text, with the parameters the text expects', () => {
    const messages = messagesOf(
      JSON.parse(readFileSync(new URL('../../../locales/en/recipients.json', import.meta.url), 'utf8')),
    );
    const results: ImportParse[] = [
      parseRecipientCsv(file([HEADER, ',,,Narnia,bad,fr,,', ',,,,,,,x\u0000']), LANGUAGES),
      parseRecipientCsv(
        file([
          HEADER,
          ',,,Narnia,bad,fr,,n\u0007',
          'x',
          park,
          park,
          `x${'y'.repeat(300)},,,,a@b.example,en,Hi,`,
        ]),
        LANGUAGES,
      ),
      ...[
        '',
        HEADER,
        '\u0000',
        'name,email\na,b',
        'name,x\na,b',
        'name,email,Email\n',
        `${HEADER}\n"a`,
        `${HEADER}\na"b`,
        `${HEADER}\n"${'x'.repeat(70_000)}`,
      ].map((text) => parseRecipientCsv(text, LANGUAGES)),
      parseRecipientCsv(file([HEADER, park, kovalenko]), LANGUAGES, { maxRows: 1 }),
    ];
    const produced = results.flatMap((result) =>
      result.ok
        ? result.rows.flatMap((row) =>
            row.errors.map((error) => ({ key: error.messageKey, params: error.params })),
          )
        : [{ key: result.messageKey, params: result.params }],
    );
    expect(new Set(produced.map((p) => p.key)).size).toBeGreaterThanOrEqual(17);
    for (const { key, params } of produced) {
      expect(messages.has(key), key).toBe(true);
      expect(Object.keys(params ?? {}).sort(), key).toEqual(messages.get(key));
    }
  });

  // A thousand generated files: seconds on a loaded machine, more than the unit tier's 5 s default
  // when every project's tests run beside it.
  describe('on any input', { timeout: 30_000 }, () => {
    const tricky = fc.constantFrom(
      ',',
      ';',
      '"',
      '\n',
      '\r',
      '\r\n',
      ' ',
      '\t',
      'a',
      'é',
      '김',
      '\uFEFF',
      '\u0000',
      '=',
      'name',
      'email',
      'language',
      'salutation',
      'x@example.org',
      'en',
    );

    it('never throws, on arbitrary strings', () => {
      fc.assert(
        fc.property(
          fc.oneof(
            fc.string({ unit: 'binary', maxLength: 300 }),
            fc.string({ unit: tricky, maxLength: 200 }),
          ),
          (text) => {
            const result = parseRecipientCsv(text, LANGUAGES, { maxRows: 20 });
            expect(typeof result.ok).toBe('boolean');
          },
        ),
        { numRuns: 500 },
      );
    });

    it('never throws on files with a valid header and random rows, and numbers rows in increasing line order', () => {
      const cell = fc.string({ unit: tricky, maxLength: 12 });
      // A quote out of place or a NUL anywhere makes the whole file unreadable: half the files have
      // neither, so that many are read and the line numbers of their rows checked.
      const plainCell = fc.string({
        unit: tricky.filter((c) => c !== '"' && c !== '\u0000'),
        maxLength: 12,
      });
      const rowLists = (c: fc.Arbitrary<string>) =>
        fc.array(fc.array(c, { maxLength: 6 }), { maxLength: 12 });
      let read = 0;
      fc.assert(
        fc.property(
          fc.constantFrom(',', ';'),
          fc.constantFrom('\n', '\r\n', '\r'),
          fc.oneof(rowLists(cell), rowLists(plainCell)),
          (delimiter, eol, rows) => {
            const text =
              ['name', 'email', 'language', 'salutation'].join(delimiter) +
              eol +
              rows.map((r) => r.join(delimiter)).join(eol);
            const result = parseRecipientCsv(text, LANGUAGES);
            if (result.ok) {
              read += 1;
              const lines = result.rows.map((row) => row.line);
              expect(lines.every((line, i) => line >= 2 && (i === 0 || line > (lines[i - 1] ?? 0)))).toBe(
                true,
              );
              expect(lines.every((line) => line <= text.split(/\r\n|\r|\n/).length)).toBe(true);
            }
          },
        ),
        { numRuns: 500 },
      );
      // Many of the files were read, so their line numbers were checked.
      expect(read).toBeGreaterThan(100);
    });

    it('gives each row the line it starts on, whatever line breaks and blank lines come before it', () => {
      const quotedCell = fc.string({
        unit: fc.constantFrom('a', ' ', ',', ';', '"', '\n', '\r\n', '\r', '김'),
        maxLength: 10,
      });
      fc.assert(
        fc.property(
          fc.constantFrom('\n', '\r\n', '\r'),
          fc.array(fc.tuple(fc.array(quotedCell, { maxLength: 3 }), fc.nat(2)), {
            minLength: 1,
            maxLength: 10,
          }),
          (eol, rows) => {
            let text = `name,email,language,salutation${eol}`;
            const expected: number[] = [];
            for (const [index, [cells, blankLinesBefore]] of rows.entries()) {
              text += eol.repeat(blankLinesBefore);
              expected.push(text.split(/\r\n|\r|\n/).length);
              const quoted = cells.map((cell) => `"${cell.replaceAll('"', '""')}"`);
              text += [`r${index}`, ...quoted].join(',') + eol;
            }
            const result = parseRecipientCsv(text, LANGUAGES);
            expect(result.ok && result.rows.map((row) => row.line)).toEqual(expected);
          },
        ),
        { numRuns: 500 },
      );
    });
  });
});
