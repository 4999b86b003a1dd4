// Sender keys for tests, made with the SDK (the protocol nouns live there).
import { generateSigningKey, toPublicJwk, type PrivateJwk, type PublicJwk } from '@timbre/sdk'

export async function senderKey(): Promise<{ privateJwk: PrivateJwk; publicJwk: PublicJwk; bare: { kty: string; crv: string; x: string } }> {
  const privateJwk = await generateSigningKey()
  const publicJwk = toPublicJwk(privateJwk)
  return { privateJwk, publicJwk, bare: { kty: 'OKP', crv: 'Ed25519', x: publicJwk.x } }
}
