import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { Express } from 'express';
import request from 'supertest';
import type { Db } from '../../server/db/database.js';

/**
 * Records that a letter was sent to its recipients (one round, one sent outbox message per recipient),
 * as the worker leaves it, without compiling or sending anything: the public record reads only these rows.
 */
export async function recordSentRound(
  db: Db,
  letterId: number,
  sentAt: Date,
  signatureCount: number,
): Promise<void> {
  const at = sentAt.toISOString();
  const letter = await db
    .selectFrom('letters')
    .select('current_version_id')
    .where('id', '=', letterId)
    .executeTakeFirstOrThrow();
  const recipients = await db
    .selectFrom('letter_recipients as lr')
    .innerJoin('recipients as r', 'r.id', 'lr.recipient_id')
    .select(['r.id', 'r.name', 'r.email'])
    .where('lr.letter_id', '=', letterId)
    .execute();
  const round = await db
    .insertInto('delivery_rounds')
    .values({
      letter_id: letterId,
      letter_version_id: letter.current_version_id!,
      kind: 'delivery',
      trigger: 'manual',
      status: 'queued',
      signature_count: signatureCount,
      milestone: null,
      test_address: null,
      requested_by: null,
      request_key: null,
      notified_at: null,
      created_at: at,
      updated_at: at,
      failure: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  for (const recipient of recipients) {
    const message = await db
      .insertInto('outbox_messages')
      .values({
        kind: 'delivery',
        priority: 1,
        signature_id: null,
        to_address: recipient.email,
        message_id: `<round-${round.id}-${recipient.id}@example.org>`,
        status: 'sent',
        next_attempt_at: at,
        lease_expires_at: null,
        claimed_by: null,
        last_reply: '250 ok',
        sent_at: at,
        created_at: at,
        updated_at: at,
        reply_to: null,
        give_up_at: null,
        delivery_round_id: round.id,
        bounced_at: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db
      .insertInto('deliveries')
      .values({
        delivery_round_id: round.id,
        recipient_id: recipient.id,
        recipient_name: recipient.name,
        language: 'en',
        outbox_message_id: message.id,
        created_at: at,
      })
      .execute();
  }
}

type Json = Record<string, unknown>;

/** Every `$ref` into the document's components, rewritten to a `$defs` a standalone schema can hold. */
function toDefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toDefs);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [
        key,
        key === '$ref' && typeof inner === 'string'
          ? inner.replace('#/components/schemas/', '#/$defs/')
          : toDefs(inner),
      ]),
    );
  return value;
}

/**
 * The app's OpenAPI document (GET /api/openapi.json) and a validator of values against its component
 * schemas (JSON Schema 2020-12, Ajv strict, formats checked), which returns Ajv's errors (none: valid).
 */
export async function openApiValidator(
  app: Express,
): Promise<{ document: Json; validate: (schema: string, value: unknown) => unknown[] }> {
  const response = await request(app).get('/api/openapi.json').expect(200);
  const document = JSON.parse(response.text) as Json;
  const schemas = toDefs((document.components as Json).schemas) as Json;
  const ajv = new Ajv2020.default({ allErrors: true, strict: true });
  addFormats.default(ajv);
  const compiled = new Map<string, ReturnType<typeof ajv.compile>>();
  return {
    document,
    validate: (name, value) => {
      let check = compiled.get(name);
      if (!check) compiled.set(name, (check = ajv.compile({ $defs: schemas, $ref: `#/$defs/${name}` })));
      return check(value) ? [] : (check.errors ?? []);
    },
  };
}
