/**
 * Signed directory answers (TMB-DIR): the line that maps a vault address to
 * the operator serving it, with its version and effect times.
 */
import { signJws, verifyJws, peekPayload } from '../internal/jws.js'
import type { PrivateJwk, PublicJwk } from './keys.js'
import { toResolver, type TrustedKeys } from './evidence.js'

/** `typ` of a directory line JWS. */
export const DIRECTORY_LINE_TYP = 'timbre-directory-line+jws'

/** One version of the routing line of a vault address. */
export interface DirectoryLine {
  v: 1
  address: string
  operator: string
  relayEndpoint: string
  encryptionKeys: PublicJwk[]
  version: number
  validFrom: string
  validTo: string | null
  issuedAt: string
  issuer: string
}

/**
 * Sign a directory line as the directory.
 *
 * @example
 * ```ts
 * const jws = await signDirectoryLine(line, directoryKey)
 * ```
 */
export function signDirectoryLine(line: DirectoryLine, key: PrivateJwk): Promise<string> {
  return signJws(line, DIRECTORY_LINE_TYP, key)
}

/**
 * Verify a signed directory line against the directory's keys.
 *
 * @example
 * ```ts
 * const line = await verifyDirectoryLine(res.line, directoryJwks)
 * line.encryptionKeys[0] // the operator's X25519 key to encrypt for
 * ```
 */
export async function verifyDirectoryLine(jws: string, keys: TrustedKeys): Promise<DirectoryLine> {
  const { payload } = await verifyJws<DirectoryLine>(jws, {
    typ: DIRECTORY_LINE_TYP,
    resolveKey: toResolver(keys),
    code: 'auth-invalid',
  })
  return payload
}

/**
 * Read a directory line WITHOUT verifying it.
 *
 * @example
 * ```ts
 * peekDirectoryLine(route)?.version
 * ```
 */
export function peekDirectoryLine(jws: string): DirectoryLine | undefined {
  return peekPayload<DirectoryLine>(jws)
}
