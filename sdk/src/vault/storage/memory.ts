/**
 * In-memory vault storage, for tests, demos and examples. Deposits are
 * atomic because JavaScript runs the check and the insert without yielding.
 */
import { TimbreError } from '../../errors.js'
import { Readable } from 'node:stream'
import type { AccountState, ArchiveImportResponse, DepositRecord, DepositResult, ImportBatch, JournalEntry, VaultStorage } from './types.js'

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
  #moves = new Map<string, { operator: string; at: number }>()
  #journals = new Map<string, JournalEntry[]>()
  #imports = new Map<string, ArchiveImportResponse>()
  #handovers = new Map<string, string>()
  #extra = 0

  /** The account state of an address; a scheduled move counts from its time (TMB-RLY-012). */
  async account(address: string): Promise<AccountState | undefined> {
    const move = this.#moves.get(address)
    if (move && Date.now() >= move.at) {
      this.#accounts.set(address, { status: 'moved', operator: move.operator })
      this.#moves.delete(address)
    }
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
   * await storage.markMoved(other, 'vault-c.example', port.cutoverAt) // from the cut-over on
   * ```
   */
  async markMoved(address: string, operator: string, at?: string): Promise<void> {
    const when = at ? Date.parse(at) : Date.now()
    if (when > Date.now()) this.#moves.set(address, { operator, at: when })
    else this.#accounts.set(address, { status: 'moved', operator })
  }

  /**
   * Undo a scheduled move to `operator` that has not taken effect.
   *
   * @example
   * ```ts
   * await storage.cancelMove(address, 'vault-c.example')
   * ```
   */
  async cancelMove(address: string, operator: string): Promise<void> {
    if (this.#moves.get(address)?.operator === operator) this.#moves.delete(address)
  }

  /**
   * The document bytes as a stream.
   *
   * @example
   * ```ts
   * const stream = await storage.openDocument(address, messageId)
   * ```
   */
  async openDocument(address: string, messageId: string): Promise<Readable | undefined> {
    const bytes = await this.read(address, messageId)
    return bytes ? Readable.from([Buffer.from(bytes)]) : undefined
  }

  /**
   * The journal of an address, oldest first.
   *
   * @example
   * ```ts
   * for (const e of await storage.journal(address)) console.log(e.at, e.event)
   * ```
   */
  async journal(address: string): Promise<JournalEntry[]> {
    return structuredClone(this.#journals.get(address) ?? [])
  }

  /**
   * Append a journal entry.
   *
   * @example
   * ```ts
   * await storage.appendJournal(address, { at: new Date().toISOString(), event: 'access', messageId })
   * ```
   */
  async appendJournal(address: string, entry: JournalEntry): Promise<void> {
    const list = this.#journals.get(address) ?? []
    list.push(structuredClone(entry))
    this.#journals.set(address, list)
  }

  /**
   * Store a verified archive import, all or nothing: every document is read
   * first, then everything is inserted without yielding.
   *
   * @example
   * ```ts
   * const { repeated, response } = await storage.commitImport(batch)
   * ```
   */
  async commitImport(batch: ImportBatch): Promise<{ repeated: boolean; response: ArchiveImportResponse }> {
    const done = this.#imports.get(batch.key)
    if (done) return { repeated: true, response: structuredClone(done) }
    const documents: Uint8Array[] = []
    for (const item of batch.items) {
      const chunks: Buffer[] = []
      for await (const chunk of item.open()) chunks.push(Buffer.from(chunk as Uint8Array))
      documents.push(Buffer.concat(chunks))
    }
    // From here on nothing yields: the checks and the inserts are one step.
    const again = this.#imports.get(batch.key)
    if (again) return { repeated: true, response: structuredClone(again) }
    for (const { record } of batch.items) {
      if (!record.conflictOf && this.#deposits.has(keyOf(record.sender, record.messageId))) {
        throw new TimbreError('message-id-conflict', { detail: 'a document of the archive was deposited meanwhile' })
      }
    }
    if (!this.#accounts.has(batch.address)) this.#accounts.set(batch.address, { status: 'active' })
    batch.items.forEach(({ record }, i) => {
      const key = record.conflictOf ? `${keyOf(record.sender, record.messageId)}\n#${++this.#extra}` : keyOf(record.sender, record.messageId)
      this.#deposits.set(key, { record: structuredClone(record), document: documents[i]! })
      const keys = this.#byAddress.get(record.address) ?? []
      keys.push(key)
      this.#byAddress.set(record.address, keys)
    })
    const journal = this.#journals.get(batch.address) ?? []
    journal.push(...structuredClone(batch.journal))
    this.#journals.set(batch.address, journal)
    this.#imports.set(batch.key, structuredClone(batch.response))
    return { repeated: false, response: structuredClone(batch.response) }
  }

  /**
   * The response of an import committed under `key`.
   *
   * @example
   * ```ts
   * const earlier = await storage.findImport(portId)
   * ```
   */
  async findImport(key: string): Promise<ArchiveImportResponse | undefined> {
    return structuredClone(this.#imports.get(key))
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
    this.#journals.set(record.address, [
      ...(this.#journals.get(record.address) ?? []),
      { at: record.depositedAt, event: 'deposit', messageId: record.messageId, sender: record.sender },
    ])
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

  /**
   * Keep the first Handover of a deposit, appended to its chain.
   *
   * @example
   * ```ts
   * const { inserted } = await storage.recordHandover(record, handoverJws)
   * ```
   */
  async recordHandover(record: DepositRecord, handover: string): Promise<{ inserted: boolean; handover: string }> {
    const entry = this.#deposits.get(keyOf(record.sender, record.messageId))
    if (!entry) throw new TimbreError('not-found', { detail: 'no such deposit' })
    const kept = this.#handovers.get(keyOf(record.sender, record.messageId))
    if (kept) return { inserted: false, handover: kept }
    this.#handovers.set(keyOf(record.sender, record.messageId), handover)
    const chain = entry.record.chain?.length ? entry.record.chain : [entry.record.stamp, entry.record.evidence]
    entry.record.chain = [...chain, handover]
    return { inserted: true, handover }
  }

  /** Number of stored documents, additional ones included (for tests and metrics). */
  get size(): number {
    return this.#deposits.size
  }
}
