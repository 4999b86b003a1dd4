// The content JWE of a delivery is ciphertext (base64url of random-looking
// bytes): PostgreSQL's TOAST compression tries pglz on every insert, fails to
// save the 25% it needs and stores the value uncompressed anyway. EXTERNAL
// storage skips that attempt (still out of line, still TOASTed); measured on
// PGlite, a 14 KB insert took about half the time (BENCHMARKS.md).
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table deliveries alter column content set storage external`.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table deliveries alter column content set storage extended`.execute(db)
}
