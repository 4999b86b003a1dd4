/**
 * A reference vault operator node built only from the SDK's VaultKit,
 * served with node:http on 127.0.0.1:0: discovery, JWKS, health and relay.
 * `wrap` lets a broken variant alter the relay handler.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { generateEncryptionKey, generateSigningKey, toPublicJwk, type PrivateJwk } from '@timbre/sdk'
import { MemoryVaultStorage, VaultKit, type RelayHandler, type RelayRequest, type RelayResponse } from '@timbre/sdk/vault'

export const VAULT_OPERATOR = 'vault.conformance.test'
export const SUITE_OPERATOR = 'conformance.timbre.test'
/** The operator a test vault's scheduled move goes to (feature portability). */
export const NEW_OPERATOR = 'vault-new.conformance.test'
/** How long after start-up the scheduled move takes effect: the port assertion runs first and deposits before it. */
export const MOVE_AFTER_MS = 4000
/** Small limits keep the body-too-large assertion fast; the kit enforces what discovery announces. */
export const LIMITS = { maxContentBytes: 1_000_000, maxRequestBytes: 2_000_000 }

export interface TestVault {
  url: string
  addresses: string[]
  suiteKey: PrivateJwk
  /** An account scheduled to move to NEW_OPERATOR (storage.markMoved at a future cut-over). */
  moved: { address: string; operator: string; cutoverAt: string }
  kit: VaultKit
  signingKey: PrivateJwk
  encryptionKey: PrivateJwk
  close(): Promise<void>
}

export interface VaultParts {
  kit: VaultKit
  signingKey: PrivateJwk
  encryptionKey: PrivateJwk
}

export type Wrap = (handler: RelayHandler, parts: VaultParts) => (req: RelayRequest) => Promise<RelayResponse>

export async function startVault(wrap?: Wrap): Promise<TestVault> {
  const suiteKey = await generateSigningKey()
  const signingKey = await generateSigningKey()
  const encryptionKey = await generateEncryptionKey()
  const kit = new VaultKit({
    operatorId: VAULT_OPERATOR,
    signingKey,
    encryptionKeys: [encryptionKey],
    storage: new MemoryVaultStorage(),
    maxContentBytes: LIMITS.maxContentBytes,
    maxRequestBytes: LIMITS.maxRequestBytes,
    resolveNodeKey: (iss, kid) => (iss === SUITE_OPERATOR && kid === suiteKey.kid ? toPublicJwk(suiteKey) : undefined),
    // The suite also plays the directory that signs routes.
    ...({ resolveDirectoryKey: (kid: string) => (kid === suiteKey.kid ? toPublicJwk(suiteKey) : undefined) } as object),
  })
  const addresses = [await kit.openAccount(), await kit.openAccount()]
  const movedAddress = await kit.openAccount()
  const cutoverAt = new Date(Date.now() + MOVE_AFTER_MS).toISOString()
  const storage = (kit as unknown as { storage: MemoryVaultStorage }).storage
  await storage.markMoved(movedAddress, NEW_OPERATOR, cutoverAt)
  const base = kit.relayHandler()
  const relay = wrap ? wrap(base, { kit, signingKey, encryptionKey }) : base
  let url = ''
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const path = req.url ?? '/'
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers })
      res.end(JSON.stringify(body))
    }
    if (req.method === 'GET' && path === '/.well-known/timbre') {
      return json(200, {
        protocol: 'timbre',
        versions: ['1'],
        nodeId: VAULT_OPERATOR,
        roles: ['vault-operator'],
        endpoints: { relay: `${url}/v1/relay`, jwks: `${url}/.well-known/jwks.json`, archiveImports: `${url}/v1/archive-imports` },
        profiles: ['core'],
        limits: LIMITS,
        algorithms: { signature: ['EdDSA'], keyAgreement: ['ECDH-ES+A256KW'], contentEncryption: ['A256GCM'] },
        retry: { deliveryWindowSeconds: 259200 },
        tariffs: [],
      })
    }
    if (req.method === 'GET' && path === '/.well-known/jwks.json') return json(200, kit.jwks(), { 'cache-control': 'max-age=300' })
    if (req.method === 'GET' && (path === '/health' || path === '/ready')) return json(200, { status: 'ok' })
    if (path === '/v1/relay') {
      const out = await relay({ method: req.method ?? 'POST', path, headers: req.headers as RelayRequest['headers'], rawBody: new Uint8Array(Buffer.concat(chunks)) })
      res.writeHead(out.status, out.headers)
      return res.end(typeof out.body === 'string' ? out.body : JSON.stringify(out.body))
    }
    res.writeHead(404, { 'content-type': 'application/problem+json' })
    res.end(JSON.stringify({ type: 'https://timbre.dev/problems/not-found', title: 'Not found', status: 404, code: 'not-found', retryable: false }))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    addresses,
    suiteKey,
    moved: { address: movedAddress, operator: NEW_OPERATOR, cutoverAt },
    kit,
    signingKey,
    encryptionKey,
    close: () => new Promise<void>((r) => server.close(() => r())),
  }
}
