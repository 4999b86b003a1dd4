// The vault-operator role's VaultStorage (SDK) on the node's database: a
// deposit is one INSERT … ON CONFLICT DO NOTHING, committed before VaultKit
// answers, so "deposited" is durable and unique per (sender, messageId)
// across every process sharing the database (TMB-RLY-009).
import { Readable } from 'node:stream'
import { decodeEvidence, TimbreError, type AccountState, type DepositRecord, type DepositResult, type VaultStorage } from '@timbre/sdk'
import type { ArchiveImportResponse, ImportBatch, JournalEntry } from '@timbre/sdk/vault'
import type { Kysely, Selectable, Transaction } from 'kysely'
import type { Database } from './schema.js'
import type { VaultDepositsTable } from './schema-directory.js'

export interface VaultAccountRow {
  address: string
  status: 'active' | 'moved'
  movedTo: string | null
  reference: string | null
  createdAt: Date
}

type DepositColumns = Omit<Selectable<VaultDepositsTable>, 'document' | 'handover'> & { handover?: string | null }

const RECORD_COLUMNS = ['sender', 'message_id', 'address', 'metadata', 'envelope', 'sender_key', 'stamp', 'evidence', 'size', 'digest', 'deposited_at', 'chain'] as const
// Deposits (not additional documents) may carry a Handover (migration 0011).
const DEPOSIT_COLUMNS = [...RECORD_COLUMNS, 'handover'] as const

function toRecord(r: DepositColumns & { conflict_of?: { sender: string; messageId: string } | null }): DepositRecord {
  // The Handover follows the rest of the chain (7.2): stamp, deposit evidence (or the imported chain), Handover.
  const chain = r.handover ? [...(r.chain?.length ? r.chain : [r.stamp, r.evidence]), r.handover] : r.chain
  return {
    ...(chain ? { chain } : {}),
    ...(r.conflict_of ? { conflictOf: r.conflict_of } : {}),
    address: r.address,
    sender: r.sender,
    messageId: r.message_id,
    metadata: r.metadata as unknown as DepositRecord['metadata'],
    envelope: r.envelope,
    senderKey: r.sender_key as unknown as DepositRecord['senderKey'],
    stamp: r.stamp,
    evidence: r.evidence,
    depositedAt: new Date(r.deposited_at).toISOString(),
    size: r.size,
    digest: r.digest as DepositRecord['digest'],
  }
}

export class VaultRepository implements VaultStorage {
  readonly #db: Kysely<Database>

  constructor(db: Kysely<Database>) {
    this.#db = db
  }

  /** A scheduled move counts from its time (TMB-PORT-021/023, TMB-RLY-012). */
  async account(address: string): Promise<AccountState | undefined> {
    const r = await this.#db.selectFrom('vault_accounts').select(['status', 'moved_to', 'move_to', 'move_at']).where('address', '=', address).executeTakeFirst()
    if (!r) return undefined
    if (r.status === 'moved') return { status: 'moved', operator: r.moved_to! }
    if (r.move_to && r.move_at && new Date(r.move_at).getTime() <= Date.now()) return { status: 'moved', operator: r.move_to }
    return { status: 'active' }
  }

  /** The full account row (admin views). */
  async accountRow(address: string): Promise<VaultAccountRow | undefined> {
    const r = await this.#db.selectFrom('vault_accounts').selectAll().where('address', '=', address).executeTakeFirst()
    return r && { address: r.address, status: r.status, movedTo: r.moved_to, reference: r.reference, createdAt: new Date(r.created_at) }
  }

  /** Idempotent; a moved account stays moved. */
  async openAccount(address: string): Promise<void> {
    await this.#db.insertInto('vault_accounts').values({ address, moved_to: null, reference: null }).onConflict((oc) => oc.column('address').doNothing()).execute()
  }

  /** The operator's own account reference (set once, when the account is opened). */
  async setReference(address: string, reference: string): Promise<void> {
    await this.#db.updateTable('vault_accounts').set({ reference }).where('address', '=', address).where('reference', 'is', null).execute()
  }

  /**
   * After a port out: from `at` (default now) relays answer recipient-moved.
   * A future `at` is a scheduled move: the account serves until then.
   */
  async markMoved(address: string, operator: string, at?: string): Promise<void> {
    const when = at ? new Date(at) : new Date()
    await this.#db.updateTable('vault_accounts').set({ move_to: operator, move_at: when }).where('address', '=', address).where('status', '=', 'active').execute()
  }

  /** Undo a scheduled move to `operator` (objection or cancellation, TMB-PORT-017/020). */
  async cancelMove(address: string, operator: string): Promise<void> {
    await this.#db.updateTable('vault_accounts').set({ move_to: null, move_at: null }).where('address', '=', address).where('move_to', '=', operator).execute()
  }

