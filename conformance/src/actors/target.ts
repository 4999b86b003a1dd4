/**
 * What the suite learns about its target before testing: the discovery
 * document, the JWKS, the operator id and the endpoints.
 */
import { KeySet, type PublicJwk, type Jwks } from '@timbre/sdk'
import type { RecordingHttp } from '../http.js'
import { HarnessError } from '../types.js'

export interface TargetInfo {
  baseUrl: string
  discovery: any
  jwks: Jwks
  keys: KeySet
  operatorId: string
  /** Current X25519 key to encrypt for. */
  encryptionKey?: PublicJwk
  encryptionKeys: PublicJwk[]
  endpoint(name: string, fallbackPath: string): string
}

export async function discoverTarget(http: RecordingHttp, baseUrl: string, configuredOperatorId?: string): Promise<TargetInfo> {
  const base = baseUrl.replace(/\/+$/, '')
  let res
  try {
    res = await http.send(`${base}/.well-known/timbre`)
  } catch (err) {
    throw new HarnessError(`the target ${base} is unreachable: ${(err as Error).message}`)
  }
  if (res.status !== 200 || typeof res.json !== 'object') throw new HarnessError(`GET /.well-known/timbre answered ${res.status}; cannot discover the target`)
  const discovery = res.json
  const jwksUrl = typeof discovery.endpoints?.jwks === 'string' ? discovery.endpoints.jwks : `${base}/.well-known/jwks.json`
  const jr = await http.send(jwksUrl)
  if (jr.status !== 200 || !Array.isArray(jr.json?.keys)) throw new HarnessError(`GET ${jwksUrl} answered ${jr.status} without a key set`)
  const jwks = jr.json as Jwks
  const keys = new KeySet(jwks.keys.filter((k: any) => k && typeof k.kid === 'string'))
  const encryptionKeys = jwks.keys.filter((k: any) => k?.crv === 'X25519' && k.use !== 'sig')
  const encryptionKey = encryptionKeys.find((k) => !k.timbre_not_after) ?? encryptionKeys[0]
  const operatorId = configuredOperatorId ?? discovery.nodeId
  if (typeof operatorId !== 'string') throw new HarnessError('the target operator id is unknown: set operatorId in the config or publish nodeId in discovery')
  return {
    baseUrl: base,
    discovery,
    jwks,
    keys,
    operatorId,
    encryptionKey,
    encryptionKeys,
    endpoint(name, fallbackPath) {
      const v = discovery.endpoints?.[name]
      return typeof v === 'string' ? v : base + fallbackPath
    },
  }
}
