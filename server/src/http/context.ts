// What route plugins receive: the node's collaborators, nothing global.
import type { Kysely } from 'kysely'
import type { NodeConfig } from '../config/schema.js'
import type { DirectoryView } from '../domain/directory-view.js'
import type { NodeKeyring } from '../domain/node-keys.js'
import type { SenderRegistry } from '../domain/senders.js'
import type { Database } from '../store/schema.js'

export interface AppContext {
  readonly config: NodeConfig
  readonly db: Kysely<Database>
  readonly keys: NodeKeyring
  readonly senders: SenderRegistry
  /** The directory this node consults: its own (directory role) or the one at directoryUrl. */
  readonly directory: DirectoryView
  readonly adminToken: string | null
  /** The base URL this node announces (see base-url.ts). */
  baseUrl(): string
  /** True once shutdown has begun: /ready answers 503 so balancers drain us. */
  draining(): boolean
}
