// Metering (spec chapter 11): one stamp account per sender (balance cache,
// credit limit, last ledger sequence) and the append-only stamp ledger.
// The balance column is only ever changed in the transaction that appends
// the ledger entry moving it, by a conditional UPDATE that also takes the
// next sequence, so `balance = sum(amount)` holds at every commit
// (TMB-MTR-013) and the check `balance >= -credit_limit` is the database's
// (TMB-MTR-008). The ledger refuses UPDATE, DELETE and TRUNCATE (TMB-MTR-011).
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('stamp_accounts')
    .addColumn('sender_id', 'text', (c) => c.primaryKey())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('balance', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('credit_limit', 'bigint', (c) => c.notNull().defaultTo(0).check(sql`credit_limit >= 0`))
    .addColumn('last_sequence', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('stamp_accounts_covered', sql`balance >= -credit_limit`)
    .execute()

  await db.schema
    .createTable('stamp_ledger')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('entry_id', 'text', (c) => c.notNull().unique())
    .addColumn('sender_id', 'text', (c) => c.notNull().references('stamp_accounts.sender_id'))
    .addColumn('sequence', 'bigint', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('charge', 'refund', 'topup', 'adjustment')`))
    .addColumn('stamp_class', 'text', (c) => c.check(sql`stamp_class in ('standard', 'registered')`))
    .addColumn('amount', 'bigint', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text')
    .addColumn('evidence_id', 'text')
    .addColumn('reason', 'text')
    // The operator action behind a top-up or an adjustment (TMB-MTR-012).
    .addColumn('operator_action', 'text')
    .addColumn('balance_after', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addUniqueConstraint('stamp_ledger_sequence', ['sender_id', 'sequence'])
    .addCheckConstraint('stamp_ledger_references', sql`case
      when kind = 'charge' then message_id is not null and evidence_id is not null and stamp_class is not null and amount <= 0
      when kind = 'refund' then message_id is not null and evidence_id is not null and stamp_class is not null and reason is not null and amount >= 0
      when kind = 'topup' then operator_action is not null and amount > 0
      else operator_action is not null end`)
    .execute()
  await db.schema.createIndex('stamp_ledger_sender_time').on('stamp_ledger').columns(['sender_id', 'created_at']).execute()
  // One charge per delivery, one refund per final evidence (TMB-MTR-003/004).
  await sql`create unique index stamp_ledger_one_charge on stamp_ledger (sender_id, message_id) where kind = 'charge'`.execute(db)
  await sql`create unique index stamp_ledger_one_refund on stamp_ledger (evidence_id) where kind = 'refund'`.execute(db)

  await sql`create function timbre_append_only() returns trigger language plpgsql as $$
    begin
      raise exception '% is append-only: % refused', tg_table_name, tg_op using errcode = 'restrict_violation';
    end $$`.execute(db)
  await sql`create trigger stamp_ledger_append_only before update or delete on stamp_ledger for each row execute function timbre_append_only()`.execute(db)
  await sql`create trigger stamp_ledger_no_truncate before truncate on stamp_ledger for each statement execute function timbre_append_only()`.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('stamp_ledger').ifExists().execute()
  await db.schema.dropTable('stamp_accounts').ifExists().execute()
  await sql`drop function if exists timbre_append_only()`.execute(db)
}
