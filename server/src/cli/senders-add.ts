// `timbre senders add --id 0009:… --jwk sender.pub.json [--webhook url] [--name …]`
import { readFileSync } from 'node:fs'
import { loadConfig } from '../config/load-config.js'
import { SenderRegistry } from '../domain/senders.js'
import { SendersRepository } from '../store/senders-repository.js'
import { requireFlag, UsageError, type Flags } from './args.js'
import type { CliIo } from './io.js'
import { withStore } from './offline-store.js'

export const usage = 'timbre senders add --id <icd:value> --jwk <public-jwk.json> [--webhook <url>] [--name <name>]'
export const options = { id: { type: 'string' }, jwk: { type: 'string' }, webhook: { type: 'string' }, name: { type: 'string' } } as const

function readJwk(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'))
  } catch (err) {
    throw new UsageError(`--jwk ${path}: ${(err as Error).message}`)
  }
}

export async function sendersAdd(flags: Flags, io: CliIo): Promise<number> {
  const id = requireFlag(flags, 'id')
  const jwk = readJwk(requireFlag(flags, 'jwk'))
  const config = loadConfig({ env: io.env, flags })
  const sender = await withStore(config, (store) =>
    new SenderRegistry(new SendersRepository(store.db)).register({
      id,
      jwk,
      webhookUrl: typeof flags.webhook === 'string' ? flags.webhook : null,
      ...(typeof flags.name === 'string' && { name: flags.name }),
    }),
  )
  io.out(JSON.stringify(sender, null, 2))
  return 0
}
