// Keys kept as JWK files next to the example's data: created on first run,
// read back afterwards. Private keys are written with mode 0600.
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { generateEncryptionKey, generateSigningKey, toPublicJwk, type PrivateJwk, type PublicJwk } from '@timbre/sdk'

/** Read a private JWK from `path`, or generate one of `kind` and save it there. */
export async function loadOrCreateKey(path: string, kind: 'sig' | 'enc'): Promise<{ key: PrivateJwk; created: boolean }> {
  try {
    const key = JSON.parse(await readFile(path, 'utf8')) as PrivateJwk
    const crv = kind === 'sig' ? 'Ed25519' : 'X25519'
    if (key.kty !== 'OKP' || key.crv !== crv || typeof key.d !== 'string' || typeof key.kid !== 'string') {
      throw new Error(`${path} is not a private ${crv} JWK`)
    }
    return { key, created: false }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const key = kind === 'sig' ? await generateSigningKey() : await generateEncryptionKey()
  await mkdir(dirname(path), { recursive: true })
  await writeFile(path, JSON.stringify(key, null, 2) + '\n', { mode: 0o600, flag: 'wx' })
  return { key, created: true }
}

/** Write the public part of a key (what gets registered elsewhere). */
export async function writePublicKey(path: string, key: PrivateJwk): Promise<PublicJwk> {
  const pub = toPublicJwk(key)
  await mkdir(dirname(path), { recursive: true })
  await writeFile(path, JSON.stringify(pub, null, 2) + '\n')
  return pub
}
