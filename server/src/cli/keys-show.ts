// `timbre keys show`: the node's public keys (the JWKS), never private members.
import { loadConfig } from '../config/load-config.js'
import { NodeKeyring } from '../domain/node-keys.js'
import { NodeKeysRepository } from '../store/node-keys-repository.js'
import type { Flags } from './args.js'
import type { CliIo } from './io.js'
import { withStore } from './offline-store.js'

export const usage = 'timbre keys show                   print the node\'s public keys (JWKS)'

export async function keysShow(flags: Flags, io: CliIo): Promise<number> {
  const config = loadConfig({ env: io.env, flags })
  const records = await withStore(config, (store) => new NodeKeysRepository(store.db).list())
  if (records.length === 0) {
    io.err('no node keys yet: they are created when the node first starts (timbre start)')
    return 1
  }
  io.out(JSON.stringify(new NodeKeyring(records).jwks(), null, 2))
  return 0
}
