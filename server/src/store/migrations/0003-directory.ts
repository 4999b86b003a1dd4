// The directory role (spec chapter 8): admitted operators, every version of
// every address line (never deleted), and the ordered change feed.
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<unknown>): Promise<void> {
  // btree_gist lets one exclusion constraint mix `=` on text with `&&` on ranges.
  await sql`create extension if not exists btree_gist`.execute(db)

  await db.schema
    .createTable('operators')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text')
    .addColumn('base_url', 'text', (c) => c.notNull())
    .addColumn('relay_endpoint', 'text', (c) => c.notNull())
    .addColumn('roles', 'jsonb', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active').check(sql`status in ('active', 'suspended', 'revoked')`))
    .addColumn('jwks', 'jsonb', (c) => c.notNull())
    // Every kid the operator ever published: never shrinks (TMB-TRUST-015).
    .addColumn('key_thumbprints', 'jsonb', (c) => c.notNull())
    // Bumped from one sequence on every change: the trust list's `sequence` (TMB-TRUST-014).
    .addColumn('revision', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()
  await sql`create sequence operators_revision_seq`.execute(db)

  // A line is a snapshot: endpoint and keys are copied in, so no member but
  // valid_to ever changes (TMB-DIR-003).
  await sql`
    create table directory_lines (
      address text not null,
      version integer not null check (version >= 1),
      operator_id text not null references operators (id),
      relay_endpoint text not null,
      encryption_keys jsonb not null,
      valid_from timestamptz not null,
      valid_to timestamptz,
      created_at timestamptz not null default now(),
      primary key (address, version),
      -- validTo = validFrom voids a scheduled line (spec 8.1, chapter 9).
      constraint directory_lines_valid_to check (valid_to is null or valid_to >= valid_from),
      -- TMB-DIR-004: the store itself refuses two lines valid at one instant.
      constraint directory_lines_no_overlap exclude using gist (
        address with =,
        tstzrange(valid_from, coalesce(valid_to, 'infinity'::timestamptz)) with &&
      )
    )`.execute(db)
  await sql`create index directory_lines_operator_open on directory_lines (operator_id) where valid_to is null`.execute(db)
  // Lines are never deleted (TMB-DIR-003); refuse it at the store too.
  await sql`
    create function directory_lines_immutable() returns trigger language plpgsql as $$
    begin
      if tg_op = 'DELETE' then raise exception 'directory lines are never deleted'; end if;
      if old.valid_to is not null and new.valid_to is distinct from old.valid_to then
        raise exception 'valid_to of a directory line is set once';
      end if;
      if (new.address, new.version, new.operator_id, new.relay_endpoint, new.encryption_keys, new.valid_from)
         is distinct from (old.address, old.version, old.operator_id, old.relay_endpoint, old.encryption_keys, old.valid_from) then
        raise exception 'only valid_to of a directory line may change';
      end if;
      return new;
    end $$`.execute(db)
  await sql`create trigger directory_lines_immutable before update or delete on directory_lines
    for each row execute function directory_lines_immutable()`.execute(db)

  // The change feed (TMB-DIR-014..016). `cursor` is NOT a bigserial: a
  // sequence leaves a gap when a transaction rolls back, and allocates out of
  // commit order across processes. Instead every directory write takes
  // pg_advisory_xact_lock(DIRECTORY_WRITE_LOCK) first and appends max+1: writes
  // are serialised, a change commits before the next cursor is allocated, and
  // a rollback releases its number. See directory-repository.ts.
  await sql`
    create table directory_changes (
      cursor bigint primary key check (cursor >= 1),
      address text not null,
      version integer not null,
      operator_id text not null,
      valid_from timestamptz not null,
      valid_to timestamptz,
      -- The signed line in the state this change produced (TMB-DIR-015), kept as served.
      line text not null,
      changed_at timestamptz not null default now(),
      foreign key (address, version) references directory_lines (address, version)
    )`.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('directory_changes').execute()
  await db.schema.dropTable('directory_lines').execute()
  await sql`drop function directory_lines_immutable()`.execute(db)
  await sql`drop sequence operators_revision_seq`.execute(db)
  await db.schema.dropTable('operators').execute()
}
