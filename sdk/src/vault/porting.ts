/**
 * The vault operator's part in a port (spec 9.2–9.4): the donor issues and
 * registers porting codes, hears of ports through the directory's
 * notifications and may object for a coded reason; the new operator is the
 * person's single window and files the request. Account states follow: the
 * donor's account turns `moved` at `cutoverAt` (TMB-PORT-021/023).
 */
import { problemFor, TimbreError, type ProblemDetails } from '../errors.js'
import { fromUtf8 } from '../internal/bytes.js'
import { assertPortingCode, formatPortingCode, issuePortingCode as newPortingCode, portingCodeDigest } from '../protocol/porting-code.js'
import { uuidv7 } from '../protocol/identifiers.js'
import type { PrivateJwk } from '../protocol/keys.js'
import { verifyRequestProof } from '../protocol/request-auth.js'
import { assertSchema } from '../protocol/schemas.js'
import { assertVaultAddress } from '../protocol/vault-address.js'
import type { DirectoryPortingClient } from './porting-directory.js'
import type { IssuedPortingCode, NodeRequest, NodeResponse, Port, PortConsent, PortRequestHandler, PortStatus } from './porting-types.js'
import type { DirectoryKeyResolver, RelayLogger } from './relay-handler.js'
import type { ReplayStore } from './replay-store.js'
import type { VaultStorage } from './storage/types.js'

/** @internal What the desk needs from the kit. */
export interface PortingContext {
  operatorId: string
  signingKey: PrivateJwk
  storage: VaultStorage
  directory: () => DirectoryPortingClient
  replay: ReplayStore
  resolveDirectoryKey?: DirectoryKeyResolver | undefined
  logger?: RelayLogger | undefined
  now: () => Date
}

const DAY_MS = 86_400_000
const header = (req: NodeRequest, name: string): string | undefined => {
  const v = req.headers[name]
  return Array.isArray(v) ? v[0] : v
}

/** @internal The portability desk of one vault operator. */
export class PortingDesk {
  #ctx: PortingContext
  #onRequest: PortRequestHandler | undefined
  #onUpdate: Array<(port: Port) => void | Promise<void>> = []

  constructor(ctx: PortingContext) {
    this.#ctx = ctx
  }

  set onRequest(handler: PortRequestHandler | undefined) {
    this.#onRequest = handler
  }

  addUpdateListener(listener: (port: Port) => void | Promise<void>): void {
    this.#onUpdate.push(listener)
  }

