// Handover evidence (spec 7.6, TMB-EVD-015): the vault keeps the Handover of
// a deposit once, at the person's first open, and the node's outbox pushes it
// to the stamp's issuer (job kind `handover`) until answered 202 or 404.
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<unknown>): Promise<void> {
  // Set once, never changed: the UPDATE that sets it requires it to be null.
  await db.schema.alterTable('vault_deposits').addColumn('handover', 'text').execute()
  await sql`alter table outbox drop constraint if exists outbox_kind_check`.execute(db)
  await sql`alter table outbox add constraint outbox_kind_check check (kind in ('relay', 'webhook', 'handover'))`.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from outbox where kind = 'handover'`.execute(db)
  await sql`alter table outbox drop constraint if exists outbox_kind_check`.execute(db)
  await sql`alter table outbox add constraint outbox_kind_check check (kind in ('relay', 'webhook'))`.execute(db)
  await db.schema.alterTable('vault_deposits').dropColumn('handover').execute()
}
