import { type Kysely } from 'kysely';

// Frozen once landed: never edit, add a new dated migration instead. Imports nothing from the app.
// Shared by the SQLite and PostgreSQL chains: plain types and no dialect-specific SQL.
//
// The public commitment to each delivered list (server/commitments/merkle.ts, RFC 6962 hashing):
// signature_salts: each listed signature's secret salt (64 hex digits), made the first time the signature
//   is listed and kept while the signature is; removed when it is erased, so its leaf can never be opened.
// round_commitments: a round's tree: its size and root as published; corrects_round_id when the round is
//   a correction (erratum) of an earlier one, whose list less its removed signatures this tree covers.
// round_leaves: the leaf hashes of a round's tree in order, with the signature each came from (null once
//   the signature is erased), from which receipts and proofs are computed and errata counted.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('signature_salts')
    .addColumn('signature_id', 'integer', (c) =>
      c.primaryKey().references('signatures.id').onDelete('cascade'),
    )
    .addColumn('salt', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('round_commitments')
    .addColumn('round_id', 'integer', (c) =>
      c.primaryKey().references('delivery_rounds.id').onDelete('cascade'),
    )
    .addColumn('tree_size', 'integer', (c) => c.notNull())
    .addColumn('root', 'text', (c) => c.notNull())
    .addColumn('corrects_round_id', 'integer', (c) => c.references('delivery_rounds.id').onDelete('set null'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('round_leaves')
    .addColumn('round_id', 'integer', (c) => c.notNull().references('delivery_rounds.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('signature_id', 'integer', (c) => c.references('signatures.id').onDelete('set null'))
    .addColumn('leaf_hash', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('round_leaves_pk', ['round_id', 'position'])
    .execute();
  await db.schema.createIndex('round_leaves_signature').on('round_leaves').column('signature_id').execute();
}

// No down(): to go back, restore a backup.
