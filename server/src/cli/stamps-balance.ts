// `timbre stamps balance --sender 0009:… [--json]`
import { loadConfig } from '../config/load-config.js'
import { Metering } from '../domain/metering.js'
import { loadOrCreateNodeKeys } from '../domain/node-keys.js'
import { NodeKeysRepository } from '../store/node-keys-repository.js'
import { requireFlag, type Flags } from './args.js'
import type { CliIo } from './io.js'
import { withStore } from './offline-store.js'

export const usage = 'timbre stamps balance --sender <icd:value> [--json]'
export const options = { sender: { type: 'string' }, json: { type: 'boolean' } } as const

export async function stampsBalance(flags: Flags, io: CliIo): Promise<number> {
  const config = loadConfig({ env: io.env, flags })
  const sender = requireFlag(flags, 'sender')
  const b = await withStore(config, async (store) => {
    const { keyring } = await loadOrCreateNodeKeys(new NodeKeysRepository(store.db))
    return new Metering({ config, db: store.db, keys: keyring, now: () => new Date() }).balance(sender)
  })
  if (flags.json) io.out(JSON.stringify(b, null, 2))
  else io.out(`${b.sender}\tbalance ${b.balance} ${b.currency}\tcredit limit ${b.creditLimit}\tavailable ${b.available}`)
  return 0
}