  /** Streamed from the database (one bytea read per document). */
  async openDocument(address: string, messageId: string): Promise<Readable | undefined> {
    const bytes = await this.read(address, messageId)
    return bytes ? Readable.from([Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)]) : undefined
  }

  async journal(address: string): Promise<JournalEntry[]> {
    const rows = await this.#db.selectFrom('vault_journal').select('entry').where('address', '=', address).orderBy('id').execute()
    return rows.map((r) => r.entry as JournalEntry)
  }

  async appendJournal(address: string, entry: JournalEntry): Promise<void> {
    await this.#db.insertInto('vault_journal').values({ address, entry: JSON.stringify(entry) }).execute()
  }

  async findImport(key: string): Promise<ArchiveImportResponse | undefined> {
    const r = await this.#db.selectFrom('vault_imports').select('response').where('key', '=', key).executeTakeFirst()
    return r ? (r.response as unknown as ArchiveImportResponse) : undefined
  }

  /**
   * One transaction: every document, the journal, and the response under the
   * key; a key committed before answers its response (TMB-ARC-007/-008). A
   * document deposited meanwhile by a relay fails the whole commit with
   * message-id-conflict, so the kit classifies again.
   */
  async commitImport(batch: ImportBatch): Promise<{ repeated: boolean; response: ArchiveImportResponse }> {
    const earlier = await this.findImport(batch.key)
    if (earlier) return { repeated: true, response: earlier }
    // Read the staged documents before the transaction (PGlite has one connection).
    const documents: Buffer[] = []
    for (const item of batch.items) {
      const chunks: Buffer[] = []
      for await (const chunk of item.open()) chunks.push(Buffer.from(chunk as Uint8Array))
      documents.push(Buffer.concat(chunks))
    }
    return this.#db.transaction().execute(async (trx) => {
      // Serialise imports of one key: the second waits, then sees the first.
      const claimed = await trx
        .insertInto('vault_imports')
        .values({ key: batch.key, address: batch.address, response: JSON.stringify(batch.response) })
        .onConflict((oc) => oc.column('key').doNothing())
        .returning('key')
        .executeTakeFirst()
      if (!claimed) {
        const r = await trx.selectFrom('vault_imports').select('response').where('key', '=', batch.key).executeTakeFirstOrThrow()
        return { repeated: true, response: r.response as unknown as ArchiveImportResponse }
      }
      await trx.insertInto('vault_accounts').values({ address: batch.address, moved_to: null, reference: null }).onConflict((oc) => oc.column('address').doNothing()).execute()
      for (const [i, { record }] of batch.items.entries()) {
        const row = {
          sender: record.sender,
          message_id: record.messageId,
          address: record.address,
          metadata: JSON.stringify(record.metadata),
          envelope: record.envelope,
          sender_key: JSON.stringify(record.senderKey),
          stamp: record.stamp,
          evidence: record.evidence,
          chain: record.chain ? JSON.stringify(record.chain) : null,
          document: documents[i]!,
          size: record.size,
          digest: JSON.stringify(record.digest),
          deposited_at: record.depositedAt,
        }
        if (record.conflictOf) {
          await trx.insertInto('vault_additional_documents').values({ ...row, conflict_of: JSON.stringify(record.conflictOf) }).execute()
          continue
        }
        const inserted = await trx.insertInto('vault_deposits').values(row).onConflict((oc) => oc.columns(['sender', 'message_id']).doNothing()).returning('sender').executeTakeFirst()
        if (!inserted) throw new TimbreError('message-id-conflict', { detail: 'a document of the archive was deposited meanwhile' })
      }
      for (const entry of batch.journal) await trx.insertInto('vault_journal').values({ address: batch.address, entry: JSON.stringify(entry) }).execute()
      return { repeated: false, response: batch.response }
    })
  }

  /** Documents and additional documents held for an address (tests, demo). */
  async count(address: string): Promise<number> {
    const a = await this.#db.selectFrom('vault_deposits').select((eb) => eb.fn.countAll<string>().as('n')).where('address', '=', address).executeTakeFirstOrThrow()
    const b = await this.#db.selectFrom('vault_additional_documents').select((eb) => eb.fn.countAll<string>().as('n')).where('address', '=', address).executeTakeFirstOrThrow()
    return Number(a.n) + Number(b.n)
  }

  async findDeposit(sender: string, messageId: string): Promise<DepositRecord | undefined> {
    const r = await this.#db.selectFrom('vault_deposits').select(DEPOSIT_COLUMNS).where('sender', '=', sender).where('message_id', '=', messageId).executeTakeFirst()
    return r && toRecord(r)
  }

  /**
   * The INSERT itself refuses a deposit once the account's move is due
   * (TMB-RLY-012): a relay checked just before the cut-over cannot commit
   * after it and miss the archive. Such a relay gets recipient-moved.
   */
  async deposit(record: DepositRecord, document: Uint8Array): Promise<DepositResult> {
    const result = await this.#db.transaction().execute(async (trx) => this.#deposit(trx, record, document))
    if (result) return result
    const account = await this.account(record.address)
    throw new TimbreError('recipient-moved', { detail: 'the vault address moved to another operator', extra: { operator: account?.status === 'moved' ? account.operator : undefined } })
  }

  async #deposit(trx: Transaction<Database>, record: DepositRecord, document: Uint8Array): Promise<DepositResult | undefined> {
    const now = new Date()
    const open = await trx
      .selectFrom('vault_accounts')
      .select('address')
      .where('address', '=', record.address)
      .where('status', '=', 'active')
      .where((eb) => eb.or([eb('move_at', 'is', null), eb('move_at', '>', now)]))
      .forShare()
      .executeTakeFirst()
    if (!open) {
      const existing = await trx.selectFrom('vault_deposits').select(DEPOSIT_COLUMNS).where('sender', '=', record.sender).where('message_id', '=', record.messageId).executeTakeFirst()
      return existing ? { inserted: false, record: toRecord(existing) } : undefined
    }
    const inserted = await trx
      .insertInto('vault_deposits')
      .values({
        sender: record.sender,
        message_id: record.messageId,
        address: record.address,
        metadata: JSON.stringify(record.metadata),
        envelope: record.envelope,
        sender_key: JSON.stringify(record.senderKey),
        stamp: record.stamp,
        evidence: record.evidence,
        document,
        size: record.size,
        digest: JSON.stringify(record.digest),
        deposited_at: record.depositedAt,
      })
      .onConflict((oc) => oc.columns(['sender', 'message_id']).doNothing())
      .returning('sender')
      .executeTakeFirst()
    if (inserted) {
      await trx.insertInto('vault_journal').values({ address: record.address, entry: JSON.stringify({ at: record.depositedAt, event: 'deposit', messageId: record.messageId, sender: record.sender }) }).execute()
      return { inserted: true, record }
    }
    // Lost the race (or a repeat): the first deposit is the one that counts.
    const existing = await trx.selectFrom('vault_deposits').select(DEPOSIT_COLUMNS).where('sender', '=', record.sender).where('message_id', '=', record.messageId).executeTakeFirst()
    if (!existing) throw new Error('deposit conflict but no existing row')
    return { inserted: false, record: toRecord(existing) }
  }

  /**
   * TMB-ARC-012: delete every document of a ported vault (deposits and
   * additional copies). The account row stays, marked moved, with its
   * journal, so the address's history at this operator remains.
   */
  async purgeDocuments(address: string): Promise<number> {
    return this.#db.transaction().execute(async (trx) => {
      const a = await trx.deleteFrom('vault_deposits').where('address', '=', address).executeTakeFirst()
      const b = await trx.deleteFrom('vault_additional_documents').where('address', '=', address).executeTakeFirst()
      return Number(a.numDeletedRows) + Number(b.numDeletedRows)
    })
  }

  async list(address: string): Promise<DepositRecord[]> {
    const rows = await this.#db.selectFrom('vault_deposits').select(DEPOSIT_COLUMNS).where('address', '=', address).orderBy('deposited_at').orderBy('message_id').execute()
    const extra = await this.#db.selectFrom('vault_additional_documents').select([...RECORD_COLUMNS, 'conflict_of']).where('address', '=', address).orderBy('id').execute()
    return [...rows.map((r) => toRecord(r)), ...extra.map((r) => toRecord(r))]
  }

  /**
   * TMB-EVD-015: keep the first Handover of a deposit and, in the same
   * transaction, queue its push to the stamp's issuer (outbox job `handover`,
   * drained by the node's worker until answered 202 or 404). A later open
   * finds the Handover set and changes nothing.
   */
  async recordHandover(record: DepositRecord, handover: string): Promise<{ inserted: boolean; handover: string }> {
    const routingNode = decodeEvidence(record.stamp).issuer
    return this.#db.transaction().execute(async (trx) => {
      const set = await trx.updateTable('vault_deposits').set({ handover })
        .where('sender', '=', record.sender).where('message_id', '=', record.messageId).where('handover', 'is', null)
        .returning('sender').executeTakeFirst()
      if (!set) {
        const kept = await trx.selectFrom('vault_deposits').select('handover').where('sender', '=', record.sender).where('message_id', '=', record.messageId).executeTakeFirst()
        if (!kept?.handover) throw new TimbreError('not-found', { detail: 'no such deposit' })
        return { inserted: false, handover: kept.handover }
      }
      await trx.insertInto('outbox').values({
        kind: 'handover',
        sender_id: record.sender,
        message_id: record.messageId,
        payload: JSON.stringify({ routingNode, evidence: handover }),
        available_at: new Date(),
      }).execute()
      await trx.insertInto('vault_journal').values({ address: record.address, entry: JSON.stringify({ at: new Date().toISOString(), event: 'access', messageId: record.messageId, sender: record.sender, detail: 'first open: Handover issued' }) }).execute()
      return { inserted: true, handover }
    })
  }

  async read(address: string, messageId: string): Promise<Uint8Array | undefined> {
    const r = await this.#db.selectFrom('vault_deposits').select('document').where('address', '=', address).where('message_id', '=', messageId).executeTakeFirst()
    return r ? new Uint8Array(r.document) : undefined
  }
}
