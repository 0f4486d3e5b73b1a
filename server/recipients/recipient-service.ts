import type { User } from '../accounts/account.js';
import type { AuditRepository } from '../audit/audit-repository.js';
import type { Db } from '../db/database.js';
import type { Clock } from '../lib/clock.js';
import { AppError, notFound } from '../lib/errors.js';
import { randomRef } from '../lib/ids.js';
import { authorize, can, type RecipientResource } from '../policy/policy.js';
import { INTERFACE_LANGUAGES } from '../lib/i18n.js';
import { isLetterLanguage, LETTER_LANGUAGES } from '../lib/languages.js';
import type { SettingsRepository } from '../settings/settings-repository.js';
import { changesWaitForReview } from '../settings/settings.js';
import type { Recipient } from './recipient.js';
import {
  parseRecipientCsv,
  RECIPIENT_CSV_COLUMNS,
  recipientNameKey,
  type ImportRow,
} from './recipient-import.js';
import type { RecipientImportRepository } from './recipient-import-repository.js';
import {
  parseRecipient,
  NAMED_FIELDS,
  namedField,
  salutationField,
  type ImportChoice,
  type RecipientFormValues,
  type RecipientInput,
} from './recipient-input.js';
import type { RecipientRepository } from './recipient-repository.js';
import type { RecipientName, RecipientNames } from './recipient-names.js';

export interface RecipientServiceDeps {
  db: Db;
  recipients: RecipientRepository;
  imports: RecipientImportRepository;
  audit: AuditRepository;
  settings: SettingsRepository;
  clock: Clock;
}

/**
 * The fields of a recipient an edit may change, in the order the audit log names them: the directory's
 * CSV columns, which are exactly those fields (a column that was not one would not typecheck).
 */
const RECIPIENT_FIELDS: readonly (keyof RecipientInput)[] = RECIPIENT_CSV_COLUMNS;

/**
 * What an edit changes, for the audit log: the names of the changed fields, and the old and new
 * address when the address changes (recipients are officials and institutions, not supporters; the
 * address decides where letters go, which is what an admin looking into a redirect needs to see).
 */
function recipientChanges(before: Recipient, after: RecipientInput): Record<string, unknown> | undefined {
  // Salutations are named by language (`salutation_ko`), in the order of the languages letters are sent in.
  const salutations = LETTER_LANGUAGES.filter(
    (code) => (before.salutations[code] ?? '') !== (after.salutations[code] ?? ''),
  ).map(salutationField);
  // Names in other languages likewise (`name_ko`, `organisation_uk`), after the salutations.
  const names = INTERFACE_LANGUAGES.flatMap((code) =>
    NAMED_FIELDS.filter((f) => (before.names[code]?.[f] ?? '') !== (after.names[code]?.[f] ?? '')).map((f) =>
      namedField(f, code),
    ),
  );
  const fields = RECIPIENT_FIELDS.flatMap((field) => {
    if (field === 'salutation') return [...salutations, ...names];
    return (before[field] ?? '') !== (after[field] ?? '') ? [field] : [];
  });
  if (fields.length === 0) return undefined;
  return {
    name: after.name,
    fields,
    ...(fields.includes('email') ? { emailFrom: before.email, emailTo: after.email } : {}),
  };
}

/**
 * The salutations a recipient keeps when an import row updates it: the file's replace those in the
 * languages it has a column for (`salutation` for the row's own language, `salutation_<code>` for the
 * others; an empty cell removes one), and the recipient keeps the others.
 */
function keptSalutations(known: Recipient, row: RecipientInput, columns: readonly string[]) {
  const covered = (code: string) =>
    columns.includes(salutationField(code)) || (code === row.language && columns.includes('salutation'));
  return {
    ...Object.fromEntries(Object.entries(known.salutations).filter(([code]) => !covered(code))),
    ...row.salutations,
  };
}

/**
 * The names in other languages a recipient keeps when an import row updates it: field by field, the
 * file's where it has a column (`name_ko`, `title_ko`, `organisation_ko`; an empty cell removes one),
 * the recipient's own otherwise (most files have none of these columns: names typed on the page stay).
 */
function keptNames(known: Recipient, row: RecipientInput, columns: readonly string[]): RecipientNames {
  const names: Record<string, RecipientName> = {};
  for (const code of INTERFACE_LANGUAGES) {
    const [name, title, organisation] = NAMED_FIELDS.map((f) =>
      columns.includes(namedField(f, code)) ? (row.names[code]?.[f] ?? '') : (known.names[code]?.[f] ?? ''),
    ) as [string, string, string];
    if (name !== '' || title !== '' || organisation !== '') names[code] = { name, title, organisation };
  }
  return names;
}

