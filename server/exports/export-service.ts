import { setImmediate as nextTurn } from 'node:timers/promises';
import { stringify } from 'csv-stringify/sync';
import type { User } from '../accounts/account.js';
import type { AuditRepository } from '../audit/audit-repository.js';
import type { Db } from '../db/database.js';
import { annexOf, countriesOf } from '../deliveries/delivery.js';
import type { ExportAnnexEntry, LetterCompiler } from '../deliveries/letter-compiler.js';
import type { PdfRenderer } from '../deliveries/pdf-renderer.js';
import { textIn } from '../letters/letter.js';
import type { LetterAccess, NamedLetter } from '../letters/letter-access.js';
import type { LetterRepository } from '../letters/letter-repository.js';
import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import { authorize } from '../policy/policy.js';
import {
  countedCountry,
  publicName,
  SIGNATURE_STATUSES,
  statedStatus,
  statedStatusesOf,
  type StatedStatus,
} from '../signatures/signature.js';
import { SignatureRepository, type ExportRow } from '../signatures/signature-repository.js';
import {
  describeFilters,
  neutraliseCell,
  ORGANIZER_COLUMNS,
  ORGANIZER_FORMATS,
  PDF_EXPORT_LIMIT,
  type ExportColumn,
  type ExportRequest,
} from './export.js';

/** Where an export is written: an HTTP response, or standard output. `write` waits when the reader is slow. */
export interface ExportSink {
  write(chunk: string | Buffer): Promise<void>;
}

export interface ExportServiceDeps {
  /** A connection of its own, so a long export never holds up the platform's other queries. */
  openReader: () => { db: Db; close: () => Promise<void> };
  letters: LetterRepository;
  /** Finds the letter of a supporters page, as the policy allows, and names it. */
  access: LetterAccess;
  audit: AuditRepository;
  compiler: LetterCompiler;
  pdf: PdfRenderer;
  clock: Clock;
}

/**
 * The operator at the server's shell (`npm run export`). Whoever can run that command can read the
 * database file itself, so no account is checked; the export is still in the audit log, as done by the
 * platform from the command line. Never used for a request.
 */
export const OPERATOR = 'operator' as const;

/** Who asks for an export: an account (an admin, checked by the policy), or the operator at the shell. */
export type ExportActor = User | typeof OPERATOR;

/** Asserts that the actor may export signatures; the operator at the shell may. */
function authorizeExport(actor: ExportActor): void {
  if (actor !== OPERATOR) authorize(actor, 'signature.export');
}

/** Whether an export hands over every address (an admin's) or only those of supporters who agreed to updates. */
const onlyConsented = (request: ExportRequest) => request.addresses === 'consented';

/**
 * Whether this export gives this row's e-mail address. One for organizers gives it only where the
 * supporter agreed to updates and confirmed the address is theirs: a pending signature's address may
 * belong to someone else, typed by whoever signed.
 */
const givesAddress = (row: ExportRow, request: ExportRequest) =>
  !onlyConsented(request) || (row.consentUpdates && row.status === 'confirmed');

/** Every cell quoted, empty ones too (`""`), as the README says: a spreadsheet never splits one. */
const CSV_OPTIONS = { quoted: true, quoted_empty: true } as const;

/** Rows written together: one write and one turn of the event loop per chunk. */
const EXPORT_CHUNK_ROWS = 500;

const CONTENT_TYPES = {
  csv: 'text/csv; charset=utf-8',
  jsonl: 'application/x-ndjson; charset=utf-8',
  pdf: 'application/pdf',
} as const;

/** The refusal of a PDF on a server without Chromium. */
const pdfOff = () => new AppError(422, 'pdf_off', 'exports.errors.pdfOff');

/**
 * The columns that say who signed. A supporter who withdraws is told their name leaves the letter and
 * every list: an export keeps a withdrawn signature's row (its status, country and dates: the history
 * of the count) but none of these.
 */
const WHO_SIGNED: ReadonlySet<ExportColumn> = new Set<ExportColumn>([
  'name',
  'public_name',
  'email',
  'city',
  'organisation',
  'title',
]);

/**
 * The columns that would point at a supporter who chose to appear by initials or not at all: shown as
 * the letter page shows them (organisation and title beside a full name only, no country for one
 * counted without a name, city never) unless the row already names them (namesTheSupporter).
 */
const POINTS_AT: ReadonlySet<ExportColumn> = new Set<ExportColumn>([
  'country',
  'city',
  'organisation',
  'title',
]);

/**
 * Whether this row of this export already says who signed: the real name, or the e-mail address. Then
 * the rest adds nothing the reader does not know, and an admin looking someone up sees all of it. A
 * list without them (the default export, meant to be handed over) shows each supporter as they chose:
 * "K. J.-H." beside "Ministry of Unification, deputy director" would undo the choice of initials.
 */
