// One Kysely database for the whole node: embedded PGlite by default, or
// PostgreSQL through `pg` when a DATABASE_URL is configured. Same queries,
// same migrations.
//
// PGlite caveats (see shared STACK notes):
// - it NEVER fsyncs: an OS crash or power loss can lose recent commits; a
//   durable deployment uses PostgreSQL;
// - it has ONE connection: inside `db.transaction().execute(async (trx) => …)`
//   always use `trx`; touching the outer `db` there waits forever;
// - only one process may open a data dir (guarded by data-dir-lock.ts).
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
// The directory's no-overlap exclusion constraint needs btree_gist (migration 0003).
import { btree_gist } from '@electric-sql/pglite/contrib/btree_gist'
import { Kysely, PostgresDialect } from 'kysely'
import { PGliteDialect } from 'kysely-pglite-dialect'
import pg from 'pg'
import { MEMORY_DATA_DIR } from '../config/schema.js'
import { lockDataDir } from './data-dir-lock.js'
import { migrateToLatest } from './migrate.js'
import type { Database } from './schema.js'

export type StoreKind = 'pglite' | 'postgres'

/** An open database and how to close it. */
export interface Store {
  readonly db: Kysely<Database>
  readonly kind: StoreKind
  /** Where the data lives, safe to log (no password). */
  readonly location: string
  /** The embedded PGlite client (null on PostgreSQL), for tools that need it (dumps, pg-boss). */
  readonly pglite: PGlite | null
  close(): Promise<void>
}

export interface OpenStoreOptions {
  /** Data dir for PGlite (`<dataDir>/pgdata`), or `memory:`. Ignored with databaseUrl. */
  readonly dataDir: string
  readonly databaseUrl: string | null
  /** Apply pending migrations (default true). */
  readonly migrate?: boolean
  /** PostgreSQL pool size (default 10). */
  readonly poolSize?: number
  /**
   * In-memory PGlite only: start from this data dir dump (PGlite
   * `dumpDataDir`) instead of running initdb, which is several times slower.
   * Tests use a dump of a freshly migrated database.
   */
  readonly pgliteTemplate?: Blob
}

/** `postgres://user:secret@host/db` → `postgres://user:***@host/db`. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return 'postgres://(unparsable)'
  }
}

interface Opened { db: Kysely<Database>; location: string; release: () => void; client: PGlite }

async function openPglite(dataDir: string, template: Blob | undefined): Promise<Opened> {
  if (dataDir === MEMORY_DATA_DIR) {
    const client = await PGlite.create({ extensions: { btree_gist }, ...(template && { loadDataDir: template }) })
    return { client, db: new Kysely<Database>({ dialect: new PGliteDialect(client) }), location: 'pglite (in memory)', release: () => {} }
  }
  mkdirSync(dataDir, { recursive: true })
  const dir = join(dataDir, 'pgdata')
  const release = lockDataDir(`${dir}.lock`)
  try {
    const client = await PGlite.create(dir, { extensions: { btree_gist } })
    return { client, db: new Kysely<Database>({ dialect: new PGliteDialect(client) }), location: `pglite ${dir}`, release }
  } catch (err) {
    release()
    throw err
  }
}

/** Open (and by default migrate) the node's database. */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  let db: Kysely<Database>
  let location: string
  let release = (): void => {}
  let kind: StoreKind
  let client: PGlite | null = null
  if (options.databaseUrl) {
    kind = 'postgres'
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? 10 })
    // An idle client losing its server must not crash the process; the next
    // query reports the failure where it can be handled.
    pool.on('error', () => {})
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
    location = redactUrl(options.databaseUrl)
  } else {
    kind = 'pglite'
    ;({ db, location, release, client } = await openPglite(options.dataDir, options.pgliteTemplate))
  }
  let closed = false
  const store: Store = {
    db,
    kind,
    location,
    pglite: client,
    async close() {
      if (closed) return
      closed = true
      try {
        await db.destroy()
      } finally {
        release()
      }
    },
  }
  if (options.migrate !== false) {
    try {
      await migrateToLatest(db)
    } catch (err) {
      await store.close()
      throw err
    }
  }
  return store
}
