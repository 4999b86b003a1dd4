// `timbre senders disable --id …` and `timbre senders enable --id …`
import { loadConfig } from '../config/load-config.js'
import { SenderRegistry } from '../domain/senders.js'
import type { SenderStatus } from '../store/senders-repository.js'
import { SendersRepository } from '../store/senders-repository.js'
import { requireFlag, type Flags } from './args.js'
import type { CliIo } from './io.js'
import { withStore } from './offline-store.js'

export const disableUsage = 'timbre senders disable --id <icd:value>'
export const enableUsage = 'timbre senders enable --id <icd:value>'
export const options = { id: { type: 'string' } } as const

export function sendersSetStatus(status: SenderStatus) {
  return async (flags: Flags, io: CliIo): Promise<number> => {
    const id = requireFlag(flags, 'id')
    const config = loadConfig({ env: io.env, flags })
    const sender = await withStore(config, (store) => new SenderRegistry(new SendersRepository(store.db)).update(id, { status }))
    io.out(`${sender.id}\t${sender.status}`)
    return 0
  }
}
