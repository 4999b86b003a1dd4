// Metering (spec 11.5, 11.6): statements once issued never change
// (TMB-MTR-015). The first issue of a sender statement or of this node's
// settlement statement for a peer and month is stored and served again
// ever after; the table refuses UPDATE and DELETE like the ledger.
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('issued_statements')
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('sender-statement', 'settlement')`))
    // The sender id (sender statements) or the peer operator id (settlements).
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('period', 'text', (c) => c.notNull())
    .addColumn('jws', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('issued_statements_pk', ['kind', 'subject', 'period'])
    .execute()
  await sql`create trigger issued_statements_append_only before update or delete on issued_statements for each row execute function timbre_append_only()`.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('issued_statements').ifExists().execute()
}
