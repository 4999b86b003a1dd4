// A routing node's local replica of a remote directory (spec 8.4): every line
// version as the change feed last served it, and the cursor applied so far,
// written in the same transaction as the changes (TMB-DIR-020).
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table directory_replica_lines (
      address text not null,
      version integer not null,
      operator_id text not null,
      valid_from timestamptz not null,
      valid_to timestamptz,
      line text not null,
      primary key (address, version)
    )`.execute(db)
  await sql`
    create table directory_replica_state (
      directory_url text primary key,
      cursor bigint not null,
      synced_at timestamptz
    )`.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table directory_replica_state`.execute(db)
  await sql`drop table directory_replica_lines`.execute(db)
}
