/**
 * The storage a vault vendor plugs into {@link VaultKit}. The kit does all
 * protocol work (verification, decryption, evidence); the storage only keeps
 * accounts and deposits, and guarantees one deposit per (sender, messageId).
 */
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
}
