// Single-use request proofs (TMB-AUTH): every accepted jti is remembered until
// its expiry plus the clock-skew allowance, shared by all processes of a node.
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('replay_nonces')
    .addColumn('jti', 'text', (c) => c.primaryKey())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('replay_nonces_expires_at').on('replay_nonces').column('expires_at').execute()
  void sql
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('replay_nonces').execute()
}
