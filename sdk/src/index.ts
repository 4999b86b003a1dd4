/**
 * The Timbre SDK: protocol nouns, the sender client, the vault kit, and
 * offline verification of evidence.
 * @module
 */
export * from './errors.js'
export * from './protocol/index.js'
export {
  TimbreClient,
  type TimbreClientOptions,
  type DeliverInput,
  type DeliveryReceipt,
  type DeliveryState,
  type VerifiedEvidence,
  type WebhookEvent,
  type WaitForDeliveryOptions,
  type RetryOptions,
  type RerouteDocument,
  type PlaintextCacheOptions,
  StampsApi,
  periodBounds,
  type StampUsage,
  type VerifiedStatement,
} from './client/index.js'
export {
  VaultKit,
  createRelayHandler,
  MemoryVaultStorage,
  FsVaultStorage,
  MemoryReplayStore,
  type VaultKitOptions,
  type VaultStorage,
  type DepositRecord,
  type DepositResult,
  type AccountState,
  type ReplayStore,
  type RelayHandler,
  type RelayHandlerOptions,
  type RelayRequest,
  type RelayResponse,
  type NodeKeyResolver,
  type Port,
  type PortStatus,
  type PortConsent,
  type PortDecision,
  type PortRequestHandler,
  type IssuedPortingCode,
  type ObjectionReasonCode,
  type JournalEntry,
  type ArchiveImportResponse,
  type ImportArchiveOptions,
  type ExportArchiveOptions,
  type TransferArchiveOptions,
} from './vault/index.js'
