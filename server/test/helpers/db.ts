// A fresh, migrated database per test file (or per test): in-memory PGlite by
// default; with DATABASE_URL set, a new database `timbre_t_<random>` created
// on that server and dropped at teardown. Same code paths as production.
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { MEMORY_DATA_DIR } from '../../src/config/schema.js'
import { openStore, type Store } from '../../src/store/db.js'
import { pgliteTemplate } from './pglite-template.js'

/** The bit of a tap test the helpers need. */
export interface Teardown {
  teardown(fn: () => unknown): void
}

/** True when the tests run against PostgreSQL (DATABASE_URL set). */
export const onPostgres = Boolean(process.env.DATABASE_URL)

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

/**
 * A new empty PostgreSQL database on the DATABASE_URL server, dropped at
 * teardown; its URL. Null without DATABASE_URL. Use it when several stores
 * or node processes must share one database.
 */
export async function freshDatabaseUrl(t: Teardown, before: () => Promise<void> = async () => {}): Promise<string | null> {
  const base = process.env.DATABASE_URL
  if (!base) return null
  const name = `timbre_t_${randomBytes(6).toString('hex')}`
  await admin((c) => c.query(`create database ${name}`))
  // `with (force)` ends connections a failed test left open.
  t.teardown(async () => {
    await before()
    await admin((c) => c.query(`drop database if exists ${name} with (force)`))
  })
  const url = new URL(base)
  url.pathname = `/${name}`
  return url.toString()
}

/** A migrated store on a fresh database, closed (and dropped) at teardown. */
export async function testStore(t: Teardown): Promise<Store> {
  let store: Store | undefined
  const close = async (): Promise<void> => { await store?.close() }
  const databaseUrl = await freshDatabaseUrl(t, close)
  store = await openStore({
    dataDir: MEMORY_DATA_DIR,
    databaseUrl,
    poolSize: 4,
    ...(!databaseUrl && { pgliteTemplate: await pgliteTemplate() }),
  })
  if (!databaseUrl) t.teardown(close)
  return store
}
