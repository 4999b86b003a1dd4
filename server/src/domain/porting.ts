// The directory's side of portability (spec 9.2–9.4): porting codes (only
// their digests), port requests with the checks of 9.3 in order, objection,
// cancellation, completion at the cut-over (silence = consent), and the
// notifications to the operators (queued as jobs, retried until 2xx).
import { checkPortingCode, portingCodeDigest, uuidv7 } from '@timbre/sdk'
import { OBJECTION_REASON_CODES } from '@timbre/sdk/vault'
import { NodeError } from '../errors.js'
import type { PortingRepository, PortRow, PortStatus } from '../store/porting-repository.js'
import type { LocalDirectory } from './local-directory.js'

export interface PortRecord {
  portId: string
  address: string
  donor: string
  recipientOperator: string
  requestedAt: string
  objectionDeadline: string
  cutoverAt: string
  status: PortStatus
  reason?: { code: string; detail?: string }
  updatedAt: string
}

/** The port record of the spec (port.json): never the code nor its digest (TMB-PORT-014). */
export function portRecord(p: PortRow): PortRecord {
  return {
    portId: p.portId,
    address: p.address,
    donor: p.donor,
    recipientOperator: p.recipientOperator,
    requestedAt: p.requestedAt.toISOString(),
    objectionDeadline: p.objectionDeadline.toISOString(),
    cutoverAt: p.cutoverAt.toISOString(),
    status: p.status,
    ...(p.reason ? { reason: p.reason } : {}),
    updatedAt: p.updatedAt.toISOString(),
  }
}

export interface PortRequestBody {
  address: string
  portingCode: string
  recipientOperator: string
  consent: { givenAt: string; reference: string }
}

/** Called after each committed port change, to queue notifications and pushes. */
export type PortListener = (port: PortRow, event: 'requested' | 'objected' | 'cancelled' | 'completed') => Promise<void>

/** TMB-PORT-008: failed port requests allowed per address within the window. */
export const PORT_FAILURE_LIMIT = 10
const PORT_FAILURE_WINDOW_MS = 24 * 3600 * 1000
// The refusals that count as a failed port request: a code that is wrong,
// expired or used up, or a port already pending (which also uses the code up).
const COUNTED_FAILURES = new Set(['porting-code-invalid', 'porting-code-expired', 'porting-code-used', 'port-already-pending'])

export class PortingService {
  readonly #repo: PortingRepository
  readonly #directory: LocalDirectory
  readonly #windowMs: number
  readonly #now: () => Date
  readonly #listeners: PortListener[] = []

  constructor(repo: PortingRepository, directory: LocalDirectory, objectionWindowSeconds: number, now: () => Date = () => new Date()) {
    this.#repo = repo
    this.#directory = directory
    this.#windowMs = objectionWindowSeconds * 1000
    this.#now = now
  }

  onChange(listener: PortListener): void {
    this.#listeners.push(listener)
  }

  async #emit(port: PortRow, event: Parameters<PortListener>[1]): Promise<void> {
    for (const l of this.#listeners) await l(port, event)
  }

