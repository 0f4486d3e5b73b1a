import type { User } from '../accounts/account.js';
import type { Db } from '../db/database.js';
import { isLetterLanguage, LETTER_LANGUAGES } from '../letters/letter.js';
import type { Clock } from '../lib/clock.js';
import { AppError, notFound } from '../lib/errors.js';
import { randomRef } from '../lib/ids.js';
import type { Recipient } from './recipient.js';
import { parseRecipientCsv, type ImportRow } from './recipient-import.js';
import type { RecipientImportRepository } from './recipient-import-repository.js';
import { parseRecipient, type RecipientFormValues } from './recipient-input.js';
import type { RecipientRepository } from './recipient-repository.js';

export interface RecipientServiceDeps {
  db: Db;
  recipients: RecipientRepository;
  imports: RecipientImportRepository;
  clock: Clock;
}

export type RecipientSaveOutcome =
  | { kind: 'saved'; id: number }
  | { kind: 'invalid'; errors: Partial<Record<keyof RecipientFormValues, string>> };

/** A row of an import preview, with what confirming would do to it. */
export interface ImportPreviewRow extends ImportRow {
  action: 'create' | 'update' | 'skip';
}

export interface ImportPreview {
  id: string;
  fileName: string;
  rows: ImportPreviewRow[];
  /** The recipient columns the file has; the others are left as they are on recipients it updates. */
  columns: string[];
  ignoredColumns: string[];
  counts: { create: number; update: number; skip: number };
}

export type StageOutcome =
  { kind: 'staged'; id: string } | { kind: 'refused'; messageKey: string; params?: Record<string, string> };

/** The largest CSV file accepted, in bytes. */
export const MAX_IMPORT_BYTES = 2 * 1024 * 1024;

/** The shared recipients directory: adding, editing and importing people and institutions. */
export class RecipientService {
  constructor(private readonly deps: RecipientServiceDeps) {}

  /** The directory with how many letters address each recipient, filtered by a search text. */
  async list(query: string): Promise<(Recipient & { letters: number })[]> {
    const [all, counts] = await Promise.all([
      this.deps.recipients.listAll(),
      this.deps.recipients.letterCounts(),
    ]);
    const needle = query.trim().toLocaleLowerCase();
    return all
      .filter(
        (r) =>
          !needle ||
          [r.name, r.organisation, r.title, r.email, r.country ?? ''].some((v) =>
            v.toLocaleLowerCase().includes(needle),
          ),
      )
      .map((r) => ({ ...r, letters: counts.get(r.id) ?? 0 }));
  }

  async find(id: number): Promise<Recipient> {
    const recipient = await this.deps.recipients.findById(id);
    if (!recipient) throw notFound('recipient_not_found', 'recipients.notFound');
    return recipient;
  }

  /** Adds a recipient; the address must not be in the directory yet. */
  async create(values: RecipientFormValues): Promise<RecipientSaveOutcome> {
    const parsed = parseRecipient(values, LETTER_LANGUAGES);
    if (!parsed.ok) return { kind: 'invalid', errors: parsed.errors };
    return this.deps.db.transaction().execute(async (tx) => {
      const recipients = this.deps.recipients.with(tx);
      if (await recipients.findByEmail(parsed.input.email))
        return { kind: 'invalid', errors: { email: 'recipients.errors.email.taken' } };
      return { kind: 'saved', id: await recipients.create(parsed.input, this.deps.clock.now()) };
    });
  }

  async update(id: number, values: RecipientFormValues): Promise<RecipientSaveOutcome> {
    await this.find(id);
    const parsed = parseRecipient(values, LETTER_LANGUAGES);
    if (!parsed.ok) return { kind: 'invalid', errors: parsed.errors };
    return this.deps.db.transaction().execute(async (tx) => {
      const recipients = this.deps.recipients.with(tx);
      const other = await recipients.findByEmail(parsed.input.email);
      if (other && other.id !== id)
        return { kind: 'invalid', errors: { email: 'recipients.errors.email.taken' } };
      await recipients.update(id, parsed.input);
      return { kind: 'saved', id };
    });
  }

  /** Deletes a recipient no letter addresses; one on a letter is refused with a reason. */
  async delete(id: number): Promise<void> {
    await this.find(id);
    if (!(await this.deps.recipients.deleteUnused(id)))
      throw new AppError(409, 'recipient_in_use', 'recipients.inUse');
  }

