// Settlement between operators (spec 11.6): for a pair (routing operator,
// vault operator) and a month, each side builds the same payload from its
// own records — the routing node from the DepositAcceptance evidence it
// holds, issued by the vault operator; the vault node from its deposits of
// stamps issued by the routing operator — signs its JCS bytes, and the two
// compare per message (TMB-MTR-017..020). Settlement statements are built
// from the records at every call (a late evidence push shows up in the next
// reconciliation); the deposits and evidence they count never change.
import {
  decodeEvidence,
  decodeStatement,
  signStatement,
  STAMP_CLASSES,
  verifyStatement,
  type Reconciliation,
  type SettlementDelivery,
  type SettlementStatement,
  type StampClass,
} from '@timbre/sdk'
import type { Kysely } from 'kysely'
import type { NodeConfig } from '../config/schema.js'
import { NodeError } from '../errors.js'
import type { Database } from '../store/schema.js'
import type { DirectoryView } from './directory-view.js'
import { closedMonth } from './metering.js'
import type { NodeKeyring } from './node-keys.js'

export type Side = 'routing' | 'vault'

export interface SettlementDeps {
  readonly config: NodeConfig
  readonly db: Kysely<Database>
  readonly keys: NodeKeyring
  readonly directory: DirectoryView
  now(): Date
}

// Evidence and deposits are pre-selected by the time they were stored, with
// a day of slack either side, then filtered by the evidence's own `time`.
const SLACK_MS = 24 * 3600 * 1000

const byKey = (a: SettlementDelivery, b: SettlementDelivery): number =>
  a.sender < b.sender ? -1 : a.sender > b.sender ? 1 : a.messageId < b.messageId ? -1 : a.messageId > b.messageId ? 1 : 0

export class Settlements {
  readonly #d: SettlementDeps

  constructor(deps: SettlementDeps) {
    this.#d = deps
  }

  /** Which side this node plays towards `peer`, from its roles and the peer's. */
  async sideTowards(peer: string): Promise<Side> {
    const op = await this.#d.directory.operator(peer)
    const roles = this.#d.config.roles
    if (op && op.status === 'active') {
      if (roles.includes('routing-node') && op.roles.includes('vault-operator')) return 'routing'
      if (roles.includes('vault-operator') && op.roles.includes('routing-node')) return 'vault'
    }
    throw new NodeError('node-untrusted', { detail: `${peer} is not an active peer operator of this node` })
  }

  /** The role the peer must have when this node plays `side`. */
  static peerRole(side: Side): string {
    return side === 'routing' ? 'vault-operator' : 'routing-node'
  }