  /** `POST /v1/directory/porting-codes` (TMB-PORT-003/-004): only the operator serving the address now. */
  async registerCode(iss: string, body: { address: string; codeDigest: string; expiresAt: string }): Promise<{ address: string; donor: string; registeredAt: string; expiresAt: string }> {
    const now = this.#now()
    const expiresAt = new Date(body.expiresAt)
    if (!(expiresAt > now)) throw new NodeError('schema-violation', { detail: 'expiresAt must lie in the future', extra: { errors: [{ path: '/expiresAt', message: 'must lie in the future' }] } })
    return this.#directory.service.transaction(async (w) => {
      const line = await this.#directory.lookupIn(w, body.address, now)
      if (!line || line.operatorId !== iss) throw new NodeError('directory-conflict', { detail: 'only the operator serving the address now may register a porting code' })
      await this.#repo.registerCode(w.trx, { address: body.address, codeDigest: body.codeDigest, donor: iss, registeredAt: now, expiresAt })
      return { address: body.address, donor: iss, registeredAt: now.toISOString(), expiresAt: expiresAt.toISOString() }
    })
  }

  /**
   * `POST /v1/directory/ports` after the proof and the schema (9.3). The
   * remaining checks run in order under the directory write lock, and on
   * success everything of TMB-PORT-011 commits in the same transaction. A
   * valid, unused code refused at the last check is still used up (TMB-PORT-006).
   */
  async requestPort(iss: string, body: PortRequestBody): Promise<PortRow> {
    if (body.recipientOperator !== iss) throw new NodeError('sender-mismatch', { detail: `the proof is from ${iss}, the body names ${body.recipientOperator}` })
    await this.#refuseWhenTooManyFailures(body.address)
    try {
      return await this.#requestPort(iss, body)
    } catch (err) {
      if (err instanceof NodeError && COUNTED_FAILURES.has(err.code)) await this.#recordFailure(body.address, iss, err.code)
      throw err
    }
  }

  // TMB-PORT-008: at most PORT_FAILURE_LIMIT failed port requests per address
  // in PORT_FAILURE_WINDOW_MS; then 429 until the oldest of them leaves the window.
  async #refuseWhenTooManyFailures(address: string): Promise<void> {
    const now = this.#now()
    const since = new Date(now.getTime() - PORT_FAILURE_WINDOW_MS)
    const rows = await this.#repo.db.selectFrom('port_request_failures').select('failed_at')
      .where('address', '=', address).where('failed_at', '>', since)
      .orderBy('failed_at', 'desc').limit(PORT_FAILURE_LIMIT).execute()
    if (rows.length < PORT_FAILURE_LIMIT) return
    const oldest = new Date(rows.at(-1)!.failed_at).getTime()
    const retryAfter = Math.max(1, Math.ceil((oldest + PORT_FAILURE_WINDOW_MS - now.getTime()) / 1000))
    throw new NodeError('rate-limited', { detail: `${PORT_FAILURE_LIMIT} port requests for this address failed within 24 hours`, retryAfter })
  }

  async #recordFailure(address: string, operatorId: string, code: string): Promise<void> {
    const now = this.#now()
    await this.#repo.db.insertInto('port_request_failures').values({ address, operator_id: operatorId, code, failed_at: now }).execute()
    await this.#repo.db.deleteFrom('port_request_failures').where('failed_at', '<=', new Date(now.getTime() - PORT_FAILURE_WINDOW_MS)).execute()
  }

  async #requestPort(iss: string, body: PortRequestBody): Promise<PortRow> {
    const address = body.address
    const outcome = await this.#directory.service.transaction(async (w): Promise<{ port: PortRow } | { refuse: NodeError }> => {
      const now = this.#now()
      const line = await this.#directory.lookupIn(w, address, now)
      if (!line) throw new NodeError('recipient-unknown', { detail: 'no line is valid for the address now' })
      if (line.operatorId === iss) throw new NodeError('directory-conflict', { detail: 'the address is served by the requesting operator already' })
      const checked = checkPortingCode(address, body.portingCode)
      if (!checked.valid) throw new NodeError('porting-code-invalid', { detail: `the porting code fails the ${checked.reason} check for this address` })
      const digest = portingCodeDigest(address, checked.code)
      const code = await this.#repo.findCode(w.trx, address, digest)
      // A code never registered, superseded by a later one, or registered by an earlier operator is not valid.
      if (!code || code.status === 'invalidated' || code.donor !== line.operatorId) throw new NodeError('porting-code-invalid', { detail: 'the porting code is not registered for this address' })
      if (code.expiresAt <= now) throw new NodeError('porting-code-expired', { detail: `the porting code expired at ${code.expiresAt.toISOString()}` })
      if (code.status === 'used') throw new NodeError('porting-code-used', { detail: 'the porting code was used for an earlier port request' })
      await this.#repo.useCode(w.trx, address, digest, now)
      if (await this.#repo.pendingFor(w.trx, address)) {
        return { refuse: new NodeError('port-already-pending', { detail: 'a port of this address is pending; the code is used up' }) }
      }
      const cutoverAt = new Date(now.getTime() + this.#windowMs)
      const port: PortRow = {
        portId: uuidv7(),
        address,
        donor: line.operatorId,
        recipientOperator: iss,
        requestedAt: now,
        objectionDeadline: cutoverAt,
        cutoverAt,
        status: 'pending',
        reason: null,
        consent: { givenAt: body.consent.givenAt, reference: body.consent.reference },
        updatedAt: now,
      }
      await this.#repo.insertPort(w.trx, port, digest)
      // Close the donor's line at cutoverAt and schedule the new operator's from then (TMB-PORT-011).
      await this.#directory.service.cutOverIn(w, address, line.operatorId, iss, cutoverAt)
      return { port }
    })
    if ('refuse' in outcome) throw outcome.refuse
    await this.#emit(outcome.port, 'requested')
    return outcome.port
  }

  /** A port, completing it first when its cut-over has come (on read, TMB-PORT-018). */
  async get(portId: string): Promise<PortRow | undefined> {
    await this.completeDue()
    return this.#repo.getPort(this.#repo.db, portId)
  }

  async list(operator: string, status?: PortStatus): Promise<PortRow[]> {
    await this.completeDue()
    return this.#repo.listFor(operator, status)
  }

  /** Silence = consent: every pending port whose cut-over has come is completed (TMB-PORT-018). */
  async completeDue(): Promise<PortRow[]> {
    const done = await this.#repo.completeDue(this.#now())
    for (const p of done) {
      await this.#repo.invalidateCodes(this.#repo.db, p.address)
      await this.#emit(p, 'completed')
    }
    return done
  }

  /** `POST …/objection` (TMB-PORT-016/-017). */
  async object(iss: string, portId: string, reason: { code: string; detail?: string }): Promise<PortRow> {
    if (!(OBJECTION_REASON_CODES as readonly string[]).includes(reason.code)) {
      throw new NodeError('schema-violation', { detail: `reason.code must be one of ${OBJECTION_REASON_CODES.join(', ')}`, extra: { errors: [{ path: '/reason/code', message: 'not a reason code of 9.4' }] } })
    }
    return this.#end(iss, portId, 'objected', reason)
  }

  /** `POST …/cancellation` (TMB-PORT-019/-020). */
  async cancel(iss: string, portId: string): Promise<PortRow> {
    return this.#end(iss, portId, 'cancelled')
  }

  async #end(iss: string, portId: string, status: 'objected' | 'cancelled', reason?: { code: string; detail?: string }): Promise<PortRow> {
    const ended = await this.#directory.service.transaction(async (w) => {
      const now = this.#now()
      const port = await this.#repo.getPort(w.trx, portId, true)
      if (!port || (port.donor !== iss && port.recipientOperator !== iss)) throw new NodeError('not-found', { detail: 'no such port' })
      if (status === 'objected') {
        if (port.donor !== iss) throw new NodeError('port-objection-forbidden', { detail: 'only the donor may object' })
        if (port.status !== 'pending' || port.objectionDeadline <= now) throw new NodeError('port-objection-closed', { detail: `the port is ${port.status === 'pending' ? 'past its objection deadline' : port.status}` })
      } else {
        if (port.recipientOperator !== iss) throw new NodeError('port-cancel-forbidden', { detail: 'only the new operator may cancel' })
        if (port.status !== 'pending' || port.cutoverAt <= now) throw new NodeError('port-not-cancellable', { detail: `the port is ${port.status === 'pending' ? 'past its cut-over' : port.status}` })
      }
      await this.#directory.service.voidScheduledIn(w, port.address, port.recipientOperator, port.donor)
      return this.#repo.setStatus(w.trx, portId, status, now, reason)
    })
    await this.#emit(ended, status)
    return ended
  }
}
