// A minimal Timbre vault operator: VaultKit on file-system storage behind a
// small Fastify server. It trusts the routing nodes its directory admits,
// and registers itself and its accounts' lines at that directory.
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import Fastify, { type FastifyInstance } from 'fastify'
import {
  CONTENT_ENCRYPTION_ALG,
  createRequestProof,
  assertVaultAddress,
  formatVaultAddress,
  jwkThumbprint,
  KEY_AGREEMENT_ALG,
  SIGNATURE_ALG,
  type PublicJwk,
} from '@timbre/sdk'
import { FsVaultStorage, VaultKit, type DepositRecord } from '@timbre/sdk/vault'
import { AdminApi } from '../lib/admin.js'
import { jsonRequest, trimSlash } from '../lib/http.js'
import { loadOrCreateKey } from '../lib/keys.js'

export interface VaultNodeOptions {
  /** This operator's id (the `aud` of relays, the issuer of its evidence). */
  operatorId: string
  /** Human-readable name registered at the directory. */
  name?: string
  /** Where keys, the admin token and the documents live. */
  dataDir: string
  host?: string
  /** 0 picks a free port. */
  port?: number
  /** Public base URL; derived from the listening address when absent. */
  baseUrl?: string
  /** Base URL of the directory node (required: routes and trusted node keys come from it). */
  directoryUrl: string
  /** The directory's admin token: when given, the vault registers itself as an operator there at start. */
  directoryAdminToken?: string
  /** Bearer token of this vault's own small admin API; generated into the data dir when absent. */
  adminToken?: string
  /** Fastify logging (default off). */
  logger?: boolean
  /** How long looked-up operator keys are cached, in ms (default 60 s). */
  keyCacheMs?: number
}

export interface OpenedAccount {
  address: string
  displayAddress: string
  /** The signed directory line the directory answered with. */
  line: string
}

export interface RunningVault {
  readonly operatorId: string
  readonly url: string
  readonly adminToken: string
  readonly kit: VaultKit
  readonly app: FastifyInstance
  /** Register (or refresh) this operator at the directory with its admin token. */
  registerAtDirectory(directoryAdminToken: string): Promise<boolean>
  /** Open an account and register its line at the directory. */
  openAccount(): Promise<OpenedAccount>
  /** Every document deposited for an address. */
  documents(address: string): Promise<DepositRecord[]>
  close(): Promise<void>
}

interface CachedKeys {
  at: number
  keys: PublicJwk[]
}

