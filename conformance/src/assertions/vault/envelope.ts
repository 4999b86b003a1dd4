/** Envelope verification on relay (TMB-ENV, TMB-TRUST allowlist, TMB-RLY-005). */
import { generateSigningKey, toPublicJwk } from '@timbre/sdk'
import { negativeRelay } from '../negative.js'
import { relayBody, restamp, type RelayParts } from '../relay-kit.js'
import { hs256Jws, signRaw, tamperSignature, unsignedJws } from '../../actors/jws.js'
import type { AssertionContext } from '../../runner/context.js'

/** Replace the envelope, keeping the stamp consistent with it (so only the envelope is at fault). */
async function withEnvelope(ctx: AssertionContext, p: RelayParts, envelope: string) {
  return relayBody(await restamp(ctx, { ...p, sealed: { ...p.sealed, envelope } }))
}
async function withMetadata(ctx: AssertionContext, p: RelayParts, changes: Record<string, unknown>) {
  const metadata = { ...p.sealed.metadata, ...changes }
  for (const [k, v] of Object.entries(changes)) if (v === undefined) delete (metadata as any)[k]
  return withEnvelope(ctx, p, await p.sender.resign(metadata))
}
const header = (p: RelayParts) => ({ typ: 'timbre-envelope+jws', kid: p.senderKey.kid })

