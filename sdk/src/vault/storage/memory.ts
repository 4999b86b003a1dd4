/**
 * In-memory vault storage, for tests, demos and examples. Deposits are
 * atomic because JavaScript runs the check and the insert without yielding.
 */
import type { AccountState, DepositRecord, DepositResult, VaultStorage } from './types.js'

const keyOf = (sender: string, messageId: string) => `${sender}\n${messageId}`

/**
 * A {@link VaultStorage} held in memory. Lost on restart.
 *
 * @example
 * ```ts
 * const storage = new MemoryVaultStorage()
 * const kit = new VaultKit({ operatorId: 'vault-b.example', signingKey, encryptionKeys, storage, resolveNodeKey })
 * const address = await kit.openAccount()
 * ```
 */
export class MemoryVaultStorage implements VaultStorage {
  #accounts = new Map<string, AccountState>()
  #deposits = new Map<string, { record: DepositRecord; document: Uint8Array }>()
  #byAddress = new Map<string, string[]>()

  /** The account state of an address. */
  async account(address: string): Promise<AccountState | undefined> {
    const state = this.#accounts.get(address)
    return state ? { ...state } : undefined
  }

  /** Open an account (idempotent; a moved account stays moved). */
  async openAccount(address: string): Promise<void> {
    if (!this.#accounts.has(address)) this.#accounts.set(address, { status: 'active' })
  }

  /**
   * Mark an account as moved to another operator (after a port). Relays for
   * it then answer `recipient-moved`.
   *
   * @example
   * ```ts
   * await storage.markMoved(address, 'vault-c.example')
   * ```
   */
  async markMoved(address: string, operator: string): Promise<void> {
    this.#accounts.set(address, { status: 'moved', operator })
  }

  /** The deposit of a message. */
  async findDeposit(sender: string, messageId: string): Promise<DepositRecord | undefined> {
    return structuredClone(this.#deposits.get(keyOf(sender, messageId))?.record)
  }

  /** Store a document; unique on (sender, messageId). */
  async deposit(record: DepositRecord, document: Uint8Array): Promise<DepositResult> {
    const key = keyOf(record.sender, record.messageId)
    const existing = this.#deposits.get(key)
    if (existing) return { inserted: false, record: structuredClone(existing.record) }
    this.#deposits.set(key, { record: structuredClone(record), document: new Uint8Array(document) })
    const keys = this.#byAddress.get(record.address) ?? []
    keys.push(key)
    this.#byAddress.set(record.address, keys)
    return { inserted: true, record: structuredClone(record) }
  }

  /** Every deposit of an address, oldest first. */
  async list(address: string): Promise<DepositRecord[]> {
    return (this.#byAddress.get(address) ?? []).map((k) => structuredClone(this.#deposits.get(k)!.record))
  }

  /** The document bytes of a deposit. */
  async read(address: string, messageId: string): Promise<Uint8Array | undefined> {
    for (const k of this.#byAddress.get(address) ?? []) {
      const entry = this.#deposits.get(k)!
      if (entry.record.messageId === messageId) return new Uint8Array(entry.document)
    }
    return undefined
  }

  /** Number of stored deposits (for tests and metrics). */
  get size(): number {
    return this.#deposits.size
  }
}
