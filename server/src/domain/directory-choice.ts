// Which DirectoryView a node uses: its own store when it plays the directory
// role, otherwise the directory at `directoryUrl` over HTTP.
import type { PublicJwk } from '@timbre/sdk'
import type { Kysely } from 'kysely'
import type { NodeConfig } from '../config/schema.js'
import { NodeError } from '../errors.js'
import type { Database } from '../store/schema.js'
import type { DirectoryView, OperatorRecord, ResolvedLine } from './directory-view.js'
import type { HostedAddressRegistrar } from './hosted-registrar.js'
import { LocalDirectory } from './local-directory.js'
import type { NodeKeyring } from './node-keys.js'
import { RemoteDirectory } from './remote-directory.js'

/**
 * A node with neither the directory role nor a directoryUrl: it starts (its
 * discovery and admin API work) but every directory question answers 503.
 */
export class MissingDirectory implements DirectoryView, HostedAddressRegistrar {
  readonly kind = 'missing'
  #fail(): never {
    throw new NodeError('unavailable', { detail: 'this node has no directory: set directoryUrl (TIMBRE_DIRECTORY_URL) or the directory role', retryAfter: 60 })
  }
  async lookup(): Promise<ResolvedLine | undefined> { return this.#fail() }
  async operator(): Promise<OperatorRecord | undefined> { return this.#fail() }
  async nodeKey(): Promise<PublicJwk | undefined> { return this.#fail() }
  async directoryKeys(): Promise<PublicJwk[]> { return this.#fail() }
  async registerHosted(): Promise<ResolvedLine> { return this.#fail() }
}

export type NodeDirectory = LocalDirectory | RemoteDirectory | MissingDirectory

export function createDirectory(config: NodeConfig, db: Kysely<Database>, keys: NodeKeyring): NodeDirectory {
  if (config.roles.includes('directory')) return new LocalDirectory(db, config.nodeId, keys)
  if (!config.directoryUrl) return new MissingDirectory()
  return new RemoteDirectory({ directoryUrl: config.directoryUrl, nodeId: config.nodeId, signingKey: keys.signingKey })
}
