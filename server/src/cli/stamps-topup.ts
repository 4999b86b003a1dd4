// `timbre stamps topup --sender 0009:… --amount 5000 [--reference …]`
import { loadConfig } from '../config/load-config.js'
import { Metering } from '../domain/metering.js'
import { loadOrCreateNodeKeys } from '../domain/node-keys.js'
import { NodeKeysRepository } from '../store/node-keys-repository.js'
import { requireFlag, UsageError, type Flags } from './args.js'
import type { CliIo } from './io.js'
import { withStore } from './offline-store.js'

export const usage = 'timbre stamps topup --sender <icd:value> --amount <minor units> [--reference <operator action>]'
export const options = { sender: { type: 'string' }, amount: { type: 'string' }, reference: { type: 'string' } } as const

export async function stampsTopup(flags: Flags, io: CliIo): Promise<number> {
  const config = loadConfig({ env: io.env, flags })
  const sender = requireFlag(flags, 'sender')
  const raw = requireFlag(flags, 'amount')
  if (!/^[1-9]\d{0,14}$/.test(raw)) throw new UsageError('--amount must be a positive integer (minor units)')
  const reference = typeof flags.reference === 'string' && flags.reference ? flags.reference : `cli top-up ${new Date().toISOString()}`
  const entry = await withStore(config, async (store) => {
    const { keyring } = await loadOrCreateNodeKeys(new NodeKeysRepository(store.db))
    return new Metering({ config, db: store.db, keys: keyring, now: () => new Date() }).topup(sender, Number(raw), reference)
  })
  io.out(`${entry.sender}\ttopup\t${entry.amount} ${entry.currency}\tbalance ${entry.balanceAfter}\tsequence ${entry.sequence}`)
  return 0
}
