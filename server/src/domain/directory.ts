// The directory role (spec chapter 8): registering and versioning address
// lines, signed lookups, the change feed. Every write runs in one
// transaction under the directory write lock (directory-repository.ts), and
// appends its changes to the feed in that same transaction.
import { signDirectoryLine, type DirectoryLine, type PrivateJwk, type PublicJwk } from '@timbre/sdk'
import { NodeError } from '../errors.js'
import type { ChangeRow, DirectoryRepository, DirectoryWriter, LineRow } from '../store/directory-repository.js'
import type { OperatorInput, OperatorRow, OperatorsRepository } from '../store/operators-repository.js'
import type { ResolvedLine } from './directory-view.js'
import { currentEncryptionKeys, toOperatorRecord } from './operator-record.js'

/** Who signs the lines: this node (its id is the lines' `issuer`). */
export interface LineSigner {
  readonly nodeId: string
  readonly signingKey: PrivateJwk
}

/** What a line points to: copied from the operator record when the line is made (TMB-DIR-006). */
interface LineTarget {
  operatorId: string
  relayEndpoint: string
  encryptionKeys: PublicJwk[]
}

export interface RegisterResult {
  /** True when the address never had a line (201), false otherwise (200). */
  created: boolean
  resolved: ResolvedLine
}

export interface ChangePage {
  changes: ChangeRow[]
  hasMore: boolean
}

const sameKeys = (a: ReadonlyArray<Record<string, unknown>>, b: ReadonlyArray<Record<string, unknown>>) =>
  JSON.stringify(a.map((k) => k.kid).sort()) === JSON.stringify(b.map((k) => k.kid).sort())

const conflict = (detail: string) => new NodeError('directory-conflict', { detail })

export class DirectoryService {
  readonly #lines: DirectoryRepository
  readonly #operators: OperatorsRepository
  readonly #signer: LineSigner
  readonly #now: () => Date

  constructor(lines: DirectoryRepository, operators: OperatorsRepository, signer: LineSigner, now: () => Date = () => new Date()) {
    this.#lines = lines
    this.#operators = operators
    this.#signer = signer
    this.#now = now
  }

  /** The node id that issues lines. */
  get issuer(): string {
    return this.#signer.nodeId
  }

