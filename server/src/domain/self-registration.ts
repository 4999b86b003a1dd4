// A node whose own directory is local admits itself as an operator at every
// start (its keys may have rotated): without a record, no line can point to
// its vault role and no vault would trust its relays. With a remote
// directory this is the directory operator's admin job (README).
import type { NodeConfig } from '../config/schema.js'
import type { NodeDirectory } from './directory-choice.js'
import { LocalDirectory } from './local-directory.js'
import type { NodeKeyring } from './node-keys.js'

const SELF_ROLES = new Set(['routing-node', 'vault-operator'])

/** True when the node upserted itself into its local operators table. */
export async function registerSelfIfLocal(directory: NodeDirectory, config: NodeConfig, keys: NodeKeyring, baseUrl: string): Promise<boolean> {
  if (!(directory instanceof LocalDirectory) || !config.roles.some((r) => SELF_ROLES.has(r))) return false
  await directory.operators.register({
    id: config.nodeId,
    roles: [...config.roles],
    baseUrl,
    relayEndpoint: `${baseUrl}/v1/relay`,
    // Current and retired keys with their windows: old stamps still verify.
    jwks: keys.jwks(),
    status: 'active',
  })
  return true
}
