// The vault-operator role's VaultStorage (SDK) on the node's database: a
// deposit is one INSERT … ON CONFLICT DO NOTHING, committed before VaultKit
// answers, so "deposited" is durable and unique per (sender, messageId)
// across every process sharing the database (TMB-RLY-009).
import type { AccountState, DepositRecord, DepositResult, VaultStorage } from '@timbre/sdk'
import type { Kysely, Selectable } from 'kysely'
import type { Database } from './schema.js'
import type { VaultDepositsTable } from './schema-directory.js'

export interface VaultAccountRow {
  address: string
  status: 'active' | 'moved'
  movedTo: string | null
  reference: string | null
  createdAt: Date
}

type DepositColumns = Omit<Selectable<VaultDepositsTable>, 'document'>

const RECORD_COLUMNS = ['sender', 'message_id', 'address', 'metadata', 'envelope', 'sender_key', 'stamp', 'evidence', 'size', 'digest', 'deposited_at'] as const

function toRecord(r: DepositColumns): DepositRecord {
  return {
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

  async account(address: string): Promise<AccountState | undefined> {
    const r = await this.#db.selectFrom('vault_accounts').select(['status', 'moved_to']).where('address', '=', address).executeTakeFirst()
    if (!r) return undefined
    return r.status === 'moved' ? { status: 'moved', operator: r.moved_to! } : { status: 'active' }
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

  /** After a port out: relays now answer recipient-moved (porting uses this). */
  async markMoved(address: string, operator: string): Promise<void> {
    await this.#db.updateTable('vault_accounts').set({ status: 'moved', moved_to: operator }).where('address', '=', address).execute()
  }

  async findDeposit(sender: string, messageId: string): Promise<DepositRecord | undefined> {
    const r = await this.#db.selectFrom('vault_deposits').select(RECORD_COLUMNS).where('sender', '=', sender).where('message_id', '=', messageId).executeTakeFirst()
    return r && toRecord(r)
  }

  async deposit(record: DepositRecord, document: Uint8Array): Promise<DepositResult> {
    const inserted = await this.#db
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
    if (inserted) return { inserted: true, record }
    // Lost the race (or a repeat): the first deposit is the one that counts.
    const existing = await this.findDeposit(record.sender, record.messageId)
    if (!existing) throw new Error('deposit conflict but no existing row')
    return { inserted: false, record: existing }
  }

  async list(address: string): Promise<DepositRecord[]> {
    const rows = await this.#db.selectFrom('vault_deposits').select(RECORD_COLUMNS).where('address', '=', address).orderBy('deposited_at').orderBy('message_id').execute()
    return rows.map(toRecord)
  }

  async read(address: string, messageId: string): Promise<Uint8Array | undefined> {
    const r = await this.#db.selectFrom('vault_deposits').select('document').where('address', '=', address).where('message_id', '=', messageId).executeTakeFirst()
    return r ? new Uint8Array(r.document) : undefined
  }
}
