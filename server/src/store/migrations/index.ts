// Static migration list: bundlers and compiled output need no directory scan.
// Names sort in application order; add new files at the end.
import type { Migration, MigrationProvider } from 'kysely'
import * as m0001 from './0001-node-keys-and-senders.js'
import * as m0002 from './0002-replay-nonces.js'
import * as m0003 from './0003-directory.js'
import * as m0004 from './0004-vault.js'
import * as m0005 from './0005-deliveries.js'
import * as m0009 from './0009-metering.js'
import * as m0010 from './0010-statements.js'
import * as m0007 from './0007-porting.js'
import * as m0008 from './0008-directory-replica.js'
import * as m0011 from './0011-handover.js'
import * as m0012 from './0012-ciphertext-storage.js'
import * as m0013 from './0013-port-request-failures.js'
import * as m0014 from './0014-ported-purge.js'

export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001-node-keys-and-senders': m0001,
  '0002-replay-nonces': m0002,
  '0003-directory': m0003,
  '0004-vault': m0004,
  '0005-deliveries': m0005,
  '0007-porting': m0007,
  '0008-directory-replica': m0008,
  '0009-metering': m0009,
  '0010-statements': m0010,
  '0011-handover': m0011,
  '0012-ciphertext-storage': m0012,
  '0013-port-request-failures': m0013,
  '0014-ported-purge': m0014,
}

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
}