export const vaultEnvelopeAssertions = [
  negativeRelay({
    id: 'vault.envelope.tampered-signature',
    description: 'An envelope whose signature does not verify with senderKey is refused with 400 envelope-invalid',
    requirements: ['TMB-ENV-008', 'TMB-RLY-005'],
    expect: 'envelope-invalid',
    spoil: async (ctx, p) => withEnvelope(ctx, p, tamperSignature(p.sealed.envelope)),
  }),
  negativeRelay({
    id: 'vault.envelope.altered-payload',
    description: 'An envelope whose payload was altered after signing (title changed) is refused with 400 envelope-invalid',
    requirements: ['TMB-ENV-008', 'TMB-RLY-005'],
    expect: 'envelope-invalid',
    spoil: async (ctx, p) => {
      const [h, , s] = p.sealed.envelope.split('.')
      const payload = Buffer.from(JSON.stringify({ ...p.sealed.metadata, title: 'Altered in transit' })).toString('base64url')
      return withEnvelope(ctx, p, `${h}.${payload}.${s}`)
    },
  }),
  negativeRelay({
    id: 'vault.envelope.wrong-typ',
    description: 'An envelope with typ JWT instead of timbre-envelope+jws is refused with 400 envelope-invalid',
    requirements: ['TMB-ENV-008', 'TMB-TRUST-025'],
    expect: 'envelope-invalid',
    spoil: async (ctx, p) => withEnvelope(ctx, p, await p.sender.resign(p.sealed.metadata, { typ: 'JWT' })),
  }),
  negativeRelay({
    id: 'vault.envelope.evidence-typ',
    description: 'A token of another kind (typ timbre-evidence+jws) in the envelope place is refused with 400 envelope-invalid',
    requirements: ['TMB-TRUST-025', 'TMB-ENV-008'],
    expect: 'envelope-invalid',
    spoil: async (ctx, p) => withEnvelope(ctx, p, await p.sender.resign(p.sealed.metadata, { typ: 'timbre-evidence+jws' })),
  }),
  negativeRelay({
    id: 'vault.envelope.alg-none',
    description: 'An unsigned envelope (alg none) is refused with 400 envelope-invalid',
    requirements: ['TMB-TRUST-026', 'TMB-ENV-008'],
    expect: 'envelope-invalid',
    spoil: async (ctx, p) => withEnvelope(ctx, p, unsignedJws(p.sealed.metadata, header(p))),
  }),
  negativeRelay({
    id: 'vault.envelope.alg-hs256',
    description: 'An envelope MACed with HS256 keyed by the sender public key (algorithm confusion) is refused with 400 envelope-invalid',
    requirements: ['TMB-TRUST-026', 'TMB-ENV-008'],
    expect: 'envelope-invalid',
    spoil: async (ctx, p) => withEnvelope(ctx, p, hs256Jws(p.sealed.metadata, header(p), p.senderKey.x)),
  }),
  negativeRelay({
    id: 'vault.envelope.crit-header',
    description: 'An envelope with a crit header parameter is refused with 400 envelope-invalid',
    requirements: ['TMB-TRUST-028', 'TMB-ENV-008'],
    expect: 'envelope-invalid',
    spoil: async (ctx, p) => {
      // jose refuses to sign an unknown crit; build the JWS by hand with the sender key.
      const { CompactSign, importJWK } = await import('jose')
      const k = await importJWK({ kty: 'OKP', crv: 'Ed25519', x: p.sender.key.x, d: p.sender.key.d }, 'EdDSA')
      const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(p.sealed.metadata)))
        .setProtectedHeader({ alg: 'EdDSA', ...header(p), crit: ['exp'], exp: 1 } as any)
        .sign(k)
        .catch(async () => {
          const h = Buffer.from(JSON.stringify({ alg: 'EdDSA', ...header(p), crit: ['exp'], exp: 1 })).toString('base64url')
          const body = Buffer.from(JSON.stringify(p.sealed.metadata)).toString('base64url')
          const { sign, createPrivateKey } = await import('node:crypto')
          const key = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', x: p.sender.key.x, d: p.sender.key.d }, format: 'jwk' })
          return `${h}.${body}.${sign(null, Buffer.from(`${h}.${body}`), key).toString('base64url')}`
        })
      return withEnvelope(ctx, p, jws)
    },
  }),
  negativeRelay({
    id: 'vault.envelope.embedded-key',
    description: 'An envelope signed by another key that it embeds as a jwk header (with the sender kid) is refused with 400 envelope-invalid',
    requirements: ['TMB-TRUST-027', 'TMB-ENV-008'],
    expect: 'envelope-invalid',
    spoil: async (ctx, p) => {
      const attacker = await generateSigningKey()
      const { kid: _kid, use: _use, alg: _alg, timbre_not_before: _nb, ...jwk } = toPublicJwk(attacker)
      return withEnvelope(ctx, p, await signRaw(p.sealed.metadata, { ...header(p), jwk }, attacker))
    },
  }),
  negativeRelay({
    id: 'vault.envelope.other-signer',
    description: "An envelope signed by a key other than the stamp's senderKid is refused with 400 envelope-invalid",
    requirements: ['TMB-RLY-005', 'TMB-ENV-008'],
    expect: 'envelope-invalid',
    spoil: async (ctx, p) => {
      const other = await generateSigningKey()
      const envelope = await p.sender.resign(p.sealed.metadata, {}, other)
      // The stamp still names the registered sender key, as the routing node saw it.
      const t = await ctx.target()
      const stamp = await ctx.router.stamp({ ...p.sealed, envelope }, t.operatorId, { senderKid: p.senderKey.kid })
      return { ...relayBody(p), envelope, stamp }
    },
  }),
  negativeRelay({
    id: 'vault.envelope.unknown-member',
    description: 'An envelope payload with a member the schema does not define is refused with 400 schema-violation',
    requirements: ['TMB-ENV-002'],
    expect: 'schema-violation',
    spoil: async (ctx, p) => withMetadata(ctx, p, { nationalId: '1850775123456' }),
  }),
  negativeRelay({
    id: 'vault.envelope.document-type',
    description: 'An envelope with an unregistered documentType is refused with 400 schema-violation',
    requirements: ['TMB-ENV-003', 'TMB-ENV-002', 'TMB-VER-009'],
    expect: 'schema-violation',
    spoil: async (ctx, p) => withMetadata(ctx, p, { documentType: 'love-letter' }),
  }),
  negativeRelay({
    id: 'vault.envelope.message-id',
    description: 'An envelope whose messageId is not a lowercase UUID v4/v7 is refused with 400 schema-violation',
    requirements: ['TMB-ID-005', 'TMB-ENV-002'],
    expect: 'schema-violation',
    spoil: async (ctx, p) => withMetadata(ctx, p, { messageId: p.sealed.metadata.messageId.toUpperCase() }),
  }),
  negativeRelay({
    id: 'vault.envelope.sender-id',
    description: 'An envelope whose sender is not an ISO 6523 icd:value id is refused with 400 schema-violation',
    requirements: ['TMB-ID-001', 'TMB-ENV-002'],
    expect: 'schema-violation',
    spoil: async (ctx, p) => withMetadata(ctx, p, { sender: 'ACME Payroll Ltd' }),
  }),
  negativeRelay({
    id: 'vault.envelope.version',
    description: 'An envelope payload with v 2 is refused (400 envelope-invalid or schema-violation)',
    requirements: ['TMB-TRUST-029', 'TMB-VER-002'],
    expect: ['envelope-invalid', 'schema-violation'],
    spoil: async (ctx, p) => withMetadata(ctx, p, { v: 2 }),
  }),
]
