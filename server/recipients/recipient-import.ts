import { CsvError, parse, type Options } from 'csv-parse/sync';
import { COUNTRY_CODES, countryName, isCountryCode } from '../lib/countries.js';
import {
  NAMED_FIELDS,
  namedField,
  parseRecipient,
  salutationField,
  type NamedField,
  type RecipientFormValues,
  type RecipientInput,
} from './recipient-input.js';
import { displayNamesIn } from '../lib/format.js';
import { INTERFACE_LANGUAGES } from '../lib/i18n.js';

/** The columns of a recipients CSV file, in the order the directory exports them. */
export const RECIPIENT_CSV_COLUMNS = [
  'name',
  'title',
  'organisation',
  'country',
  'email',
  'language',
  'salutation',
  'notes',
] as const;

export type RecipientCsvColumn = (typeof RECIPIENT_CSV_COLUMNS)[number];

/** Columns a file must have; the others may be left out. */
export const REQUIRED_RECIPIENT_CSV_COLUMNS: readonly RecipientCsvColumn[] = [
  'name',
  'email',
  'language',
  'salutation',
];

/**
 * Other header names accepted for each column, as spreadsheets and other tools write them, in English,
 * Korean and Ukrainian (a list kept in Korean has Korean headers). Headers are compared trimmed,
 * case-insensitively, with runs of spaces and underscores read as one space ("Job_Title" is "job
 * title"), and the apostrophe's forms as one ("ім'я" is "ім’я").
 */
export const RECIPIENT_CSV_ALIASES: Readonly<Record<RecipientCsvColumn, readonly string[]>> = {
  name: ['full name', 'recipient', 'recipient name', '이름', '성명', '수신인', 'ім’я', 'назва', 'адресат'],
  title: ['position', 'job title', 'role', '직함', '직위', 'посада'],
  organisation: ['organization', 'institution', '기관', '소속', 'організація', 'установа'],
  country: ['country code', '국가', 'країна'],
  email: ['e-mail', 'email address', 'e-mail address', '이메일', '이메일 주소', 'електронна пошта'],
  language: ['lang', 'preferred language', 'language code', '언어', 'мова'],
  salutation: ['greeting', '인사말', '호칭', 'звертання'],
  notes: ['note', 'comments', '메모', '비고', 'примітки'],
};

/**
 * A recipient's name as compared when looking for one already in the directory under another address:
 * letter case, runs of spaces and Unicode's equivalent forms (full-width letters, composed accents) do not
 * make two names different.
 */
export function recipientNameKey(name: string): string {
  return name.normalize('NFKC').toLowerCase().replace(/\s+/gu, ' ').trim();
}

/** One data row of the file: where it starts, its cells as written, and either the input or what is wrong. */
export interface ImportRow {
  line: number;
  values: RecipientFormValues;
  input: RecipientInput | null;
  errors: { field: string; messageKey: string; params?: Record<string, string | number> }[];
}

/**
 * The whole file read: every data row (valid or not), the recognised columns in file order and the header
 * cells that were ignored; or one whole-file error, as an i18n key under `recipients.import.errors`.
 */
export type ImportParse =
  | { ok: true; rows: ImportRow[]; columns: string[]; ignoredColumns: string[] }
  | { ok: false; messageKey: string; params?: Record<string, string | number> };

/** The most recipients one file may hold (the import page says so beside the file field). */
export const MAX_IMPORT_ROWS = 5000;

// NUL and U+FFFD (what a decoder leaves for bytes that are not UTF-8) mean binary data or another encoding,
// such as a spreadsheet's "CSV" saved as Windows-1252 or EUC-KR: refuse rather than import mojibake.
// eslint-disable-next-line no-control-regex -- matching NUL is the point
const NOT_TEXT = /[\u0000\ufffd]/;

