/** Stamp and route checks on relay (TMB-RLY-004, TMB-RLY-006). */
import { generateSigningKey, toPublicJwk, generateVaultAddress, contentDigest } from '@timbre/sdk'
import { negativeRelay } from '../negative.js'
import { relayBody, validParts, routeFor } from '../relay-kit.js'
import { signRaw, unsignedJws, decodeJws } from '../../actors/jws.js'
import { SimulatedDirectory } from '../../actors/directory.js'

export const vaultStampAssertions = [
  negativeRelay({
    id: 'vault.stamp.foreign-key',
    description: 'A stamp signed by a key that is not a trust-listed key of the relaying operator is refused with 400 stamp-invalid',
    requirements: ['TMB-RLY-004', 'TMB-TRUST-018'],
    expect: 'stamp-invalid',
    spoil: async (ctx, p) => {
      const t = await ctx.target()
      return { ...relayBody(p), stamp: await ctx.router.stamp(p.sealed, t.operatorId, {}, await generateSigningKey()) }
    },
  }),
  negativeRelay({
    id: 'vault.stamp.other-envelope',
    description: "A stamp issued for another envelope (envelopeDigest differs) is refused with 400 stamp-invalid",
    requirements: ['TMB-RLY-004'],
    expect: 'stamp-invalid',
    spoil: async (ctx, p) => {
      const other = await validParts(ctx)
      return { ...relayBody(p), stamp: other.stamp }
    },
  }),
  negativeRelay({
    id: 'vault.stamp.issuer',
    description: 'A stamp whose issuer is not the proof iss is refused with 400 stamp-invalid',
    requirements: ['TMB-RLY-004'],
    expect: 'stamp-invalid',
    spoil: async (ctx, p) => {
      const t = await ctx.target()
      return { ...relayBody(p), stamp: await ctx.router.stamp(p.sealed, t.operatorId, { issuer: 'another-router.conformance.test' }) }
    },
  }),
  negativeRelay({
    id: 'vault.stamp.event',
    description: 'Evidence other than SubmissionAcceptance in the stamp place is refused with 400 stamp-invalid',
    requirements: ['TMB-RLY-004'],
    expect: 'stamp-invalid',
    spoil: async (ctx, p) => {
      const t = await ctx.target()
      return { ...relayBody(p), stamp: await ctx.router.stamp(p.sealed, t.operatorId, { event: 'RelayAcceptance' }) }
    },
  }),
  negativeRelay({
    id: 'vault.stamp.sender-key',
    description: "A senderKey whose thumbprint is not the stamp's senderKid is refused with 400 stamp-invalid",
    requirements: ['TMB-RLY-004'],
    expect: 'stamp-invalid',
    spoil: async (_ctx, p) => ({ ...relayBody(p), senderKey: toPublicJwk(await generateSigningKey()) }),
  }),
  negativeRelay({
    id: 'vault.stamp.fields',
    description: "A stamp whose contentDigest differs from the envelope's is refused with 400 stamp-invalid",
    requirements: ['TMB-RLY-004'],
    expect: 'stamp-invalid',
    spoil: async (ctx, p) => {
      const t = await ctx.target()
      return { ...relayBody(p), stamp: await ctx.router.stamp(p.sealed, t.operatorId, { contentDigest: contentDigest('something else') }) }
    },
  }),
  negativeRelay({
    id: 'vault.stamp.alg-none',
    description: 'An unsigned stamp (alg none) is refused with 400 stamp-invalid',
    requirements: ['TMB-RLY-004', 'TMB-TRUST-026'],
    expect: 'stamp-invalid',
    spoil: async (_ctx, p) => {
      const { header, payload } = decodeJws(p.stamp)
      return { ...relayBody(p), stamp: unsignedJws(payload, header) }
    },
  }),
  negativeRelay({
    id: 'vault.stamp.wrong-typ',
    description: 'A stamp with typ other than timbre-evidence+jws is refused with 400 stamp-invalid',
    requirements: ['TMB-RLY-004', 'TMB-TRUST-025'],
    expect: 'stamp-invalid',
    spoil: async (ctx, p) => {
      const { header, payload } = decodeJws(p.stamp)
      return { ...relayBody(p), stamp: await signRaw(payload, { ...header, typ: 'timbre-envelope+jws' }, ctx.router.key) }
    },
  }),
  negativeRelay({
    id: 'vault.route.other-address',
    description: "A route (directory line) for another address than the envelope's recipient is refused with 400 stamp-invalid",
    requirements: ['TMB-RLY-006'],
    expect: 'stamp-invalid',
    spoil: async (ctx, p) => ({ ...relayBody(p), route: await routeFor(ctx, p.recipient === ctx.address(1) ? ctx.address(0) : ctx.address(1)) }),
  }),
  negativeRelay({
    id: 'vault.route.foreign-signer',
    description: 'A route signed by a key that is not the directory key is refused with 400 stamp-invalid',
    requirements: ['TMB-RLY-006'],
    expect: 'stamp-invalid',
    spoil: async (ctx, p) => {
      const t = await ctx.target()
      const rogue = new SimulatedDirectory(ctx.config.suite.operatorId, await generateSigningKey())
      return { ...relayBody(p), route: await rogue.line(p.recipient, t.operatorId, t.endpoint('relay', '/v1/relay'), t.encryptionKeys) }
    },
  }),
]

