/**
 * The simulated vault operator behind a routing node under test: an HTTP
 * server (node:http) built on the SDK's VaultKit that follows spec 6, and
 * records every relay it receives and every webhook the node sends, so the
 * routing-node assertions can observe relays, retries, evidence, webhooks
 * and rerouting. Per address, a script can make it answer 503 with
 * Retry-After once, 409 recipient-moved once, a final 404 with a
 * DepositRejection, or 201 with evidence that does not verify once.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  generateEncryptionKey,
  generateSigningKey,
  peekEnvelope,
  signEvidence,
  toPublicJwk,
  tokenDigest,
  decodeEvidence,
  type Jwks,
  type PrivateJwk,
  type PublicJwk,
} from '@timbre/sdk'
import { MemoryVaultStorage, VaultKit, type RelayHandler, type RelayRequest } from '@timbre/sdk/vault'

export const SUITE_VAULT_OPERATOR = 'vault.conformance.timbre.test'

/** What the vault does with the next relay for an address. */
export type VaultScript = 'unavailable-once' | 'moved-once' | 'reject' | 'bad-evidence-once'

export interface RecordedRelay {
  at: number
  headers: IncomingHttpHeaders
  raw: string
  body: any
  status: number
  response: any
}

export interface RecordedWebhook {
  at: number
  path: string
  headers: IncomingHttpHeaders
  raw: string
  body: any
}

export interface SimulatedVaultOptions {
  operatorId?: string
  host?: string
  port?: number
  /** The URL the node under test reaches this vault at (default http://host:port). */
  publicUrl?: string
  /** Keys of the routing node under test (its JWKS), by operator id. */
  resolveNodeKey: (iss: string, kid: string) => PublicJwk | undefined | Promise<PublicJwk | undefined>
  /** Keys of the directory that signs routes. */
  resolveDirectoryKey: (kid: string) => PublicJwk | undefined | Promise<PublicJwk | undefined>
}

export class SimulatedVault {
  readonly relays: RecordedRelay[] = []
  readonly webhooks: RecordedWebhook[] = []
  readonly scripts = new Map<string, VaultScript>()
  #served = new Map<string, number>()
  #server?: Server
  #waiters = new Set<() => void>()
  url = ''

  private constructor(
    readonly operatorId: string,
    readonly signingKey: PrivateJwk,
    readonly encryptionKey: PrivateJwk,
    readonly kit: VaultKit,
    readonly storage: MemoryVaultStorage,
    readonly handler: RelayHandler,
  ) {}

  static async start(o: SimulatedVaultOptions): Promise<SimulatedVault> {
    const signingKey = await generateSigningKey()
    const encryptionKey = await generateEncryptionKey()
    const storage = new MemoryVaultStorage()
    const operatorId = o.operatorId ?? SUITE_VAULT_OPERATOR
    const kit = new VaultKit({
      operatorId,
      signingKey,
      encryptionKeys: [encryptionKey],
      storage,
      resolveNodeKey: o.resolveNodeKey,
      resolveDirectoryKey: o.resolveDirectoryKey,
    })
    const v = new SimulatedVault(operatorId, signingKey, encryptionKey, kit, storage, kit.relayHandler())
    await v.#listen(o.host ?? '127.0.0.1', o.port ?? 0, o.publicUrl)
    return v
  }

  get jwks(): Jwks {
    return { keys: [{ ...toPublicJwk(this.signingKey), use: 'sig' }, { ...toPublicJwk(this.encryptionKey), use: 'enc' }] as PublicJwk[] }
  }

  get relayEndpoint(): string {
    return `${this.url}/v1/relay`
  }

  webhookUrl(senderId: string): string {
    return `${this.url}/webhooks/${encodeURIComponent(senderId)}`
  }

  openAccount(): Promise<string> {
    return this.kit.openAccount()
  }

  /** Relays received for a message, in order. */
  relaysFor(messageId: string): RecordedRelay[] {
    return this.relays.filter((r) => r.body && typeof r.body.envelope === 'string' && peekEnvelope(r.body.envelope)?.messageId === messageId)
  }

