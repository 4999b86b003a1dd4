// The vault-operator role's storage (VaultStorage of the SDK): accounts hosted
// here and deposited documents, one per (sender, message_id) (TMB-RLY).
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('vault_accounts')
    .addColumn('address', 'text', (c) => c.primaryKey())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active').check(sql`status in ('active', 'moved')`))
    .addColumn('moved_to', 'text')
    .addColumn('reference', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('vault_accounts_moved_to', sql`(status = 'moved') = (moved_to is not null)`)
    .execute()

  await db.schema
    .createTable('vault_deposits')
    .addColumn('sender', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addColumn('address', 'text', (c) => c.notNull().references('vault_accounts.address'))
    .addColumn('metadata', 'jsonb', (c) => c.notNull())
    .addColumn('envelope', 'text', (c) => c.notNull())
    .addColumn('sender_key', 'jsonb', (c) => c.notNull())
    .addColumn('stamp', 'text', (c) => c.notNull())
    .addColumn('evidence', 'text', (c) => c.notNull())
    .addColumn('document', 'bytea', (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('digest', 'jsonb', (c) => c.notNull())
    .addColumn('deposited_at', 'timestamptz', (c) => c.notNull())
    // The storage's one promise to VaultKit: one deposit per message (TMB-RLY-009).
    .addPrimaryKeyConstraint('vault_deposits_pk', ['sender', 'message_id'])
    .execute()
  await db.schema.createIndex('vault_deposits_address').on('vault_deposits').columns(['address', 'deposited_at']).execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('vault_deposits').execute()
  await db.schema.dropTable('vault_accounts').execute()
}
