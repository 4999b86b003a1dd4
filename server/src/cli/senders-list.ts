// `timbre senders list [--json]`
import { loadConfig } from '../config/load-config.js'
import { SenderRegistry, type Sender } from '../domain/senders.js'
import { SendersRepository } from '../store/senders-repository.js'
import type { Flags } from './args.js'
import type { CliIo } from './io.js'
import { withStore } from './offline-store.js'

export const usage = 'timbre senders list [--json]'
export const options = { json: { type: 'boolean' } } as const

export async function sendersList(flags: Flags, io: CliIo): Promise<number> {
  const config = loadConfig({ env: io.env, flags })
  const senders: Sender[] = await withStore(config, async (store) => {
    const registry = new SenderRegistry(new SendersRepository(store.db))
    const all: Sender[] = []
    for (let page = await registry.list(); page.length > 0; page = await registry.list({ after: page[page.length - 1]!.id })) {
      all.push(...page)
    }
    return all
  })
  if (flags.json) {
    io.out(JSON.stringify({ senders }, null, 2))
  } else if (senders.length === 0) {
    io.out('no senders registered')
  } else {
    for (const s of senders) io.out(`${s.id}\t${s.status}\t${s.kid}\t${s.webhookUrl ?? '-'}\t${s.name ?? ''}`)
  }
  return 0
}