async function adminTokenOf(dataDir: string, configured?: string): Promise<string> {
  if (configured) return configured
  const path = join(dataDir, 'admin-token')
  try {
    return (await readFile(path, 'utf8')).trim()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const token = randomBytes(24).toString('base64url')
  await writeFile(path, token + '\n', { mode: 0o600 })
  return token
}

/** Start a vault operator node. */
export async function startVaultNode(options: VaultNodeOptions): Promise<RunningVault> {
  const directoryUrl = trimSlash(options.directoryUrl)
  const cacheMs = options.keyCacheMs ?? 60_000
  await mkdir(options.dataDir, { recursive: true })
  const { key: signingKey } = await loadOrCreateKey(join(options.dataDir, 'keys', 'signing.jwk.json'), 'sig')
  const { key: encryptionKey } = await loadOrCreateKey(join(options.dataDir, 'keys', 'encryption.jwk.json'), 'enc')
  const adminToken = await adminTokenOf(options.dataDir, options.adminToken)

  // The directory's own discovery document gives its node id (the `aud` of our line registrations).
  let directoryNodeId: Promise<string> | undefined
  const directoryId = () =>
    (directoryNodeId ??= jsonRequest<{ nodeId: string }>(`${directoryUrl}/.well-known/timbre`).then(({ body }) => body.nodeId).catch((err) => {
      directoryNodeId = undefined
      throw err
    }))

  // Keys of other operators, from the directory's operator records; only keys whose kid is their thumbprint.
  const operatorKeys = new Map<string, CachedKeys>()
  const keysOf = async (operatorId: string, fresh = false): Promise<PublicJwk[]> => {
    const cached = operatorKeys.get(operatorId)
    if (cached && !fresh && Date.now() - cached.at < cacheMs) return cached.keys
    let keys: PublicJwk[] = []
    try {
      const { body } = await jsonRequest<{ id: string; status?: string; jwks?: { keys?: PublicJwk[] } }>(
        `${directoryUrl}/v1/directory/operators/${encodeURIComponent(operatorId)}`,
      )
      if (body.id === operatorId && (body.status ?? 'active') === 'active') keys = body.jwks?.keys ?? []
    } catch {
      keys = []
    }
    const checked: PublicJwk[] = []
    for (const k of keys) if (k.use === 'sig' && k.crv === 'Ed25519' && (await jwkThumbprint({ kty: k.kty, crv: k.crv, x: k.x })) === k.kid) checked.push(k)
    operatorKeys.set(operatorId, { at: Date.now(), keys: checked })
    return checked
  }
  const findKey = async (source: (fresh: boolean) => Promise<PublicJwk[]>, kid: string) =>
    (await source(false)).find((k) => k.kid === kid) ?? (await source(true)).find((k) => k.kid === kid)

  // The directory signs routes with the keys of its JWKS.
  let directoryJwks: CachedKeys | undefined
  const directoryKeys = async (fresh: boolean): Promise<PublicJwk[]> => {
    if (directoryJwks && !fresh && Date.now() - directoryJwks.at < cacheMs) return directoryJwks.keys
    const { body } = await jsonRequest<{ keys: PublicJwk[] }>(`${directoryUrl}/.well-known/jwks.json`)
    directoryJwks = { at: Date.now(), keys: body.keys.filter((k) => k.use === 'sig') }
    return directoryJwks.keys
  }

  const storage = new FsVaultStorage(join(options.dataDir, 'vault'))
  const app = Fastify({ logger: options.logger ?? false })
  const kit = new VaultKit({
    operatorId: options.operatorId,
    signingKey,
    encryptionKeys: [encryptionKey],
    storage,
    // A routing node the directory admits as an operator; the directory node itself is trusted as it signs our routes.
    resolveNodeKey: async (iss, kid) =>
      (await findKey((fresh) => keysOf(iss, fresh), kid)) ?? (iss === (await directoryId().catch(() => undefined)) ? findKey(directoryKeys, kid) : undefined),
    resolveDirectoryKey: (kid) => findKey(directoryKeys, kid),
    logger: app.log,
  })

  let baseUrl = options.baseUrl ? trimSlash(options.baseUrl) : ''
  const base = () => baseUrl

  // Discovery (spec 3.3): the roles played and the absolute URL of every endpoint served.
  app.get('/.well-known/timbre', async (_req, reply) => {
    reply.header('cache-control', 'public, max-age=300')
    return {
      protocol: 'timbre',
      versions: ['1'],
      nodeId: options.operatorId,
      roles: ['vault-operator'],
      endpoints: { relay: `${base()}/v1/relay`, jwks: `${base()}/.well-known/jwks.json` },
      profiles: ['core'],
      features: [],
      limits: { maxContentBytes: 10 * 1024 * 1024, maxRequestBytes: 15_000_000 },
      algorithms: { signature: [SIGNATURE_ALG], keyAgreement: [KEY_AGREEMENT_ALG], contentEncryption: [CONTENT_ENCRYPTION_ALG] },
      retry: { deliveryWindowSeconds: 259_200 },
    }
  })
  app.get('/.well-known/jwks.json', async (_req, reply) => {
    reply.header('cache-control', 'public, max-age=300').type('application/jwk-set+json')
    return kit.jwks()
  })
  app.get('/health', async () => ({ status: 'ok' }))
  app.get('/ready', async () => ({ status: 'ok' }))
  await app.register(kit.fastifyPlugin({ path: '/v1/relay' }))

  // This vault's own tiny admin API: open an account, list an account's documents.
  const authorized = (header: string | undefined) => header === `Bearer ${adminToken}`
  const unauthorized = { type: 'about:blank', title: 'Unauthorized', status: 401, code: 'admin-unauthorized' }

  async function openAccount(): Promise<OpenedAccount> {
    const address = await kit.openAccount()
    const path = `/v1/directory/addresses/${address}`
    const body = JSON.stringify({ operator: options.operatorId })
    const authorization = await createRequestProof({ key: signingKey, iss: options.operatorId, aud: await directoryId(), method: 'PUT', path, body })
    const { body: answer } = await jsonRequest<{ line: string }>(`${directoryUrl}${path}`, { method: 'PUT', headers: { authorization }, body })
    return { address, displayAddress: formatVaultAddress(address), line: answer.line }
  }

  app.post('/accounts', async (req, reply) => {
    if (!authorized(req.headers.authorization)) return reply.code(401).type('application/problem+json').send(unauthorized)
    return reply.code(201).send(await openAccount())
  })
  app.get<{ Params: { address: string } }>('/accounts/:address/documents', async (req, reply) => {
    if (!authorized(req.headers.authorization)) return reply.code(401).type('application/problem+json').send(unauthorized)
    let address: string
    try {
      address = assertVaultAddress(req.params.address)
    } catch {
      return reply.code(400).type('application/problem+json').send({ title: 'Bad vault address', status: 400, code: 'invalid-vault-address' })
    }
    if (!(await storage.account(address))) return reply.code(404).type('application/problem+json').send({ title: 'Not found', status: 404, code: 'not-found' })
    const documents = (await kit.documents(address)).map((d) => ({
      messageId: d.messageId,
      sender: d.sender,
      title: d.metadata.title,
      documentType: d.metadata.documentType,
      mediaType: d.metadata.content.mediaType,
      size: d.size,
      depositedAt: d.depositedAt,
      evidence: d.evidence,
    }))
    return { address, documents }
  })

  await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 })
  if (!baseUrl) {
    const addr = app.server.address()
    if (!addr || typeof addr === 'string') throw new Error('cannot tell the listening address')
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address
    baseUrl = `http://${host}:${addr.port}`
  }

  const vault: RunningVault = {
    operatorId: options.operatorId,
    url: baseUrl,
    adminToken,
    kit,
    app,
    registerAtDirectory(token: string) {
      return new AdminApi(directoryUrl, token).registerOperator({
        id: options.operatorId,
        ...(options.name && { name: options.name }),
        roles: ['vault-operator'],
        baseUrl,
        relayEndpoint: `${baseUrl}/v1/relay`,
        jwks: kit.jwks(),
        status: 'active',
      })
    },
    openAccount,
    documents: (address) => kit.documents(assertVaultAddress(address)),
    close: () => app.close(),
  }
  try {
    if (options.directoryAdminToken) await vault.registerAtDirectory(options.directoryAdminToken)
  } catch (err) {
    await app.close()
    throw err
  }
  return vault
}
