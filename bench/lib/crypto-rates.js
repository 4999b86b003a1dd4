// Ed25519 sign and verify rates with jose, 64 operations in flight.
import { CompactSign, compactVerify, generateKeyPair } from 'jose'

export async function ed25519Rates(seconds = 2) {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' })
  const payload = new TextEncoder().encode(JSON.stringify({ evidenceId: 'x'.repeat(36), event: 'SubmissionAcceptance', time: new Date().toISOString() }))
  const header = { alg: 'EdDSA', typ: 'timbre-evidence+jws', kid: 'k' }
  const sample = await new CompactSign(payload).setProtectedHeader(header).sign(privateKey)
  const run = async (op) => {
    let count = 0
    const end = Date.now() + seconds * 1000
    const worker = async () => {
      while (Date.now() < end) {
        await op()
        count++
      }
    }
    const started = Date.now()
    await Promise.all(Array.from({ length: 64 }, worker))
    return count / ((Date.now() - started) / 1000)
  }
  const sign = await run(() => new CompactSign(payload).setProtectedHeader(header).sign(privateKey))
  const verify = await run(() => compactVerify(sample, publicKey))
  return { signPerSecond: Math.round(sign), verifyPerSecond: Math.round(verify) }
}
