/**
 * The signed report: a compact JWS (typ `timbre-conformance-report+jws`,
 * EdDSA) by the runner's key over the JSON report, whose `runner.publicKey`
 * embeds the verification key; pin it with `verify-report --key`.
 */
import { CompactSign, compactVerify, decodeProtectedHeader, importJWK } from 'jose'
import { jwkThumbprint, type PrivateJwk, type PublicJwk } from '@timbre/sdk'
import type { RunReport } from '../runner/run.js'

export const REPORT_TYP = 'timbre-conformance-report+jws'

export async function signReport(r: RunReport, key: PrivateJwk): Promise<string> {
  const k = await importJWK({ kty: 'OKP', crv: 'Ed25519', x: key.x, d: key.d }, 'EdDSA')
  return new CompactSign(new TextEncoder().encode(JSON.stringify(r))).setProtectedHeader({ alg: 'EdDSA', typ: REPORT_TYP, kid: key.kid }).sign(k)
}

export interface VerifiedReport {
  report: RunReport
  key: PublicJwk
  pinned: boolean
}

/** Verify a signed report with the embedded key, or with a pinned key that must be the same. */
export async function verifySignedReport(jws: string, pinned?: PublicJwk): Promise<VerifiedReport> {
  const token = jws.trim()
  const header = decodeProtectedHeader(token)
  if (header.alg !== 'EdDSA') throw new Error(`alg ${String(header.alg)} is not allowed`)
  if (header.typ !== REPORT_TYP) throw new Error(`typ must be ${REPORT_TYP}`)
  if ('crit' in header || 'jwk' in header || 'jku' in header) throw new Error('crit, jwk and jku are not allowed')
  const unverified = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as RunReport
  const embedded = unverified.runner?.publicKey
  const key = pinned ?? embedded
  if (!key || key.crv !== 'Ed25519') throw new Error('no Ed25519 verification key (embedded or pinned)')
  const kid = await jwkThumbprint(key as any)
  if (header.kid !== kid) throw new Error(`the report was signed by kid ${String(header.kid)}, not by ${kid}`)
  if (pinned && embedded && (await jwkThumbprint(embedded as any)) !== kid) throw new Error('the embedded key is not the pinned key')
  const { payload } = await compactVerify(token, await importJWK({ kty: 'OKP', crv: 'Ed25519', x: key.x }, 'EdDSA'), { algorithms: ['EdDSA'] }).catch(() => {
    throw new Error('the signature does not verify')
  })
  return { report: JSON.parse(new TextDecoder().decode(payload)) as RunReport, key, pinned: !!pinned }
}
