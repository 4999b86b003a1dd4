/** Key files of the suite and of the simulated sender. */
import { readFileSync, writeFileSync, existsSync } from 'node:fs'
import { generateSigningKey, type PrivateJwk } from '@timbre/sdk'
import { HarnessError } from '../types.js'

/** Read a private Ed25519 JWK from a file (`{ ...jwk }` or `{ "key": jwk }`). */
export function readKeyFile(path: string): PrivateJwk {
  if (!existsSync(path)) throw new HarnessError(`key file ${path} does not exist (run \`timbre-conformance init\`)`)
  const raw = JSON.parse(readFileSync(path, 'utf8'))
  const jwk = (raw.key ?? raw) as PrivateJwk
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.d !== 'string') throw new HarnessError(`${path} does not hold a private Ed25519 JWK`)
  return jwk
}

/** Create a fresh key file (mode 0600). */
export async function writeNewKeyFile(path: string): Promise<PrivateJwk> {
  const key = await generateSigningKey()
  writeFileSync(path, JSON.stringify(key, null, 2) + '\n', { mode: 0o600 })
  return key
}
