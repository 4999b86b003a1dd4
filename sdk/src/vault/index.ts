/**
 * The vault operator side of Timbre: {@link VaultKit} receives relays,
 * verifies and decrypts them, stores documents through a {@link VaultStorage},
 * and signs deposit evidence.
 * @module
 */
export { VaultKit, type VaultKitOptions, type VerifiedDeposit } from './vault-kit.js'
export {
  createRelayHandler,
  DEFAULT_MAX_CONTENT_BYTES,
  DEFAULT_MAX_REQUEST_BYTES,
  type RelayHandler,
  type RelayHandlerOptions,
  type RelayRequest,
  type RelayResponse,
  type NodeKeyResolver,
  type DirectoryKeyResolver,
  type RelayLogger,
} from './relay-handler.js'
export { relayPlugin, type RelayPluginOptions } from './fastify-plugin.js'
export { MemoryReplayStore, type ReplayStore } from './replay-store.js'
export type { VaultStorage, DepositRecord, DepositResult, AccountState } from './storage/types.js'
export { MemoryVaultStorage } from './storage/memory.js'
export { FsVaultStorage } from './storage/fs.js'
