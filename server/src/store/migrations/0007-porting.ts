// Portability (spec chapter 9): porting codes (digests only, TMB-PORT-005)
// and ports at the directory; scheduled moves, the journal, archive imports
// and additional (conflicting) documents at the vault; the portability jobs
// (port notifications, directory pushes, archive transfers) of both roles.
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<unknown>): Promise<void> {
  // Directory: one row per registered code; the code itself is never stored.
  await sql`
    create table porting_codes (
      address text not null,
      code_digest text not null,
      donor text not null,
      status text not null default 'active' check (status in ('active', 'used', 'invalidated')),
      registered_at timestamptz not null,
      expires_at timestamptz not null,
      used_at timestamptz,
      primary key (address, code_digest)
    )`.execute(db)

  await sql`
    create table ports (
      port_id uuid primary key,
      address text not null,
      donor text not null,
      recipient_operator text not null,
      requested_at timestamptz not null,
      objection_deadline timestamptz not null,
      cutover_at timestamptz not null,
      status text not null check (status in ('pending', 'objected', 'cancelled', 'completed')),
      reason jsonb,
      consent jsonb not null,
      code_digest text not null,
      updated_at timestamptz not null
    )`.execute(db)
  // TMB-PORT-015 at the store too: at most one pending port per address.
  await sql`create unique index ports_one_pending on ports (address) where status = 'pending'`.execute(db)
  await sql`create index ports_donor on ports (donor, status)`.execute(db)
  await sql`create index ports_recipient on ports (recipient_operator, status)`.execute(db)
  await sql`create index ports_due on ports (cutover_at) where status = 'pending'`.execute(db)

  // Vault: a move scheduled at the port's cut-over (TMB-PORT-021/023, TMB-RLY-012).
  await sql`alter table vault_accounts add column move_to text, add column move_at timestamptz`.execute(db)
  // Vault: the evidence chain of imported documents (stamp, deposit, …, ContentImport).
  await sql`alter table vault_deposits add column chain jsonb`.execute(db)
  // Documents imported while another document was held under the same
  // (sender, message_id) with another digest (TMB-ARC-010): kept, linked.
  await sql`
    create table vault_additional_documents (
      id bigserial primary key,
      sender text not null,
      message_id text not null,
      address text not null references vault_accounts (address),
      metadata jsonb not null,
      envelope text not null,
      sender_key jsonb not null,
      stamp text not null,
      evidence text not null,
      chain jsonb,
      document bytea not null,
      size integer not null,
      digest jsonb not null,
      deposited_at timestamptz not null,
      conflict_of jsonb not null
    )`.execute(db)
  await sql`create index vault_additional_documents_address on vault_additional_documents (address)`.execute(db)
  // Vault: the journal of each address (TMB-RLY-019).
  await sql`
    create table vault_journal (
      id bigserial primary key,
      address text not null,
      entry jsonb not null
    )`.execute(db)
  await sql`create index vault_journal_address on vault_journal (address, id)`.execute(db)
  // Vault: committed archive imports, keyed by port id (TMB-ARC-008 repeats).
  await sql`
    create table vault_imports (
      key text primary key,
      address text not null,
      response jsonb not null,
      created_at timestamptz not null default now()
    )`.execute(db)

  // Both roles: portability jobs, leased like the routing outbox, one per key.
  await sql`
    create table porting_jobs (
      id bigserial primary key,
      kind text not null check (kind in ('port-notification', 'directory-push', 'archive-transfer')),
      key text not null unique,
      payload jsonb not null,
      available_at timestamptz not null,
      attempts integer not null default 0,
      locked_until timestamptz,
      last_error text,
      done_at timestamptz,
      created_at timestamptz not null default now()
    )`.execute(db)
  await sql`create index porting_jobs_due on porting_jobs (available_at) where done_at is null`.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table porting_jobs`.execute(db)
  await sql`drop table vault_imports`.execute(db)
  await sql`drop table vault_journal`.execute(db)
  await sql`drop table vault_additional_documents`.execute(db)
  await sql`alter table vault_deposits drop column chain`.execute(db)
  await sql`alter table vault_accounts drop column move_to, drop column move_at`.execute(db)
  await sql`drop table ports`.execute(db)
  await sql`drop table porting_codes`.execute(db)
}
