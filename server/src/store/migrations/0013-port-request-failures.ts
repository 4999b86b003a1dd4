// Failed port requests per address (spec 9.3, TMB-PORT-008): the directory
// refuses further port requests for an address with 10 failures in the last
// 24 hours, so porting codes cannot be guessed by trying. Rows older than the
// window are deleted as new failures are recorded.
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('port_request_failures')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('operator_id', 'text', (c) => c.notNull())
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('failed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()
  await db.schema.createIndex('port_request_failures_address_at').on('port_request_failures').columns(['address', 'failed_at']).execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('port_request_failures').execute()
}