  /**
   * Keeps an uploaded file for its preview. A file that cannot be read at all is refused at once;
   * row errors are shown in the preview. Nothing touches the directory until the import is confirmed.
   */
  async stage(user: User, fileName: string, source: string): Promise<StageOutcome> {
    // The upload's own limit does not apply to text posted as an ordinary form field.
    if (Buffer.byteLength(source, 'utf8') > MAX_IMPORT_BYTES)
      throw new AppError(413, 'body_too_large', 'recipients.import.tooLarge');
    const parsed = parseRecipientCsv(source, LETTER_LANGUAGES);
    if (!parsed.ok)
      return {
        kind: 'refused',
        messageKey: parsed.messageKey,
        ...(parsed.params ? { params: parsed.params } : {}),
      };
    const id = randomRef();
    await this.deps.imports.stage({
      id,
      userId: user.id,
      fileName: fileName.slice(0, 200) || 'recipients.csv',
      source,
      createdAt: this.deps.clock.now(),
    });
    return { kind: 'staged', id };
  }

  /** What confirming a staged import would do, row by row. */
  async preview(user: User, id: string): Promise<ImportPreview> {
    const staged = await this.staged(user, id);
    const parsed = parseRecipientCsv(staged.source, LETTER_LANGUAGES);
    if (!parsed.ok) throw new AppError(422, 'import_unreadable', parsed.messageKey, parsed.params ?? {});
    const existing = await this.deps.recipients.findByEmails(
      parsed.rows.flatMap((r) => (r.input ? [r.input.email] : [])),
    );
    const rows = parsed.rows.map((row) => ({
      ...row,
      action: !row.input
        ? ('skip' as const)
        : existing.has(row.input.email)
          ? ('update' as const)
          : ('create' as const),
    }));
    const counts = { create: 0, update: 0, skip: 0 };
    for (const row of rows) counts[row.action] += 1;
    return {
      id,
      fileName: staged.fileName,
      rows,
      columns: parsed.columns,
      ignoredColumns: parsed.ignoredColumns,
      counts,
    };
  }

  /** Imports the valid rows of a staged file in one transaction: new addresses are added, known ones updated. */
  async confirm(user: User, id: string): Promise<{ created: number; updated: number; skipped: number }> {
    const preview = await this.preview(user, id);
    const now = this.deps.clock.now();
    return this.deps.db.transaction().execute(async (tx) => {
      // Removing the staged file first makes a second click (or a second tab) import nothing.
      if (!(await this.deps.imports.with(tx).remove(id)))
        throw notFound('import_not_found', 'recipients.import.gone');
      const recipients = this.deps.recipients.with(tx);
      const result = { created: 0, updated: 0, skipped: preview.counts.skip };
      for (const row of preview.rows) {
        if (!row.input) continue;
        const known = await recipients.findByEmail(row.input.email);
        if (known) {
          // A file without a column (say, no notes) must not erase what the directory knows there.
          const input = { ...row.input };
          if (!preview.columns.includes('title')) input.title = known.title;
          if (!preview.columns.includes('organisation')) input.organisation = known.organisation;
          if (!preview.columns.includes('country')) input.country = known.country;
          if (!preview.columns.includes('notes')) input.notes = known.notes;
          await recipients.update(known.id, input);
          result.updated += 1;
        } else {
          await recipients.create(row.input, now);
          result.created += 1;
        }
      }
      return result;
    });
  }

  async cancel(user: User, id: string): Promise<void> {
    await this.staged(user, id);
    await this.deps.imports.remove(id);
  }

  /** Forgets previews nobody confirmed within a day. */
  async pruneStaged(): Promise<number> {
    return this.deps.imports.pruneOlderThan(new Date(this.deps.clock.now().getTime() - 86_400_000));
  }

  private async staged(user: User, id: string) {
    const staged = /^[A-Za-z0-9_-]{10,40}$/.test(id) ? await this.deps.imports.find(id) : undefined;
    // Another person's upload is as invisible as one that does not exist.
    if (!staged || staged.userId !== user.id) throw notFound('import_not_found', 'recipients.import.gone');
    return staged;
  }

  /** The languages a recipient can prefer, for the form. */
  languages(): readonly string[] {
    return LETTER_LANGUAGES;
  }

  isLanguage(code: string): boolean {
    return isLetterLanguage(code);
  }
}
