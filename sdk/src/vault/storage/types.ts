/**
 * The storage a vault vendor plugs into {@link VaultKit}. The kit does all
 * protocol work (verification, decryption, evidence); the storage only keeps
 * accounts and deposits, and guarantees one deposit per (sender, messageId).
 */
import type { Readable } from 'node:stream'
import type { Digest } from '../../protocol/digest.js'
import type { EnvelopeMetadata } from '../../protocol/envelope.js'
import type { PublicJwk } from '../../protocol/keys.js'

/** The state of a vault account as the relay handler needs it. */
export type AccountState =
  | {
      /** The address is hosted here. */
      status: 'active'
    }
  | {
      /** The address left by port. */
      status: 'moved'
      /** The operator now hosting it (sent in `recipient-moved`). */
      operator: string
    }

/** One deposited document, with everything needed to prove its arrival later. */
export interface DepositRecord {
  /** The recipient vault address (normal form). */
  address: string
  /** The sender's organisation id. */
  sender: string
  /** The sender's message id. */
  messageId: string
  /** The verified envelope metadata. */
  metadata: EnvelopeMetadata
  /** The envelope JWS exactly as received (the sender's signature). */
  envelope: string
  /** The sender public key the envelope was verified with (to re-verify it years later). */
  senderKey: PublicJwk
  /** The routing node's stamp JWS. */
  stamp: string
  /** The DepositAcceptance evidence JWS this operator signed. */
  evidence: string
  /** When the document was deposited (RFC 3339). */
  depositedAt: string
  /** Size of the document in bytes. */
  size: number
  /** Digest of the document bytes. */
  digest: Digest
  /**
   * Every evidence of the document in chain order (stamp, deposit evidence,
   * Handover, ContentImport…), when it has more than `stamp` and `evidence`:
   * set for documents imported from an archive (TMB-ARC-003).
   */
  chain?: string[]
  /**
   * Set on a document imported from an archive while another document was
   * already held under the same (sender, messageId) with another digest: it
   * is kept as an additional document linked to that one (TMB-ARC-010).
   */
  conflictOf?: { sender: string; messageId: string }
}

/** One entry of a vault's journal (TMB-RLY-019), one JSON object per line in archives. */
export interface JournalEntry {
  /** When it happened (RFC 3339). */
  at: string
  /** What happened: `deposit`, `access`, `export`, `import`, `port`, `deletion`… */
  event: string
  /** The document concerned, when one is. */
  messageId?: string
  /** Its sender. */
  sender?: string
  /** Free detail (never document content). */
  detail?: string
  /** Further members written by other operators are kept as they are. */
  [member: string]: unknown
}

/** One document of an archive import, verified and ready to store. */
export interface ImportItem {
  /** The record to store; `evidence` is the new ContentImport and `chain` the whole chain. */
  record: DepositRecord
  /** The document bytes, opened as a stream (staged on disk or in memory). */
  open: () => Readable
}

/** The answer of an archive import (the archive-import-response body, TMB-ARC-008). */
export interface ArchiveImportResponse {
  /** The port the archive belongs to (a fresh id for an import outside a port). */
  portId: string
  /** The imported address. */
  address: string
  /** Documents imported now (conflicting ones included). */
  imported: number
  /** Documents already held with the same digest. */
  skipped: number
  /** Documents already held under the same (sender, messageId) with another digest, kept as additional. */
  conflicts: Array<{ sender: string; messageId: string }>
  /** One ContentImport evidence JWS per imported document. */
  evidence: string[]
}

/** What {@link VaultStorage.commitImport} stores in one go. */
export interface ImportBatch {
  /** The idempotency key of the import: the port id, or a digest of the manifest. */
  key: string
  /** The address imported into (its account is opened when needed). */
  address: string
  /** The documents to insert; those with `conflictOf` are additional documents. */
  items: ImportItem[]
  /** Journal entries to append (the donor's journal, then the import itself). */
  journal: JournalEntry[]
  /** The answer, kept so that a repeated transfer gets the same body. */
  response: ArchiveImportResponse
}

