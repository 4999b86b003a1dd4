// `timbre stamps ledger --sender 0009:… [--period YYYY-MM] [--csv | --json]`
import { statementCsv } from '@timbre/sdk'
import { loadConfig } from '../config/load-config.js'
import { Metering, monthBounds } from '../domain/metering.js'
import { loadOrCreateNodeKeys } from '../domain/node-keys.js'
import { NodeKeysRepository } from '../store/node-keys-repository.js'
import { requireFlag, type Flags } from './args.js'
import type { CliIo } from './io.js'
import { withStore } from './offline-store.js'

export const usage = 'timbre stamps ledger --sender <icd:value> [--period YYYY-MM] [--csv | --json]'
export const options = { sender: { type: 'string' }, period: { type: 'string' }, csv: { type: 'boolean' }, json: { type: 'boolean' } } as const

export async function stampsLedger(flags: Flags, io: CliIo): Promise<number> {
  const config = loadConfig({ env: io.env, flags })
  const sender = requireFlag(flags, 'sender')
  const bounds = typeof flags.period === 'string' ? monthBounds(flags.period) : undefined
  const entries = await withStore(config, async (store) => {
    const { keyring } = await loadOrCreateNodeKeys(new NodeKeysRepository(store.db))
    return new Metering({ config, db: store.db, keys: keyring, now: () => new Date() }).ledger(sender, bounds?.from, bounds?.to)
  })
  if (flags.json) io.out(JSON.stringify({ entries }, null, 2))
  else if (flags.csv) io.out(statementCsv(entries).trimEnd())
  else if (entries.length === 0) io.out('no ledger entries')
  else for (const e of entries) io.out(`${e.sequence}\t${e.time}\t${e.kind}\t${e.stampClass ?? '-'}\t${e.amount}\t${e.currency}\t${e.messageId ?? e.reference ?? ''}\t${e.balanceAfter}`)
  return 0
}