  #fee(peer: string, c: StampClass): number {
    const fees = this.#d.config.metering.terminationFees
    return fees[peer]?.[c] ?? fees['*']?.[c] ?? 0
  }

  async #deliveries(side: Side, peer: string, from: Date, to: Date): Promise<SettlementDelivery[]> {
    const me = this.#d.config.nodeId
    const lo = new Date(from.getTime() - SLACK_MS)
    const hi = new Date(to.getTime() + SLACK_MS)
    const inPeriod = (time: string) => { const t = Date.parse(time); return t >= from.getTime() && t < to.getTime() }
    const out: SettlementDelivery[] = []
    if (side === 'routing') {
      // The vault operator's DepositAcceptance of our stamps, as we hold them.
      const rows = await this.#d.db.selectFrom('evidence')
        .innerJoin('deliveries', (j) => j.onRef('deliveries.sender_id', '=', 'evidence.sender_id').onRef('deliveries.message_id', '=', 'evidence.message_id'))
        .select(['evidence.jws', 'deliveries.stamp_class'])
        .where('evidence.event', '=', 'DepositAcceptance').where('evidence.issuer', '=', peer)
        .where('evidence.created_at', '>=', lo).where('evidence.created_at', '<', hi)
        .execute()
      for (const r of rows) {
        const ev = decodeEvidence(r.jws)
        if (inPeriod(ev.time)) out.push({ sender: ev.sender, messageId: ev.messageId, stampClass: r.stamp_class, evidenceId: ev.evidenceId })
      }
    } else {
      // Our deposits of stamps issued by the routing operator.
      const rows = await this.#d.db.selectFrom('vault_deposits').select(['stamp', 'evidence'])
        .where('deposited_at', '>=', lo).where('deposited_at', '<', hi).execute()
      for (const r of rows) {
        const stamp = decodeEvidence(r.stamp)
        const ev = decodeEvidence(r.evidence)
        if (stamp.issuer !== peer || ev.event !== 'DepositAcceptance' || ev.issuer !== me || !inPeriod(ev.time)) continue
        out.push({ sender: ev.sender, messageId: ev.messageId, stampClass: stamp.stampClass ?? 'standard', evidenceId: ev.evidenceId })
      }
    }
    return out.sort(byKey)
  }

  /** The settlement payload of this node towards `peer` for a closed month. */
  async payload(peer: string, period: string, side?: Side): Promise<SettlementStatement> {
    const { from, to } = closedMonth(period, this.#d.now())
    const s = side ?? (await this.sideTowards(peer))
    const me = this.#d.config.nodeId
    const deliveries = await this.#deliveries(s, peer, from, to)
    const classes = STAMP_CLASSES.map((c) => {
      const count = deliveries.filter((d) => d.stampClass === c).length
      const fee = this.#fee(peer, c)
      return { stampClass: c, count, fee, amount: count * fee }
    }).filter((c) => c.count > 0)
    return {
      v: 1,
      kind: 'settlement',
      routingOperator: s === 'routing' ? me : peer,
      vaultOperator: s === 'routing' ? peer : me,
      period,
      currency: this.#d.config.metering.currency,
      classes,
      deliveries,
    }
  }

  /** TMB-MTR-017: the signed statement. */
  async statement(peer: string, period: string, side?: Side): Promise<string> {
    return signStatement(await this.payload(peer, period, side), this.#d.keys.signingKey)
  }

  /** The side a caller's settlement statement puts this node on (before verifying it). */
  sideOf(jws: string, caller: string): Side {
    let p: SettlementStatement
    try {
      p = decodeStatement<SettlementStatement>(jws)
    } catch {
      throw new NodeError('schema-violation', { detail: 'statement is not a settlement JWS' })
    }
    const me = this.#d.config.nodeId
    if (p?.kind === 'settlement' && p.routingOperator === me && p.vaultOperator === caller) return 'routing'
    if (p?.kind === 'settlement' && p.vaultOperator === me && p.routingOperator === caller) return 'vault'
    throw new NodeError('schema-violation', { detail: 'the statement is not a settlement between the caller and this node' })
  }

  /** TMB-MTR-018/020: compare the caller's statement with ours, countersign when identical. */
  async reconcile(caller: string, theirs: string): Promise<Reconciliation> {
    const side = this.sideOf(theirs, caller)
    let payload: SettlementStatement
    try {
      payload = await verifyStatement<SettlementStatement>(theirs, (kid, at) => this.#d.directory.nodeKey(caller, kid, at), { kind: 'settlement' })
    } catch (err) {
      throw new NodeError('schema-violation', { detail: `the statement does not verify: ${(err as Error).message}`, cause: err })
    }
    const ours = await this.statement(caller, payload.period, side)
    const mine = decodeStatement<SettlementStatement>(ours)
    const key = (d: SettlementDelivery) => `${d.sender}\u0000${d.messageId}`
    const here = new Map(mine.deliveries.map((d) => [key(d), d]))
    const there = new Map(payload.deliveries.map((d) => [key(d), d]))
    const matched = ours.split('.')[1] === theirs.split('.')[1]
    const classMismatch: Reconciliation['classMismatch'] = []
    for (const [k, d] of here) {
      const t = there.get(k)
      if (t && t.stampClass !== d.stampClass) classMismatch.push({ sender: d.sender, messageId: d.messageId, here: d.stampClass, there: t.stampClass })
    }
    return {
      period: payload.period,
      matched,
      onlyHere: [...here.entries()].filter(([k]) => !there.has(k)).map(([, d]) => d),
      onlyThere: [...there.entries()].filter(([k]) => !here.has(k)).map(([, d]) => d),
      classMismatch,
      ...(matched ? { countersignature: ours } : {}),
    }
  }
}
