// Commands that work on the database directly (no running node needed):
// they open the configured data dir or DATABASE_URL, migrate, and close.
// On PGlite the data dir lock refuses while a node is running there.
import type { NodeConfig } from '../config/schema.js'
import { openStore, type Store } from '../store/db.js'

export async function withStore<T>(config: NodeConfig, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, poolSize: 2 })
  try {
    return await fn(store)
  } finally {
    await store.close()
  }
}