/**
 * What an import row makes of a recipient it updates: the file's values, and the recipient's own for
 * the columns the file does not have (a file without notes must not erase what the directory knows).
 */
function updatedFromRow(known: Recipient, row: RecipientInput, columns: readonly string[]): RecipientInput {
  const input = { ...row };
  if (!columns.includes('title')) input.title = known.title;
  if (!columns.includes('organisation')) input.organisation = known.organisation;
  if (!columns.includes('country')) input.country = known.country;
  if (!columns.includes('notes')) input.notes = known.notes;
  input.salutations = keptSalutations(known, row, columns);
  input.names = keptNames(known, row, columns);
  return input;
}

/** The value of a field as recipientChanges names it (`title`, `salutation_ko`, `name_uk`), '' for none. */
function fieldValue(recipient: RecipientInput, field: string): string {
  const salutation = /^salutation_(\w+)$/.exec(field);
  if (salutation) return recipient.salutations[salutation[1]!] ?? '';
  const named = /^(name|title|organisation)_(\w+)$/.exec(field);
  if (named) return recipient.names[named[2]!]?.[named[1] as (typeof NAMED_FIELDS)[number]] ?? '';
  return String(recipient[field as keyof RecipientInput] ?? '');
}

/**
 * What an import row would change on a recipient it updates, field by field, each marked when the
 * file empties it: the preview says so before anything is saved (an empty `name_ko` cell removes the
 * Korean name, which the row's own values do not show).
 */
function importChanges(known: Recipient, updated: RecipientInput): ImportChange[] {
  const fields = (recipientChanges(known, updated)?.fields as string[] | undefined) ?? [];
  return fields.map((field) => ({
    field,
    removed: fieldValue(updated, field) === '' && fieldValue(known, field) !== '',
  }));
}

/** An entry of the directory with whether this account may change it. */
export interface EditableRecipient {
  recipient: Recipient;
  /** False when another organizer's letter addresses it: only an admin may change it then. */
  mayChange: boolean;
  /** The letters that address it: while there are any, it cannot be deleted. */
  letterIds: number[];
}

export type RecipientSaveOutcome =
  | { kind: 'saved'; id: number }
  | { kind: 'invalid'; errors: Partial<Record<keyof RecipientFormValues, string>> };

/** A recipient already in the directory under the name a new row has, with whether this account may update it. */
export interface PossibleDuplicate {
  id: number;
  name: string;
  email: string;
  organisation: string;
  mayUpdate: boolean;
}

/** A field an import row would change on the recipient it updates; `removed` when the file empties it. */
export interface ImportChange {
  field: string;
  removed: boolean;
}

/**
 * A row of an import preview, with what confirming would do to it. A new address under a name the
 * directory already has is a possible duplicate: skipped unless the person confirming chooses to add it
 * anyway, or to update the recipient it duplicates.
 */
export interface ImportPreviewRow extends ImportRow {
  action: 'create' | 'update' | 'skip' | 'duplicate';
  /** For a possible duplicate: the directory's recipients with the same name; otherwise empty. */
  duplicates: PossibleDuplicate[];
  /** For an update: what it changes (none: the recipient stays as it is); otherwise empty. */
  changes: ImportChange[];
}

export interface ImportPreview {
  id: string;
  fileName: string;
  rows: ImportPreviewRow[];
  /** The recipient columns the file has; the others are left as they are on recipients it updates. */
  columns: string[];
  ignoredColumns: string[];
  counts: { create: number; update: number; skip: number; duplicate: number };
}