/** The answer of {@link VaultStorage.deposit}. */
export interface DepositResult {
  /** False when a deposit for the same (sender, messageId) already existed. */
  inserted: boolean
  /** The stored record: the new one, or the one that was there first. */
  record: DepositRecord
}

/**
 * What a vault keeps. Implementations must make {@link VaultStorage.deposit}
 * atomic and unique on (sender, messageId): under any concurrency, exactly one
 * call inserts, every other returns the existing record with `inserted: false`.
 *
 * @example
 * ```ts
 * class PgVaultStorage implements VaultStorage {
 *   async deposit(record: DepositRecord, document: Uint8Array) {
 *     const row = await db.insertInto('deposits').values({ ...toRow(record), document })
 *       .onConflict((oc) => oc.columns(['sender', 'message_id']).doNothing()).returningAll().executeTakeFirst()
 *     return row ? { inserted: true, record } : { inserted: false, record: (await this.findDeposit(record.sender, record.messageId))! }
 *   }
 *   // account, findDeposit, list, read, openAccount …
 * }
 * ```
 */
export interface VaultStorage {
  /** The account of an address, or undefined when it is not hosted here. */
  account(address: string): Promise<AccountState | undefined>
  /** The deposit of a message, wherever it was deposited. */
  findDeposit(sender: string, messageId: string): Promise<DepositRecord | undefined>
  /** Store a document atomically, unique on (sender, messageId). */
  deposit(record: DepositRecord, document: Uint8Array): Promise<DepositResult>
  /** Every deposit of an address, oldest first. */
  list(address: string): Promise<DepositRecord[]>
  /** The document bytes of a deposit, or undefined. */
  read(address: string, messageId: string): Promise<Uint8Array | undefined>
  /** Open an account for a new address (idempotent). */
  openAccount(address: string): Promise<void>

  // Portability (chapter 9). Optional so that existing storages keep compiling;
  // the kit falls back to the methods above where it can.

  /**
   * Mark an address as moved to `operator`, from `at` (default now). Until `at`
   * the account stays active (TMB-PORT-021); from `at` {@link VaultStorage.account}
   * answers `moved`, so relays get `recipient-moved` (TMB-PORT-023).
   */
  markMoved?(address: string, operator: string, at?: string): Promise<void>
  /** Undo a scheduled move that has not taken effect (objection or cancellation, TMB-PORT-017/020). */
  cancelMove?(address: string, operator: string): Promise<void>
  /** The document bytes as a stream, so that exports never hold a document whole. Fallback: {@link VaultStorage.read}. */
  openDocument?(address: string, messageId: string): Promise<Readable | undefined>
  /** The journal of an address, oldest first. Fallback: one `deposit` entry per record. */
  journal?(address: string): Promise<JournalEntry[]>
  /** Append one journal entry. Without it, exports and imports are not journaled. */
  appendJournal?(address: string, entry: JournalEntry): Promise<void>
  /**
   * Store a verified archive import all or nothing (TMB-ARC-007): every item,
   * the journal entries and the response, or nothing. When an import with the
   * same `key` was committed before, store nothing and return its response with
   * `repeated: true` (TMB-ARC-008). An item whose (sender, messageId) was taken
   * meanwhile by a relay must make the whole commit fail with `message-id-conflict`
   * so the kit can classify it again. Without this method the kit deposits item
   * by item and cannot keep conflicting documents.
   */
  commitImport?(batch: ImportBatch): Promise<{ repeated: boolean; response: ArchiveImportResponse }>
  /** The response of an import committed under `key`, if any. */
  findImport?(key: string): Promise<ArchiveImportResponse | undefined>

  // Handover (7.6). Optional: without it the kit issues no Handover evidence
  // and the operator does not support the feature `handover`.

  /**
   * Keep the Handover evidence of a deposit, once: atomically, only when the
   * deposit has none yet, appending it to the record's evidence (its `chain`).
   * Returns `inserted: false` and the Handover kept first when there was one.
   * A storage with a durable queue also enqueues the push to the stamp's
   * issuer here, in the same transaction (TMB-EVD-015).
   */
  recordHandover?(record: DepositRecord, handover: string): Promise<{ inserted: boolean; handover: string }>
}
