// The routing node's deliveries (spec chapters 5, 6, 7, 10): idempotency
// records (TMB-IDEM-003), deliveries keyed by (sender, messageId)
// (TMB-IDEM-009), the transactional outbox the worker drains (relays and
// webhooks, TMB-RTY-003), and every evidence of every delivery (TMB-EVD-006).
// The node stores the content JWE only: it never holds the plaintext nor a key to it.
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('idempotency_keys')
    .addColumn('sender_id', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('in_progress', 'completed')`))
    .addColumn('response_status', 'integer')
    .addColumn('response_body', 'jsonb')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('idempotency_keys_pk', ['sender_id', 'key'])
    .execute()
  await db.schema.createIndex('idempotency_keys_expires_at').on('idempotency_keys').column('expires_at').execute()

  await db.schema
    .createTable('deliveries')
    .addColumn('sender_id', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('envelope', 'text', (c) => c.notNull())
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('envelope_digest', 'text', (c) => c.notNull())
    .addColumn('content_digest', 'jsonb', (c) => c.notNull())
    .addColumn('stamp', 'text', (c) => c.notNull())
    .addColumn('stamp_class', 'text', (c) => c.notNull().check(sql`stamp_class in ('standard', 'registered')`))
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('accepted', 'relaying', 'rerouting', 'delivered', 'rejected', 'failed')`))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'timestamptz')
    .addColumn('window_ends_at', 'timestamptz', (c) => c.notNull())
    .addColumn('recipient_operator', 'text')
    .addColumn('route_version', 'integer')
    .addColumn('reason', 'jsonb')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('final_at', 'timestamptz')
    .addPrimaryKeyConstraint('deliveries_pk', ['sender_id', 'message_id'])
    .execute()

  await db.schema
    .createTable('outbox')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('relay', 'webhook')`))
    .addColumn('sender_id', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    .addColumn('available_at', 'timestamptz', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('locked_until', 'timestamptz')
    .addColumn('locked_by', 'text')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()
  // The worker's claim query: due rows in order.
  await db.schema.createIndex('outbox_available_at').on('outbox').columns(['available_at', 'id']).execute()
  await db.schema.createIndex('outbox_delivery').on('outbox').columns(['sender_id', 'message_id']).execute()

  await db.schema
    .createTable('evidence')
    .addColumn('evidence_id', 'text', (c) => c.primaryKey())
    .addColumn('sender_id', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('issuer', 'text', (c) => c.notNull())
    .addColumn('jws', 'text', (c) => c.notNull())
    // Order of learning (TMB-SUB-012): the sequence breaks ties of equal timestamps.
    .addColumn('seq', 'bigserial', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()
  await db.schema.createIndex('evidence_delivery').on('evidence').columns(['sender_id', 'message_id', 'created_at']).execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['evidence', 'outbox', 'deliveries', 'idempotency_keys']) await db.schema.dropTable(t).ifExists().execute()
}