  /** Wait until `check` returns a value, or `ms` pass. */
  async waitFor<T>(check: () => T | undefined | false, ms: number): Promise<T | undefined> {
    const deadline = Date.now() + ms
    for (;;) {
      const v = check()
      if (v) return v
      const left = deadline - Date.now()
      if (left <= 0) return undefined
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer)
          this.#waiters.delete(wake)
          resolve()
        }
        const timer = setTimeout(wake, Math.min(left, 250))
        this.#waiters.add(wake)
      })
    }
  }

  #notify(): void {
    for (const w of [...this.#waiters]) w()
  }

  async #scripted(req: RelayRequest, raw: string): Promise<{ status: number; headers: Record<string, string>; body: unknown } | undefined> {
    let body: any
    try {
      body = JSON.parse(raw)
    } catch {
      return undefined
    }
    const m = typeof body?.envelope === 'string' ? peekEnvelope(body.envelope) : undefined
    if (!m) return undefined
    const script = this.scripts.get(m.recipient)
    if (!script) return undefined
    const key = `${m.sender}|${m.messageId}|${script}`
    const n = this.#served.get(key) ?? 0
    const problem = (status: number, code: string, title: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) => ({
      status,
      headers: { 'content-type': 'application/problem+json', ...headers },
      body: { type: `https://timbre.dev/problems/${code}`, title, status, code, retryable: status >= 500 || status === 429, ...extra },
    })
    if (script === 'unavailable-once' && n === 0) {
      this.#served.set(key, 1)
      return problem(503, 'unavailable', 'Service unavailable', { retryAfter: 1 }, { 'retry-after': '1' })
    }
    if (script === 'moved-once' && n === 0) {
      this.#served.set(key, 1)
      return problem(409, 'recipient-moved', 'Recipient moved', { operator: 'moved-to.conformance.timbre.test' })
    }
    if (script === 'reject') {
      this.#served.set(key, n + 1)
      const stamp = decodeEvidence(body.stamp)
      const { jws } = await signEvidence(
        {
          event: 'DepositRejection',
          issuer: this.operatorId,
          messageId: m.messageId,
          sender: m.sender,
          recipient: m.recipient,
          contentDigest: m.content.digest,
          envelopeDigest: tokenDigest(body.envelope),
          senderKid: stamp.senderKid ?? '',
          recipientOperator: this.operatorId,
          previousEvidenceId: stamp.evidenceId,
          reason: { code: 'recipient-unknown' },
        } as any,
        this.signingKey,
      )
      return problem(404, 'recipient-unknown', 'Recipient unknown', { evidence: jws })
    }
    if (script === 'bad-evidence-once' && n === 0) {
      const res = await this.handler(req)
      if (res.status !== 201 && res.status !== 200) return res as any
      this.#served.set(key, 1)
      // Evidence by a key the directory does not list for this operator: the node must not count it.
      const ev = decodeEvidence((res.body as any).evidence)
      const { v: _v, evidenceId: _e, time: _t, ...rest } = ev
      const { jws } = await signEvidence(rest, await generateSigningKey())
      return { status: 201, headers: { 'content-type': 'application/json' }, body: { evidence: jws } }
    }
    return undefined
  }

  async #listen(host: string, port: number, publicUrl?: string): Promise<void> {
    const server = createServer(async (req, res) => {
      const chunks: Buffer[] = []
      for await (const c of req) chunks.push(c as Buffer)
      const rawBuf = Buffer.concat(chunks)
      const raw = rawBuf.toString('utf8')
      const path = req.url ?? '/'
      const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers })
        res.end(body === undefined ? '' : JSON.stringify(body))
      }
      try {
        if (req.method === 'GET' && path === '/.well-known/timbre') {
          return json(200, {
            protocol: 'timbre',
            versions: ['1'],
            nodeId: this.operatorId,
            roles: ['vault-operator'],
            endpoints: { relay: this.relayEndpoint, jwks: `${this.url}/.well-known/jwks.json` },
            profiles: ['core'],
            limits: { maxContentBytes: 10_000_000, maxRequestBytes: 15_000_000 },
            algorithms: { signature: ['EdDSA'], keyAgreement: ['ECDH-ES+A256KW'], contentEncryption: ['A256GCM'] },
            retry: { deliveryWindowSeconds: 259200 },
          })
        }
        if (req.method === 'GET' && path === '/.well-known/jwks.json') return json(200, this.kit.jwks())
        if (req.method === 'POST' && path.startsWith('/webhooks/')) {
          let body: any
          try {
            body = JSON.parse(raw)
          } catch {
            body = undefined
          }
          this.webhooks.push({ at: Date.now(), path, headers: req.headers, raw, body })
          this.#notify()
          return json(204, undefined)
        }
        if (path === '/v1/relay') {
          const rreq: RelayRequest = { method: req.method ?? 'POST', path, headers: req.headers as RelayRequest['headers'], rawBody: new Uint8Array(rawBuf) }
          const out = (await this.#scripted(rreq, raw)) ?? (await this.handler(rreq))
          let body: any
          try {
            body = JSON.parse(raw)
          } catch {
            body = undefined
          }
          this.relays.push({ at: Date.now(), headers: req.headers, raw, body, status: out.status, response: out.body })
          this.#notify()
          res.writeHead(out.status, out.headers as Record<string, string>)
          return res.end(typeof out.body === 'string' ? out.body : JSON.stringify(out.body))
        }
        res.writeHead(404, { 'content-type': 'application/problem+json' })
        res.end(JSON.stringify({ type: 'https://timbre.dev/problems/not-found', title: 'Not found', status: 404, code: 'not-found', retryable: false }))
      } catch (err) {
        res.writeHead(500, { 'content-type': 'application/problem+json' })
        res.end(JSON.stringify({ type: 'https://timbre.dev/problems/internal-error', title: 'Internal error', status: 500, code: 'internal-error', retryable: true, detail: String((err as Error).message) }))
      }
    })
    await new Promise<void>((r) => server.listen(port, host, r))
    this.#server = server
    const a = server.address() as AddressInfo
    this.url = (publicUrl ?? `http://${host}:${a.port}`).replace(/\/+$/, '')
  }

  close(): Promise<void> {
    return new Promise((r) => {
      if (!this.#server) return r()
      this.#server.closeAllConnections?.()
      this.#server.close(() => r())
    })
  }
}
