// TMB-ARC-012: the donor deletes a ported vault's documents within 30 days
// after the new operator accepted its archive. The portability worker's job
// `ported-purge` is scheduled when the archive transfer succeeds.
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table porting_jobs drop constraint if exists porting_jobs_kind_check`.execute(db)
  await sql`alter table porting_jobs add constraint porting_jobs_kind_check check (kind in ('port-notification', 'directory-push', 'archive-transfer', 'ported-purge'))`.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from porting_jobs where kind = 'ported-purge'`.execute(db)
  await sql`alter table porting_jobs drop constraint if exists porting_jobs_kind_check`.execute(db)
  await sql`alter table porting_jobs add constraint porting_jobs_kind_check check (kind in ('port-notification', 'directory-push', 'archive-transfer'))`.execute(db)
}