function namesTheSupporter(row: ExportRow, request: ExportRequest): boolean {
  // A withdrawn signature names nobody: its name and address are left out (WHO_SIGNED).
  if (row.status === 'withdrawn') return false;
  if (request.columns.includes('name')) return true;
  // An organizer's read gives an address to write to, not the rest of someone who chose initials or to
  // be counted only: their organisation, title and country stay as the letter page shows them.
  if (onlyConsented(request)) return false;
  return request.columns.includes('email') && givesAddress(row, request);
}

/**
 * Whether a row belongs in an export narrowed to one country: only where the export shows the country
 * it matched. Listing a hidden supporter's row under "country: KP" without its country would place them
 * all the same, and an organizer could try every country in turn.
 */
function listedUnderCountry(row: ExportRow, request: ExportRequest, named: boolean): boolean {
  return request.filters.country === undefined || named || countedCountry(row) !== undefined;
}

/** A column that points at the supporter, as the letter page shows it (POINTS_AT). */
function asChosen(row: ExportRow, column: ExportColumn): string {
  switch (column) {
    case 'country':
      return countedCountry(row) ?? '';
    case 'organisation':
      return row.display === 'full' ? row.organisation : '';
    case 'title':
      return row.display === 'full' ? row.jobTitle : '';
    default:
      return '';
  }
}

/** The value of one column for one signature. */
function cell(
  row: ExportRow,
  column: ExportColumn,
  request: ExportRequest,
): string | number | boolean | null {
  if (row.status === 'withdrawn' && WHO_SIGNED.has(column)) return column === 'email' ? null : '';
  if (POINTS_AT.has(column) && !namesTheSupporter(row, request)) return asChosen(row, column);
  switch (column) {
    case 'letter':
      return row.letter;
    case 'status':
      return statedStatus(row);
    case 'name':
      return row.fullName;
    case 'public_name':
      return publicName(row) ?? '';
    case 'display':
      return row.display;
    case 'email':
      return givesAddress(row, request) ? row.email : null;
    case 'country':
      return row.country;
    case 'city':
      return row.city;
    case 'organisation':
      return row.organisation;
    case 'title':
      return row.jobTitle;
    case 'language':
      return row.language;
    case 'consent_updates':
      return row.consentUpdates;
    case 'letter_version':
      return row.letterVersion;
    case 'signed_at':
      return row.signedAt;
    case 'confirmed_at':
      return row.confirmedAt;
    case 'withdrawn_at':
      return row.withdrawnAt;
    case 'invalidated_at':
      return row.invalidatedAt;
  }
}

/**
 * Signature exports: CSV (UTF-8 with a byte-order mark, so spreadsheets read Korean and Ukrainian, and
 * formula-like cells neutralised), JSON Lines, or the PDF annex of one letter. CSV and JSON Lines stream
 * row by row with constant memory. Every export is recorded in the audit log, finished or not.
 */
export class ExportService {
  constructor(private readonly deps: ExportServiceDeps) {}

  contentType(request: ExportRequest): string {
    return CONTENT_TYPES[request.format];
  }

  fileName(request: ExportRequest): string {
    const stamp = this.deps.clock.now().toISOString().slice(0, 10);
    return `signatures-${request.filters.letter ?? 'all-letters'}-${stamp}.${request.format}`;
  }

  /**
   * The letter whose supporters an organizer may download (their own, one shared with them, any for an
   * admin), named for its supporters page: 404 when it does not exist, 403 when it is someone else's.
   */
  async letterForSupporters(user: User, letterId: number, language: string): Promise<NamedLetter> {
    const { letter } = await this.deps.access.forAction(user, letterId, 'signature.export-letter');
    return this.deps.access.named(letter, language);
  }

  /** Checks that the export can run (the letter exists) before any byte is written; a 400 that says so otherwise. */
  async check(actor: ExportActor, request: ExportRequest): Promise<void> {
    // An organizer reads one letter they may work on, with consenting supporters' addresses only.
    if (onlyConsented(request) && request.filters.letter && actor !== OPERATOR) {
      await this.deps.access.forActionBySlug(actor, request.filters.letter, 'signature.export-letter');
      // The 'consented' rule covers addresses only: a column such as the name as typed would hand over
      // what a supporter chose to hide, whoever built the request.
      if (!request.columns.every((column) => ORGANIZER_COLUMNS.includes(column)))
        throw new AppError(400, 'columns_not_for_organizers', 'exports.errors.organizerColumns');
      if (!ORGANIZER_FORMATS.includes(request.format))
        throw new AppError(400, 'format_not_for_organizers', 'exports.errors.organizerFormat');
      return;
    }
    authorizeExport(actor);
    if (request.filters.letter && !(await this.deps.letters.findBySlug(request.filters.letter))) {
      throw new AppError(400, 'letter_not_found', 'exports.errors.unknownLetter', {
        letter: request.filters.letter,
      });
    }
    // Refused before it starts, so no unfinished export is recorded for a file this server cannot make.
    if (request.format === 'pdf' && !this.deps.pdf.available) throw pdfOff();
  }