const headerKey = (header: string) =>
  header
    .trim()
    .toLowerCase()
    .replace(/[\s_]+/g, ' ')
    .replace(/['ʼ]/g, '’');

const columnByHeader = new Map<string, RecipientCsvColumn>(
  RECIPIENT_CSV_COLUMNS.flatMap((column) => [
    [column, column] as const,
    ...RECIPIENT_CSV_ALIASES[column].map((alias) => [headerKey(alias), column] as const),
  ]),
);

// Names are matched loosely, since lists are typed by hand: accents, curly apostrophes, "&" for "and" and
// full stops ("St. Kitts & Nevis") do not have to match exactly.
const nameKey = (name: string) =>
  name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[\u2018\u2019`]/g, "'")
    .replace(/&/g, ' and ')
    .replace(/[\s.]+/g, ' ')
    .trim();

let countriesByName: Map<string, string> | undefined;

/** English country names, long ("Myanmar (Burma)") and short ("Myanmar"), to codes; built on first use. */
function countryByName(name: string): string | undefined {
  if (!countriesByName) {
    const short = displayNamesIn('en', 'region', 'short');
    countriesByName = new Map();
    for (const code of COUNTRY_CODES) {
      for (const known of [countryName(code, 'en'), short.of(code)]) {
        if (known && !countriesByName.has(nameKey(known))) countriesByName.set(nameKey(known), code);
      }
    }
  }
  return countriesByName.get(nameKey(name));
}

/** 'KR', 'kr' or 'South Korea' → 'KR'; anything else is left for the recipient rules to refuse. */
function normaliseCountry(value: string): string {
  const upper = value.toUpperCase();
  if (isCountryCode(upper)) return upper;
  return countryByName(value) ?? value;
}

// An import normalises thousands of rows against the same list of languages: build its names once per list.
const languageNames = new WeakMap<readonly string[], Map<string, string>>();

/** Each offered language by code, English name and own name ('ko', 'Korean', '한국어' → 'ko'). */
function languagesByName(languages: readonly string[]): Map<string, string> {
  let byName = languageNames.get(languages);
  if (!byName) {
    byName = new Map();
    for (const code of languages) {
      const names = [code];
      try {
        names.push(
          displayNamesIn('en', 'language').of(code) ?? code,
          displayNamesIn(code, 'language').of(code) ?? code,
        );
      } catch {
        // A code Intl does not know as a language tag can still be matched as written.
      }
      for (const name of names) if (!byName.has(nameKey(name))) byName.set(nameKey(name), code);
    }
    languageNames.set(languages, byName);
  }
  return byName;
}

/** 'ko', 'KO', 'Korean' or '한국어' → 'ko' when 'ko' is offered; anything else is left for the recipient rules to refuse. */
function normaliseLanguage(value: string, languages: readonly string[]): string {
  return languagesByName(languages).get(nameKey(value)) ?? value;
}

/** Thrown from inside csv-parse to stop reading a file that is already known to be too long. */
class TooManyRows extends Error {}

interface CsvRecord {
  /** Line where the record starts, counted in the file as an editor shows it. */
  line: number;
  cells: string[];
}

type ReadResult =
  | { ok: true; records: CsvRecord[] }
  | { ok: false; messageKey: string; params?: Record<string, string | number> };

const BASE_OPTIONS: Options = {
  record_delimiter: '\n',
  // Spaces around values are never meaningful here, and trimming lets `a, "b, c"` parse as two values.
  trim: true,
  skip_empty_lines: true,
  // A row with too few or too many values is reported on that row, not as a broken file.
  relax_column_count: true,
  // Far larger than any valid row (about 3,500 characters at most), so only a runaway quote or a file that
  // is not CSV reaches it, and it stops before the whole upload is held as one value.
  max_record_size: 64 * 1024,
};

/** Reads records with csv-parse, keeping each one's start line; stops with a whole-file error on broken CSV. */
function readRecords(text: string, delimiter: string, maxRows: number): ReadResult {
  const records: CsvRecord[] = [];
  // Where the last record ended, so the start of a record that fails to parse can be named.
  let lastEnd = 0;
  let emptyLinesBefore = 0;
  try {
    parse(text, {
      ...BASE_OPTIONS,
      delimiter,
      on_record: (cells, context) => {
        lastEnd = context.lines;
        emptyLinesBefore = context.empty_lines;
        // context.lines is the line where the record ends; its quoted line breaks say how far back it started.
        const breaks = cells.reduce((sum, cell) => sum + (cell.match(/\n/g)?.length ?? 0), 0);
        // Rows of empty cells (";;;;" from a spreadsheet's formatted but unused rows) are blank lines too.
        if (cells.every((cell) => cell === '')) return null;
        // The header is one of the records, so a full file holds maxRows + 1.
        if (records.length > maxRows) throw new TooManyRows();
        records.push({ line: context.lines - breaks, cells });
        return null;
      },
    });
  } catch (error) {
    if (error instanceof TooManyRows) {
      return {
        ok: false,
        messageKey: 'recipients.import.errors.tooManyRows',
        params: { count: maxRows },
      };
    }
    if (!(error instanceof CsvError)) throw error;
    const emptyLines = typeof error.empty_lines === 'number' ? error.empty_lines : emptyLinesBefore;
    const recordStart = String(lastEnd + 1 + (emptyLines - emptyLinesBefore));
    const errorLine = typeof error.lines === 'number' ? String(error.lines) : recordStart;
    switch (error.code) {
      case 'CSV_QUOTE_NOT_CLOSED':
        return {
          ok: false,
          messageKey: 'recipients.import.errors.quoteNotClosed',
          params: { line: recordStart },
        };
      case 'INVALID_OPENING_QUOTE':
      case 'CSV_INVALID_CLOSING_QUOTE':
      case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
        return {
          ok: false,
          messageKey: 'recipients.import.errors.misplacedQuote',
          params: { line: errorLine },
        };
      case 'CSV_MAX_RECORD_SIZE':
        return {
          ok: false,
          messageKey: 'recipients.import.errors.rowTooLarge',
          params: { line: recordStart },
        };
      default:
        return { ok: false, messageKey: 'recipients.import.errors.unreadable', params: { line: errorLine } };
    }
  }
  return { ok: true, records };
}

/** The header's cells split with one delimiter, or null when the header does not parse with it. */
function headerWith(text: string, delimiter: string): string[] | null {
  try {
    const [header] = parse(text, { ...BASE_OPTIONS, delimiter, to: 1 });
    return header ?? null;
  } catch (error) {
    if (error instanceof CsvError) return null;
    throw error;
  }
}

/** Comma or semicolon (Excel's choice where the comma is the decimal separator): whichever names more known columns. */
function detectDelimiter(text: string): string {
  const score = (delimiter: string) => {
    const header = headerWith(text, delimiter);
    if (!header) return [-1, 0];
    return [header.filter((cell) => columnByHeader.has(headerKey(cell))).length, header.length];
  };
  const [commaKnown = -1, commaCells = 0] = score(',');
  const [semicolonKnown = -1, semicolonCells = 0] = score(';');
  if (semicolonKnown !== commaKnown) return semicolonKnown > commaKnown ? ';' : ',';
  return semicolonCells > commaCells ? ';' : ',';
}

type HeaderResult =
  | {
      ok: true;
      indexes: Map<RecipientCsvColumn, number>;
      /** The `salutation_<code>` columns: the salutation in each of those languages, by code. */
      salutations: Map<string, number>;
      /** The `name_<code>`, `title_<code>` and `organisation_<code>` columns, by code and field. */
      names: Map<string, Map<NamedField, number>>;
      columns: string[];
      ignored: string[];
    }
  | { ok: false; messageKey: string; params?: Record<string, string | number> };

/**
 * A column of one field in one language: `salutation_ko` (or "Salutation KO", "greeting_ko") when 'ko'
 * is a language letters are sent in; `name_ko`, `title_uk`, `organisation_en` (or "기관_ko", "Organization
 * KO": any header of the field) when it is an interface language, whose pages name recipients so.
 */
function perLanguageColumn(
  cell: string,
  languages: readonly string[],
): { field: 'salutation' | NamedField; language: string } | undefined {
  const match = /^(.+) ([a-z]{2,3})$/.exec(headerKey(cell));
  if (!match) return undefined;
  const field = columnByHeader.get(match[1]!);
  const language = match[2]!;
  if (field === 'salutation') return languages.includes(language) ? { field, language } : undefined;
  const named = NAMED_FIELDS.find((f) => f === field);
  return named && (INTERFACE_LANGUAGES as readonly string[]).includes(language)
    ? { field: named, language }
    : undefined;
}

function readHeader(cells: string[], languages: readonly string[]): HeaderResult {
  const indexes = new Map<RecipientCsvColumn, number>();
  const salutations = new Map<string, number>();
  const names = new Map<string, Map<NamedField, number>>();
  const columns: string[] = [];
  const ignored: string[] = [];
  const duplicate = (cell: string): HeaderResult => ({
    ok: false,
    messageKey: 'recipients.import.errors.duplicateColumn',
    params: { column: cell.trim() },
  });
  for (const [index, cell] of cells.entries()) {
    const column = columnByHeader.get(headerKey(cell));
    const perLanguage = column ? undefined : perLanguageColumn(cell, languages);
    if (perLanguage?.field === 'salutation') {
      if (salutations.has(perLanguage.language)) return duplicate(cell);
      salutations.set(perLanguage.language, index);
      columns.push(salutationField(perLanguage.language));
      continue;
    }
    if (perLanguage) {
      const fields = names.get(perLanguage.language) ?? new Map<NamedField, number>();
      if (fields.has(perLanguage.field)) return duplicate(cell);
      names.set(perLanguage.language, fields.set(perLanguage.field, index));
      columns.push(namedField(perLanguage.field, perLanguage.language));
      continue;
    }
    // An unknown `salutation_xx` (a language letters are not sent in) is ignored like any unknown column.
    if (!column) {
      if (cell.trim() !== '') ignored.push(cell.trim());
      continue;
    }
    // Two columns for one field would leave it unclear which value is meant.
    if (indexes.has(column)) return duplicate(cell);
    indexes.set(column, index);
    columns.push(column);
  }
  // The per-language columns can give each row's salutation in its own language instead of `salutation`.
  const missing = REQUIRED_RECIPIENT_CSV_COLUMNS.filter(
    (column) => !indexes.has(column) && !(column === 'salutation' && salutations.size > 0),
  );
  if (missing.length > 0) {
    // Unknown headers are only worth mentioning when they are probably the missing columns, misspelt.
    return ignored.length > 0
      ? {
          ok: false,
          messageKey: 'recipients.import.errors.missingColumnsWithUnknown',
          params: { columns: missing.join(', '), unknown: ignored.join(', ') },
        }
      : {
          ok: false,
          messageKey: 'recipients.import.errors.missingColumns',
          params: { columns: missing.join(', ') },
        };
  }
  return { ok: true, indexes, salutations, names, columns, ignored };
}

function readRow(
  record: CsvRecord,
  header: {
    indexes: Map<RecipientCsvColumn, number>;
    salutations: Map<string, number>;
    names: Map<string, Map<NamedField, number>>;
    size: number;
  },
  languages: readonly string[],
): ImportRow {
  const values = {
    ...(Object.fromEntries(
      RECIPIENT_CSV_COLUMNS.map((column) => {
        const index = header.indexes.get(column);
        return [column, index === undefined ? '' : (record.cells[index] ?? '')];
      }),
    ) as Record<RecipientCsvColumn, string>),
    salutations: Object.fromEntries(
      [...header.salutations].map(([language, index]) => [language, record.cells[index] ?? '']),
    ),
    names: Object.fromEntries(
      [...header.names].map(([language, fields]) => [
        language,
        Object.fromEntries(
          NAMED_FIELDS.map((f) => [f, fields.has(f) ? (record.cells[fields.get(f)!] ?? '') : '']),
        ) as Record<NamedField, string>,
      ]),
    ),
  } satisfies RecipientFormValues;
  if (record.cells.length !== header.size) {
    // The values cannot be matched to their columns, so checking them would only add misleading errors.
    return {
      line: record.line,
      values,
      input: null,
      errors: [
        {
          field: 'row',
          messageKey: 'recipients.import.errors.fieldCount',
          params: { expected: String(header.size), count: record.cells.length },
        },
      ],
    };
  }
  const normalised = {
    ...values,
    country: normaliseCountry(values.country.trim()),
    language: normaliseLanguage(values.language.trim(), languages),
  };
  const result = parseRecipient(normalised, languages);
  if (result.ok) return { line: record.line, values, input: result.input, errors: [] };
  const errors: ImportRow['errors'] = [];
  // In column order, each language's salutation right after `salutation`, then the names in other
  // languages, before the notes.
  const named = [...header.names].flatMap(([language, fields]) =>
    NAMED_FIELDS.filter((f) => fields.has(f)).map((f) => namedField(f, language)),
  );
  const fields = RECIPIENT_CSV_COLUMNS.flatMap((column) =>
    column === 'salutation'
      ? [column, ...[...header.salutations.keys()].map(salutationField), ...named]
      : [column],
  );
  for (const column of fields) {
    const messageKey = result.errors[column];
    if (!messageKey) continue;
    // In a file the cause is less obvious than in a form's select box: name the value and what is accepted.
    if (messageKey === 'recipients.errors.country.unknown') {
      errors.push({
        field: column,
        messageKey: 'recipients.import.errors.country',
        params: { value: values.country },
      });
    } else if (messageKey === 'recipients.errors.language.unsupported') {
      errors.push({
        field: column,
        messageKey: 'recipients.import.errors.language',
        params: { value: values.language, languages: languages.join(', ') },
      });
    } else {
      errors.push({ field: column, messageKey });
    }
  }
  return { line: record.line, values, input: null, errors };
}

/**
 * Reads a recipients CSV file (UTF-8, optional BOM, comma or semicolon, header row first) into rows to
 * preview and import. Never throws on bad input: a file that cannot be read as a whole is one error; a bad
 * row is reported on that row, by the line it starts on, and the other rows are kept. Country may be a code
 * or an English name, language a code or its English or own name; cells are otherwise taken as text
 * (a cell starting with "=" is not a formula here; exports must neutralise it).
 */
export function parseRecipientCsv(
  text: string,
  languages: readonly string[],
  limits: { maxRows?: number } = {},
): ImportParse {
  const maxRows = limits.maxRows ?? MAX_IMPORT_ROWS;
  if (NOT_TEXT.test(text)) return { ok: false, messageKey: 'recipients.import.errors.notText' };
  // csv-parse counts CR and LF inside quoted values as two lines; one kind of line break keeps line numbers
  // as an editor shows them (CR alone is old Mac Excel's line break).
  const normalised = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  if (normalised.trim() === '') return { ok: false, messageKey: 'recipients.import.errors.empty' };

  const read = readRecords(normalised, detectDelimiter(normalised), maxRows);
  if (!read.ok) return read;
  const [headerRecord, ...dataRecords] = read.records;
  if (!headerRecord) return { ok: false, messageKey: 'recipients.import.errors.empty' };
  const header = readHeader(headerRecord.cells, languages);
  if (!header.ok) return header;
  if (dataRecords.length === 0) return { ok: false, messageKey: 'recipients.import.errors.noRows' };

  const rows = dataRecords.map((record) =>
    readRow(
      record,
      {
        indexes: header.indexes,
        salutations: header.salutations,
        names: header.names,
        size: headerRecord.cells.length,
      },
      languages,
    ),
  );
  // The same address twice would create one recipient and silently drop the other row's details.
  const firstLineByEmail = new Map<string, number>();
  for (const row of rows) {
    if (row.errors.some((error) => error.field === 'row' || error.field === 'email')) continue;
    const email = row.values.email.trim().toLowerCase();
    const first = firstLineByEmail.get(email);
    if (first === undefined) {
      firstLineByEmail.set(email, row.line);
    } else {
      row.input = null;
      row.errors.push({
        field: 'email',
        messageKey: 'recipients.import.errors.duplicateEmail',
        params: { line: String(first) },
      });
    }
  }
  return { ok: true, rows, columns: header.columns, ignoredColumns: header.ignored };
}
