// Static migration list: bundlers and compiled output need no directory scan.
// Names sort in application order; add new files at the end.
import type { Migration, MigrationProvider } from 'kysely'
import * as m0001 from './0001-node-keys-and-senders.js'
import * as m0002 from './0002-replay-nonces.js'
import * as m0003 from './0003-directory.js'
import * as m0004 from './0004-vault.js'
import * as m0005 from './0005-deliveries.js'

export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001-node-keys-and-senders': m0001,
  '0002-replay-nonces': m0002,
  '0003-directory': m0003,
  '0004-vault': m0004,
  '0005-deliveries': m0005,
}

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
}
