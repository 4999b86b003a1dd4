/** Content binding, decryption and plaintext checks on relay (TMB-ENV, TMB-RLY). */
import { contentDigest, generateEncryptionKey, toPublicJwk } from '@timbre/sdk'
import { negativeRelay } from '../negative.js'
import { recipientKey, relayBody, restamp, validParts, type RelayParts } from '../relay-kit.js'
import type { AssertionContext } from '../../runner/context.js'
import type { SealedEnvelope } from '@timbre/sdk'

async function withSealed(ctx: AssertionContext, p: RelayParts, sealed: SealedEnvelope) {
  return relayBody(await restamp(ctx, { ...p, sealed }))
}
async function withMetadata(ctx: AssertionContext, p: RelayParts, changes: Record<string, unknown>) {
  const metadata = { ...p.sealed.metadata, ...changes } as SealedEnvelope['metadata']
  return withSealed(ctx, p, { ...p.sealed, metadata, envelope: await p.sender.resign(metadata) })
}
async function withJweHeader(ctx: AssertionContext, p: RelayParts, h: Record<string, unknown>) {
  return withSealed(ctx, p, await p.sender.sealWithJweHeader({ recipient: p.recipient, recipientKey: await recipientKey(ctx) }, h))
}

export const vaultContentAssertions = [
  negativeRelay({
    id: 'vault.content.swapped',
    description: "Content JWE swapped for another document's is refused with 422 content-digest-mismatch",
    requirements: ['TMB-ENV-009'],
    expect: 'content-digest-mismatch',
    spoil: async (ctx, p) => {
      const other = await validParts(ctx)
      return { ...relayBody(p), content: other.sealed.content }
    },
  }),
  negativeRelay({
    id: 'vault.content.jwe-typ',
    description: 'A content JWE with typ other than timbre-content+jwe is refused with 400 envelope-invalid',
    requirements: ['TMB-ENV-010', 'TMB-TRUST-025'],
    expect: 'envelope-invalid',
    spoil: async (ctx, p) => withJweHeader(ctx, p, { typ: 'JWE' }),
  }),
  negativeRelay({
    id: 'vault.content.jwe-enc',
    description: 'A content JWE with enc A128GCM is refused with 400 envelope-invalid',
    requirements: ['TMB-ENV-010', 'TMB-TRUST-026'],
    expect: 'envelope-invalid',
    spoil: async (ctx, p) => withJweHeader(ctx, p, { enc: 'A128GCM' }),
  }),
  negativeRelay({
    id: 'vault.content.jwe-zip',
    description: 'A content JWE with a zip parameter is refused with 400 envelope-invalid',
    requirements: ['TMB-ENV-010', 'TMB-TRUST-028'],
    expect: 'envelope-invalid',
    spoil: async (ctx, p) => withJweHeader(ctx, p, { zip: 'DEF' }),
  }),
  negativeRelay({
    id: 'vault.content.jwe-kid',
    description: "A content JWE whose kid differs from the envelope's recipientKid is refused with 400 envelope-invalid",
    requirements: ['TMB-ENV-010'],
    expect: 'envelope-invalid',
    spoil: async (ctx, p) => withJweHeader(ctx, p, { kid: 'conformance-not-the-recipient-kid' }),
  }),
  negativeRelay({
    id: 'vault.content.undecryptable',
    description: 'Content encrypted for an X25519 key the target does not hold is refused with 422 content-undecryptable',
    requirements: ['TMB-RLY-013'],
    expect: 'content-undecryptable',
    spoil: async (ctx, p) => {
      const stranger = toPublicJwk(await generateEncryptionKey())
      const sealed = await p.sender.seal({ recipient: p.recipient, recipientKey: stranger })
      return withSealed(ctx, p, sealed)
    },
  }),
  negativeRelay({
    id: 'vault.content.plaintext-digest',
    description: 'A document whose decrypted bytes do not match content.digest is refused with 422 content-digest-mismatch',
    requirements: ['TMB-ENV-014', 'TMB-RLY-014'],
    expect: 'content-digest-mismatch',
    spoil: async (ctx, p) => withMetadata(ctx, p, { content: { ...p.sealed.metadata.content, digest: contentDigest('not the document') } }),
  }),
  negativeRelay({
    id: 'vault.content.plaintext-size',
    description: 'A document whose decrypted length differs from content.size is refused with 422 content-digest-mismatch',
    requirements: ['TMB-ENV-014', 'TMB-RLY-014'],
    expect: 'content-digest-mismatch',
    spoil: async (ctx, p) => withMetadata(ctx, p, { content: { ...p.sealed.metadata.content, size: p.sealed.metadata.content.size + 1 } }),
  }),
  negativeRelay({
    id: 'vault.content.too-large',
    description: 'An envelope announcing content.size above limits.maxContentBytes is refused with 413 content-too-large',
    requirements: ['TMB-ENV-011', 'TMB-TRUST-012'],
    expect: 'content-too-large',
    spoil: async (ctx, p) => {
      const t = await ctx.target()
      const max = Number(t.discovery.limits?.maxContentBytes)
      if (!Number.isInteger(max)) ctx.fail('the discovery document announces no limits.maxContentBytes')
      return withMetadata(ctx, p, { content: { ...p.sealed.metadata.content, size: max + 1 } })
    },
  }),
]