  /** Writes the export to `sink`; returns the number of signatures written. */
  async run(
    request: ExportRequest,
    actor: ExportActor,
    sink: ExportSink,
    context: Record<string, unknown> = {},
  ): Promise<number> {
    // Before anything is read or recorded: a refused actor leaves no trace of an export.
    await this.check(actor, request);
    let rows = 0;
    let completed = false;
    const reader = this.deps.openReader();
    try {
      const signatures = new SignatureRepository(reader.db);
      if (request.format === 'pdf') {
        rows = await this.writePdf(request, signatures, sink);
      } else {
        // Every cell quoted, so a spreadsheet that honours quotes never splits one; neutralised as well,
        // for one told to split on a separator anyway. JSON Lines is for programs and stays as stored.
        if (request.format === 'csv') await sink.write(`\ufeff${stringify([request.columns], CSV_OPTIONS)}`);
        let batch: ReturnType<typeof cell>[][] = [];
        const flush = async () => {
          if (batch.length === 0) return;
          const chunk =
            request.format === 'csv'
              ? stringify(
                  batch.map((values) => values.map((v) => neutraliseCell(v === null ? '' : String(v)))),
                  CSV_OPTIONS,
                )
              : batch
                  .map(
                    (values) =>
                      `${JSON.stringify(Object.fromEntries(request.columns.map((c, i) => [c, values[i]])))}\n`,
                  )
                  .join('');
          const written = batch.length;
          batch = [];
          await sink.write(chunk);
          rows += written;
          // Reading rows and writing to a fast socket never waits on the event loop by itself: without
          // a turn between chunks, other requests would wait for the whole export, and written chunks
          // would pile up in memory until their write callbacks ran.
          await nextTurn();
        };
        for await (const row of signatures.streamForExport(request.filters)) {
          if (!listedUnderCountry(row, request, namesTheSupporter(row, request))) continue;
          batch.push(request.columns.map((c) => cell(row, c, request)));
          if (batch.length >= EXPORT_CHUNK_ROWS) await flush();
        }
        await flush();
      }
      completed = true;
      return rows;
    } finally {
      await reader.close();
      await this.deps.audit.record(
        {
          actor: actor === OPERATOR ? 'platform' : { id: actor.id, email: actor.email },
          action: 'export',
          targetType: 'letter',
          targetId: request.filters.letter ?? 'all',
          details: {
            ...describeFilters(request),
            rows,
            completed,
            ...(onlyConsented(request) ? { addresses: 'consented' } : {}),
            ...context,
          },
        },
        this.deps.clock.now(),
      );
    }
  }

  private async writePdf(
    request: ExportRequest,
    signatures: SignatureRepository,
    sink: ExportSink,
  ): Promise<number> {
    if (!this.deps.pdf.available) throw pdfOff();
    const letter = (await this.deps.letters.findBySlug(request.filters.letter!))!;
    const rows: ExportRow[] = [];
    for await (const row of signatures.streamForExport(request.filters)) {
      // The annex names supporters as the letter page does: never by more than their choice.
      if (!listedUnderCountry(row, request, false)) continue;
      rows.push(row);
      if (rows.length > PDF_EXPORT_LIMIT)
        throw new AppError(413, 'pdf_too_large', 'exports.errors.pdfTooLarge', { count: PDF_EXPORT_LIMIT });
    }
    const texts = await this.deps.letters.textsOfVersion(letter.currentVersionId);
    const text = textIn(texts, request.language ?? letter.primaryLanguage, letter.primaryLanguage);
    const language = text?.language ?? letter.primaryLanguage;
    // Grouped by status, so the document can say how many of each it holds and mark each name.
    const { filters } = request;
    const statuses = SIGNATURE_STATUSES.filter((status) => filters.statuses.includes(status));
    const counts: Partial<Record<StatedStatus, number>> = {};
    const entries: ExportAnnexEntry[] = [];
    let unnamed = 0;
    for (const status of statedStatusesOf(statuses)) {
      const ofStatus = rows.filter((r) => statedStatus(r) === status);
      counts[status] = ofStatus.length;
      // Counted, never named (WHO_SIGNED): nor among those who chose to be counted only.
      if (status === 'withdrawn') continue;
      const annex = annexOf(ofStatus.map((r) => ({ ...r, name: publicName(r) })));
      entries.push(...annex.entries.map((entry) => ({ ...entry, status })));
      unnamed += annex.unnamed;
    }
    const described = describeFilters(request);
    const html = this.deps.compiler.annexDocument({
      language,
      letterTitle: text?.title ?? letter.slug,
      signatureCount: rows.length,
      countries: countriesOf(rows),
      annex: { entries, unnamed },
      organisations: letter.organisations,
      contents: {
        statuses,
        counts,
        country: filters.country,
        from: (described.from as string | null) ?? undefined,
        to: (described.to as string | null) ?? undefined,
        consent: filters.consent,
        at: this.deps.clock.now(),
      },
    });
    await sink.write(await this.deps.pdf.render(html));
    return rows.length;
  }
}
