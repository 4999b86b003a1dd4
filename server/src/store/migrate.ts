import { Migrator, type Kysely } from 'kysely'
import { migrationProvider } from './migrations/index.js'

/**
 * Bring the schema up to date. Kysely takes an advisory lock on PostgreSQL,
 * so several processes starting at once apply each migration once.
 */
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: migrationProvider, migrationTableName: 'timbre_migrations', migrationLockTableName: 'timbre_migrations_lock' })
  const { error, results } = await migrator.migrateToLatest()
  if (error) throw new Error(`database migration failed: ${(error as Error).message ?? String(error)}`, { cause: error })
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName)
}