export type StageOutcome =
  | { kind: 'staged'; id: string }
  | { kind: 'refused'; messageKey: string; params?: Record<string, string | number> };

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

  /** A recipient for its edit page, with whether this account may change it. */
  async editable(user: User, id: number): Promise<EditableRecipient> {
    const recipient = await this.find(id);
    const resource = (await this.resources(this.deps.recipients, this.deps.settings, [id])).get(id)!;
    return {
      recipient,
      mayChange: can(user, 'recipient.change', resource),
      letterIds: resource.letterIds,
    };
  }

  /** Adds a recipient; the address must not be in the directory yet. */
  async create(user: User, values: RecipientFormValues): Promise<RecipientSaveOutcome> {
    authorize(user, 'recipient.create');
    const parsed = parseRecipient(values, LETTER_LANGUAGES);
    if (!parsed.ok) return { kind: 'invalid', errors: parsed.errors };
    const now = this.deps.clock.now();
    return this.deps.db.transaction().execute(async (tx) => {
      const recipients = this.deps.recipients.with(tx);
      if (await recipients.findByEmail(parsed.input.email))
        return { kind: 'invalid', errors: { email: 'recipients.errors.email.taken' } };
      const id = await recipients.create(parsed.input, now);
      await this.deps.audit.with(tx).record(
        {
          actor: { id: user.id, email: user.email },
          action: 'recipient-created',
          targetType: 'recipient',
          targetId: id,
          details: { name: parsed.input.name, email: parsed.input.email },
        },
        now,
      );
      return { kind: 'saved', id };
    });
  }

  /**
   * Saves a recipient. One that another organizer's letter addresses may be changed only by an admin
   * (403): otherwise an organizer could send someone else's letter to an address of their choosing.
   */
  async update(user: User, id: number, values: RecipientFormValues): Promise<RecipientSaveOutcome> {
    await this.find(id);
    const parsed = parseRecipient(values, LETTER_LANGUAGES);
    if (!parsed.ok) return { kind: 'invalid', errors: parsed.errors };
    const now = this.deps.clock.now();
    return this.deps.db.transaction().execute(async (tx) => {
      const recipients = this.deps.recipients.with(tx);
      const before = await recipients.findById(id);
      if (!before) throw notFound('recipient_not_found', 'recipients.notFound');
      // Checked in the transaction that changes it: the letters addressing it are those of this moment.
      const resource = (await this.resources(recipients, this.deps.settings.with(tx), [id])).get(id)!;
      authorize(user, 'recipient.change', resource);
      const other = await recipients.findByEmail(parsed.input.email);
      if (other && other.id !== id)
        return { kind: 'invalid', errors: { email: 'recipients.errors.email.taken' } };
      await recipients.update(id, parsed.input);
      const changes = recipientChanges(before, parsed.input);
      if (changes)
        await this.deps.audit.with(tx).record(
          {
            actor: { id: user.id, email: user.email },
            action: 'recipient-changed',
            targetType: 'recipient',
            targetId: id,
            details: changes,
          },
          now,
        );
      return { kind: 'saved', id };
    });
  }

  /** Deletes a recipient no letter addresses; one on a letter is refused with a reason. */
  async delete(user: User, id: number): Promise<void> {
    await this.find(id);
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (tx) => {
      const recipients = this.deps.recipients.with(tx);
      const before = await recipients.findById(id);
      if (!before) throw notFound('recipient_not_found', 'recipients.notFound');
      const resource = (await this.resources(recipients, this.deps.settings.with(tx), [id])).get(id)!;
      authorize(user, 'recipient.change', resource);
      if (!(await recipients.deleteUnused(id)))
        throw new AppError(409, 'recipient_in_use', 'recipients.inUse');
      await this.deps.audit.with(tx).record(
        {
          actor: { id: user.id, email: user.email },
          action: 'recipient-deleted',
          targetType: 'recipient',
          targetId: id,
          details: { name: before.name, email: before.email },
        },
        now,
      );
    });
  }

  /**
   * Keeps an uploaded file for its preview. A file that cannot be read at all is refused at once;
   * row errors are shown in the preview. Nothing touches the directory until the import is confirmed.
   */
  async stage(user: User, fileName: string, source: string): Promise<StageOutcome> {
    authorize(user, 'recipient.create');
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
    const [existing, directory] = await Promise.all([
      this.deps.recipients.findByEmails(parsed.rows.flatMap((r) => (r.input ? [r.input.email] : []))),
      this.deps.recipients.directoryNames(),
    ]);
    const byName = new Map<string, typeof directory>();
    for (const entry of directory) {
      const key = recipientNameKey(entry.name);
      byName.set(key, [...(byName.get(key) ?? []), entry]);
    }
    const sameName = (input: RecipientInput) => byName.get(recipientNameKey(input.name)) ?? [];
    const resources = await this.resources(this.deps.recipients, this.deps.settings, [
      ...new Set([
        ...[...existing.values()].map((r) => r.id),
        ...parsed.rows.flatMap((r) =>
          r.input && !existing.has(r.input.email) ? sameName(r.input).map((d) => d.id) : [],
        ),
      ]),
    ]);
    // The same rule as the edit form: a recipient on another organizer's letter is theirs to keep.
    const mayChange = (id: number) => can(user, 'recipient.change', resources.get(id)!);
    const rows = parsed.rows.map((row): ImportPreviewRow => {
      if (!row.input) return { ...row, action: 'skip', duplicates: [], changes: [] };
      const known = existing.get(row.input.email);
      if (!known) {
        const duplicates = sameName(row.input).map((d) => ({ ...d, mayUpdate: mayChange(d.id) }));
        return { ...row, action: duplicates.length > 0 ? 'duplicate' : 'create', duplicates, changes: [] };
      }
      if (!mayChange(known.id))
        return {
          ...row,
          action: 'skip',
          duplicates: [],
          changes: [],
          errors: [...row.errors, { field: 'email', messageKey: 'policy.recipients.importUsedByOthers' }],
        };
      const changes = importChanges(known, updatedFromRow(known, row.input, parsed.columns));
      return { ...row, action: 'update', duplicates: [], changes };
    });
    const counts = { create: 0, update: 0, skip: 0, duplicate: 0 };
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

  /**
   * Imports the valid rows of a staged file in one transaction: new addresses are added, known ones
   * updated, except those another organizer's letter addresses (skipped, as the preview said). A possible
   * duplicate (a new address under a name the directory has) is skipped unless `choices` says, by its
   * line, to add it anyway or to update the recipient it duplicates. Every change is in the audit log,
   * with the import itself.
   */
  async confirm(
    user: User,
    id: string,
    choices: ReadonlyMap<number, ImportChoice> = new Map(),
  ): Promise<{ created: number; updated: number; skipped: number }> {
    authorize(user, 'recipient.create');
    const preview = await this.preview(user, id);
    const now = this.deps.clock.now();
    const actor = { id: user.id, email: user.email };
    return this.deps.db.transaction().execute(async (tx) => {
      // Removing the staged file first makes a second click (or a second tab) import nothing.
      if (!(await this.deps.imports.with(tx).remove(id)))
        throw notFound('import_not_found', 'recipients.import.gone');
      const recipients = this.deps.recipients.with(tx);
      const audit = this.deps.audit.with(tx);
      const result = { created: 0, updated: 0, skipped: preview.counts.skip };
      /** Updates a recipient from a row, if this account may still change it; the file's missing columns keep their values. */
      const update = async (known: Recipient, row: RecipientInput): Promise<boolean> => {
        // Asked again inside the transaction: a letter may have been addressed to it since the preview.
        const resource = (await this.resources(recipients, this.deps.settings.with(tx), [known.id])).get(
          known.id,
        )!;
        if (!can(user, 'recipient.change', resource)) return false;
        const input = updatedFromRow(known, row, preview.columns);
        await recipients.update(known.id, input);
        const changes = recipientChanges(known, input);
        if (changes)
          await audit.record(
            {
              actor,
              action: 'recipient-changed',
              targetType: 'recipient',
              targetId: known.id,
              details: changes,
            },
            now,
          );
        return true;
      };
      for (const row of preview.rows) {
        if (!row.input || row.action === 'skip') continue;
        const known = await recipients.findByEmail(row.input.email);
        if (row.action === 'duplicate' && !known) {
          const choice = choices.get(row.line) ?? { kind: 'skip' };
          // Only a recipient the preview offered: the choice names it by id, and ids can be typed.
          const target =
            choice.kind === 'update' && row.duplicates.some((d) => d.id === choice.recipientId)
              ? await recipients.findById(choice.recipientId)
              : undefined;
          if (choice.kind === 'add') {
            await recipients.create(row.input, now);
            result.created += 1;
          } else if (target && (await update(target, row.input))) {
            result.updated += 1;
          } else {
            result.skipped += 1;
          }
          continue;
        }
        if (known) {
          if (await update(known, row.input)) result.updated += 1;
          else result.skipped += 1;
        } else {
          await recipients.create(row.input, now);
          result.created += 1;
        }
      }
      await audit.record(
        {
          actor,
          action: 'recipients-imported',
          targetType: 'recipient-import',
          targetId: id,
          details: { file: preview.fileName, ...result },
        },
        now,
      );
      return result;
    });
  }

  async cancel(user: User, id: string): Promise<void> {
    await this.staged(user, id);
    await this.deps.imports.remove(id);
  }

  /** Recipients as the access rule sees them: the letters addressing each, and whether review holds them. */
  private async resources(
    recipients: RecipientRepository,
    settings: SettingsRepository,
    ids: readonly number[],
  ): Promise<Map<number, RecipientResource & { letterIds: number[] }>> {
    const [letters, { requireReview }] = await Promise.all([
      recipients.lettersAddressing(ids),
      settings.read(),
    ]);
    return new Map(
      [...letters].map(([id, usedBy]) => [
        id,
        {
          id,
          usedBy: usedBy.map(({ status, letterId: _, ...letter }) => ({
            ...letter,
            reviewed: changesWaitForReview(status !== 'draft', requireReview, false),
          })),
          letterIds: usedBy.map((letter) => letter.letterId),
        },
      ]),
    );
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
