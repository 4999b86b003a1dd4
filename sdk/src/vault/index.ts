/**
 * The vault operator side of Timbre: {@link VaultKit} receives relays,
 * verifies and decrypts them, stores documents through a {@link VaultStorage},
 * and signs deposit evidence.
 * @module
 */
export {
  VaultKit,
  type VaultKitOptions,
  type VerifiedDeposit,
  type IssuePortingCodeOptions,
  type PortInRequest,
  type VaultImportOptions,
  type HandoverOptions,
  type OpenedDocument,
} from './vault-kit.js'
export {
  signHandover,
  pushEvidence,
  evidenceEndpoint,
  handoverApplies,
  type HandoverClasses,
  type IssuedHandover,
  type EvidencePushResult,
  type PushEvidenceOptions,
} from './handover.js'
export {
  OBJECTION_REASON_CODES,
  type ObjectionReasonCode,
  type Port,
  type PortStatus,
  type PortConsent,
  type PortDecision,
  type PortRequestHandler,
  type IssuedPortingCode,
  type NodeRequest,
  type NodeResponse,
} from './porting-types.js'
export { DirectoryPortingClient, type DirectoryPortingClientOptions } from './porting-directory.js'
export { portingPlugin, type PortingPluginHandlers } from './porting-plugin.js'
export { contentExtension, type ExportArchiveOptions } from './archive-export.js'
export type { ImportArchiveOptions } from './archive-import.js'
export type { ArchiveImportRequest } from './archive-handler.js'
export { archiveImportUrl, TRANSFER_RETRY, type TransferArchiveOptions } from './archive-transfer.js'
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
export type {
  VaultStorage,
  DepositRecord,
  DepositResult,
  AccountState,
  JournalEntry,
  ImportItem,
  ImportBatch,
  ArchiveImportResponse,
} from './storage/types.js'
export { MemoryVaultStorage } from './storage/memory.js'
export { FsVaultStorage } from './storage/fs.js'