  /** A line row as the signed DirectoryLine (TMB-DIR-001), issued now (TMB-DIR-005). */
  async sign(row: LineRow, issuedAt: Date = this.#now()): Promise<ResolvedLine> {
    const line: DirectoryLine = {
      v: 1,
      address: row.address,
      operator: row.operatorId,
      relayEndpoint: row.relayEndpoint,
      encryptionKeys: row.encryptionKeys as unknown as PublicJwk[],
      version: row.version,
      validFrom: row.validFrom.toISOString(),
      validTo: row.validTo === null ? null : row.validTo.toISOString(),
      issuedAt: issuedAt.toISOString(),
      issuer: this.#signer.nodeId,
    }
    return { line, jws: await signDirectoryLine(line, this.#signer.signingKey) }
  }

  /** The line valid at `at` (default now), signed; undefined when none (TMB-DIR-008, -009). */
  async lookup(address: string, at: Date = this.#now()): Promise<ResolvedLine | undefined> {
    const row = await this.#lines.validAt(address, at)
    return row && this.#signCached(row)
  }

  // Signed lines by content (everything but issuedAt) and signing kid. A line
  // version only ever changes its validTo (TMB-DIR-003), which is part of the
  // key, so a closed line misses and is signed anew with a new issuedAt
  // (TMB-DIR-005). Which version is valid is still read from the store on
  // every lookup; only the Ed25519 signature of an unchanged line is reused.
  readonly #signed = new Map<string, ResolvedLine>()
  static readonly SIGNED_CACHE_MAX = 10_000

  async #signCached(row: LineRow): Promise<ResolvedLine> {
    const key = JSON.stringify([
      this.#signer.signingKey.kid, this.#signer.nodeId, row.address, row.version, row.operatorId, row.relayEndpoint,
      row.encryptionKeys, row.validFrom.getTime(), row.validTo === null ? null : row.validTo.getTime(),
    ])
    const hit = this.#signed.get(key)
    if (hit) {
      this.#signed.delete(key)
      this.#signed.set(key, hit)
      return hit
    }
    const resolved = await this.sign(row)
    this.#signed.set(key, resolved)
    if (this.#signed.size > DirectoryService.SIGNED_CACHE_MAX) this.#signed.delete(this.#signed.keys().next().value as string)
    return resolved
  }

  /**
   * `PUT /v1/directory/addresses/{address}` (TMB-DIR-010): the first line of
   * an address, or the serving operator refreshing its own line. Never moves
   * an address to another operator (TMB-DIR-011; that is porting's cutOver).
   */
  async register(address: string, operatorId: string): Promise<RegisterResult> {
    return this.#lines.write(async (w) => {
      const now = this.#now()
      const target = await this.#target(w, operatorId, now)
      const latest = await w.latest(address)
      if (!latest) {
        const row = await w.insertLine({ address, version: 1, ...target, encryptionKeys: target.encryptionKeys as never, validFrom: now })
        return { created: true, resolved: await this.#record(w, row, now) }
      }
      if (latest.operatorId !== operatorId) throw conflict(`the address is served by ${latest.operatorId}`)
      if (latest.validTo !== null) throw conflict('the lines of this address are closed')
      const unchanged = latest.relayEndpoint === target.relayEndpoint && sameKeys(latest.encryptionKeys, target.encryptionKeys as never)
      // A line not yet in effect (scheduled by a port) is left as scheduled.
      if (unchanged || latest.validFrom > now) return { created: false, resolved: await this.sign(latest, now) }
      const next = await this.#cutOver(w, latest, target, now, now)
      return { created: false, resolved: next }
    })
  }

  /**
   * The line primitive porting builds on: close the address's current line
   * at `at` and insert version+1 for `toOperator` valid from `at` (which may
   * lie in the future, TMB-DIR-002/-003), with both changes in the feed.
   * Only the operator currently serving the address may hand it over.
   */
  async cutOver(address: string, fromOperator: string, toOperator: string, at: Date): Promise<ResolvedLine> {
    return this.#lines.write(async (w) => {
      const now = this.#now()
      if (at < now) throw new NodeError('schema-violation', { detail: 'a cut-over cannot lie in the past' })
      const latest = await w.latest(address)
      if (!latest) throw new NodeError('recipient-unknown', { detail: 'the address has no line' })
      if (latest.operatorId !== fromOperator) throw conflict(`the address is served by ${latest.operatorId}`)
      if (latest.validTo !== null) throw conflict('the lines of this address are closed')
      if (at < latest.validFrom) throw conflict('the current line starts after the cut-over')
      return this.#cutOver(w, latest, await this.#target(w, toOperator, at), at, now)
    })
  }

  /**
   * Run several line writes in one transaction under the directory write
   * lock, with other tables written through `w.trx` (porting: the code, the
   * port and its lines commit together, TMB-PORT-011).
   */
  transaction<T>(fn: (w: DirectoryWriter) => Promise<T>): Promise<T> {
    return this.#lines.write(fn)
  }

  /** `cutOver` inside a caller's transaction (see {@link DirectoryService.transaction}). */
  async cutOverIn(w: DirectoryWriter, address: string, fromOperator: string, toOperator: string, at: Date): Promise<ResolvedLine> {
    const now = this.#now()
    const latest = await w.latest(address)
    if (!latest) throw new NodeError('recipient-unknown', { detail: 'the address has no line' })
    if (latest.operatorId !== fromOperator) throw conflict(`the address is served by ${latest.operatorId}`)
    if (latest.validTo !== null) throw conflict('the lines of this address are closed')
    if (at < latest.validFrom) throw conflict('the current line starts after the cut-over')
    return this.#cutOver(w, latest, await this.#target(w, toOperator, at), at, now)
  }

  /**
   * End a pending port (objection or cancellation, spec 9.4): void the
   * scheduled line of `scheduledOperator` (validTo = validFrom, never valid)
   * and give the address back to `donor` with a new version valid from the
   * same instant, so the donor's service has no gap. Changes go to the feed.
   */
  async voidScheduledIn(w: DirectoryWriter, address: string, scheduledOperator: string, donor: string): Promise<ResolvedLine> {
    const now = this.#now()
    const latest = await w.latest(address)
    if (!latest || latest.operatorId !== scheduledOperator || latest.validTo !== null) throw conflict('the address has no scheduled line to void')
    if (latest.validFrom <= now) throw conflict('the scheduled line is already in effect')
    const voided = await w.closeLine(address, latest.version, latest.validFrom)
    await this.#record(w, voided, now)
    const target = await this.#target(w, donor, now)
    const back = await w.insertLine({ address, version: latest.version + 1, ...target, encryptionKeys: target.encryptionKeys as never, validFrom: latest.validFrom })
    return this.#record(w, back, now)
  }

  /**
   * Insert or replace an operator; when its relay endpoint or encryption keys
   * changed, re-issue every open line of it at the same instant (TMB-DIR-013,
   * TMB-TRUST-023). One transaction: the operator and its lines move together.
   */
  async upsertOperator(input: OperatorInput): Promise<{ before: OperatorRow | undefined; after: OperatorRow }> {
    return this.#lines.write(async (w) => {
      const result = await this.#operators.upsert(w.trx, input)
      const { after } = result
      if (!result.before || after.status !== 'active' || !after.roles.includes('vault-operator')) return result
      const now = this.#now()
      const keys = currentEncryptionKeys(toOperatorRecord(after), now)
      if (keys.length === 0) return result
      for (const line of await w.openLinesOf(after.id)) {
        if (line.validFrom > now) continue // scheduled: it takes the new values when porting re-registers it
        if (line.relayEndpoint === after.relayEndpoint && sameKeys(line.encryptionKeys, keys as never)) continue
        await this.#cutOver(w, line, { operatorId: after.id, relayEndpoint: after.relayEndpoint, encryptionKeys: keys }, now, now)
      }
      return result
    })
  }

  /** Changes after a cursor, in order (TMB-DIR-014). */
  async changes(after: bigint, limit: number): Promise<ChangePage> {
    const rows = await this.#lines.changesAfter(after, limit + 1)
    return { changes: rows.slice(0, limit), hasMore: rows.length > limit }
  }

  // An active vault operator's endpoint and current keys (TMB-DIR-006).
  async #target(w: DirectoryWriter, operatorId: string, now: Date): Promise<LineTarget> {
    const op = await this.#operators.get(operatorId, w.trx)
    if (!op || op.status !== 'active' || !op.roles.includes('vault-operator')) {
      throw new NodeError('node-untrusted', { detail: `${operatorId} is not an active vault operator of this directory` })
    }
    const encryptionKeys = currentEncryptionKeys(toOperatorRecord(op), now)
    if (encryptionKeys.length === 0) throw conflict(`${operatorId} has no current encryption key`)
    return { operatorId: op.id, relayEndpoint: op.relayEndpoint, encryptionKeys }
  }

  async #cutOver(w: DirectoryWriter, current: LineRow, target: LineTarget, at: Date, now: Date): Promise<ResolvedLine> {
    const closed = await w.closeLine(current.address, current.version, at)
    await this.#record(w, closed, now)
    const next = await w.insertLine({ address: current.address, version: current.version + 1, ...target, encryptionKeys: target.encryptionKeys as never, validFrom: at })
    return this.#record(w, next, now)
  }

  // Sign the line in its new state and append it to the feed (TMB-DIR-015).
  async #record(w: DirectoryWriter, row: LineRow, now: Date): Promise<ResolvedLine> {
    const resolved = await this.sign(row, now)
    await w.appendChange(row, resolved.jws, now)
    return resolved
  }
}