  async issuePortingCode(address: string, ttlDays: number): Promise<IssuedPortingCode> {
    const a = assertVaultAddress(address)
    if (!(ttlDays > 0 && ttlDays <= 30)) throw new TypeError('ttlDays must be more than 0 and at most 30 (TMB-PORT-003)')
    const account = await this.#ctx.storage.account(a)
    if (account?.status !== 'active') throw new TimbreError('not-found', { detail: 'the address is not hosted here' })
    // 50 random bits from the CSPRNG (TMB-PORT-001); only the digest leaves this process (TMB-PORT-005).
    const code = newPortingCode(a)
    const expiresAt = new Date(this.#ctx.now().getTime() + ttlDays * DAY_MS).toISOString()
    await this.#ctx.directory().registerPortingCode({ address: a, codeDigest: portingCodeDigest(a, code), expiresAt })
    await this.#ctx.storage.appendJournal?.(a, { at: this.#ctx.now().toISOString(), event: 'port', detail: `porting code issued, valid until ${expiresAt}` })
    return { address: a, code, display: formatPortingCode(code), expiresAt }
  }

  async requestPortIn(input: { address: string; portingCode: string; consent: PortConsent }): Promise<Port> {
    const address = assertVaultAddress(input.address)
    // Checked before anything is sent, so the person hears of a typo at once (TMB-PORT-007).
    const portingCode = assertPortingCode(address, input.portingCode)
    const { consent } = input
    if (!consent || typeof consent.reference !== 'string' || !consent.reference || Number.isNaN(Date.parse(consent.givenAt))) {
      throw new TimbreError('schema-violation', { detail: 'consent needs givenAt and reference (TMB-PORT-010)' })
    }
    const port = await this.#ctx.directory().requestPort({ address, portingCode, consent: { givenAt: consent.givenAt, reference: consent.reference } })
    // The account exists before the cut-over, so relays are accepted from the first instant (TMB-PORT-022).
    await this.#ctx.storage.openAccount(address)
    await this.#ctx.storage.appendJournal?.(address, {
      at: this.#ctx.now().toISOString(),
      event: 'port',
      detail: `port ${port.portId} in from ${port.donor} requested, cut-over ${port.cutoverAt}, consent ${consent.reference}`,
    })
    return port
  }

  cancelPort(portId: string): Promise<Port> {
    return this.#ctx.directory().cancelPort(portId)
  }

  listPorts(status?: PortStatus): Promise<Port[]> {
    return this.#ctx.directory().listPorts(status)
  }

  getPort(portId: string): Promise<Port> {
    return this.#ctx.directory().getPort(portId)
  }

  /** Bring the account of a port in line with its status, as donor or new operator. */
  async apply(port: Port): Promise<void> {
    const { storage, operatorId } = this.#ctx
    if (port.donor !== operatorId) return
    if (port.status === 'pending' || port.status === 'completed') {
      if (!storage.markMoved) throw new TimbreError('internal-error', { detail: 'the storage cannot mark an account moved (markMoved)' })
      // Until cutoverAt the donor serves as before (TMB-PORT-021); from then on relays get recipient-moved (TMB-PORT-023).
      await storage.markMoved(port.address, port.recipientOperator, port.cutoverAt)
    } else {
      await storage.cancelMove?.(port.address, port.recipientOperator)
    }
  }

  async syncPorts(): Promise<Port[]> {
    const ports = await this.listPorts()
    for (const port of ports) await this.apply(port)
    return ports
  }

  async handleNotification(req: NodeRequest): Promise<NodeResponse<ProblemDetails>> {
    const requestId = req.requestId ?? header(req, 'x-request-id') ?? uuidv7()
    try {
      if (req.method.toUpperCase() !== 'POST') throw new TimbreError('method-not-allowed')
      const mediaType = header(req, 'content-type')?.split(';')[0]?.trim().toLowerCase()
      if (mediaType !== 'application/json') throw new TimbreError('unsupported-media-type')
      const directory = this.#ctx.directory()
      const directoryId = await directory.nodeId()
      const claims = await verifyRequestProof(header(req, 'authorization'), {
        aud: this.#ctx.operatorId,
        method: req.method,
        path: req.path,
        body: req.rawBody,
        resolveKey: async (iss, kid) => {
          if (iss !== directoryId) throw new TimbreError('node-untrusted', { detail: 'port notifications come from the directory only' })
          return this.#ctx.resolveDirectoryKey ? this.#ctx.resolveDirectoryKey(kid, iss) : directory.key(kid)
        },
      })
      if (!(await this.#ctx.replay.claim(claims.jti, claims.exp))) throw new TimbreError('request-replayed')
      let parsed: unknown
      try {
        parsed = JSON.parse(fromUtf8(req.rawBody))
      } catch {
        throw new TimbreError('malformed-json')
      }
      const port = assertSchema<Port>('port.json', parsed)
      await this.#notified(port)
      return { status: 202, headers: { 'x-request-id': requestId }, body: undefined }
    } catch (caught) {
      const err = caught instanceof TimbreError ? caught : new TimbreError('internal-error', { cause: caught })
      if (!(caught instanceof TimbreError)) this.#ctx.logger?.error({ requestId }, 'port notification failed')
      const problem = problemFor(err.code, { detail: err.detail, requestId, extra: err.extra })
      return { status: problem.status, headers: { 'content-type': 'application/problem+json', 'x-request-id': requestId }, body: problem }
    }
  }

  async #notified(port: Port): Promise<void> {
    let current = port
    if (port.donor === this.#ctx.operatorId && port.status === 'pending' && this.#onRequest) {
      const decision = await this.#onRequest(port)
      if (decision && 'object' in decision) {
        try {
          current = await this.#ctx.directory().objectPort(port.portId, decision.object, decision.detail)
        } catch (err) {
          // Too late or not ours: the port stands, and the account follows it.
          if (!(err instanceof TimbreError) || (err.code !== 'port-objection-closed' && err.code !== 'port-objection-forbidden')) throw err
          this.#ctx.logger?.warn({ portId: port.portId, code: err.code }, 'objection refused')
        }
      }
    }
    await this.apply(current)
    const detail = `port ${current.portId} ${current.status}${current.reason ? ` (${current.reason.code})` : ''}`
    await this.#ctx.storage.appendJournal?.(current.address, { at: this.#ctx.now().toISOString(), event: 'port', detail })
    for (const listener of this.#onUpdate) await listener(current)
  }
}
