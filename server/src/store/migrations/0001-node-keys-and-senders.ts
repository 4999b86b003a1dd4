// Node keys and registered senders. Applied migrations are never edited;
// later changes come as new files.
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('node_keys')
    .addColumn('kid', 'text', (c) => c.primaryKey())
    .addColumn('use', 'text', (c) => c.notNull().check(sql`use in ('sig', 'enc')`))
    .addColumn('alg', 'text', (c) => c.notNull())
    .addColumn('private_jwk', 'jsonb', (c) => c.notNull())
    .addColumn('public_jwk', 'jsonb', (c) => c.notNull())
    .addColumn('not_before', 'timestamptz', (c) => c.notNull())
    .addColumn('not_after', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()
  // At most one current key per use: several processes starting together on
  // one PostgreSQL race to insert, the index lets exactly one win.
  await sql`create unique index node_keys_one_current on node_keys (use) where not_after is null`.execute(db)

  await db.schema
    .createTable('senders')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text')
    .addColumn('jwk', 'jsonb', (c) => c.notNull())
    .addColumn('kid', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active').check(sql`status in ('active', 'disabled')`))
    .addColumn('webhook_url', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()
  await db.schema.createIndex('senders_kid').on('senders').column('kid').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('senders').execute()
  await db.schema.dropTable('node_keys').execute()
}
