import type { AssertionContext } from '../../runner/context.js'
/** Request authentication on the relay endpoint (TMB-AUTH, TMB-RLY-003). */
import { generateSigningKey } from '@timbre/sdk'
import { defineAssertion } from '../assertion.js'
import { negativeRelay } from '../negative.js'
import { expectProblem } from '../problem.js'
import { postRelay, relayBody, validParts } from '../relay-kit.js'

export const vaultAuthAssertions = [
  defineAssertion({
    id: 'vault.auth.missing-proof',
    description: 'A relay without Authorization is refused with 401 auth-required and WWW-Authenticate: Timbre',
    requirements: ['TMB-AUTH-003', 'TMB-AUTH-002'],
    level: 'MUST',
    profile: 'vault-operator',
    async run(ctx: AssertionContext) {
      const res = await postRelay(ctx, relayBody(await validParts(ctx)), { proof: false })
      expectProblem(ctx, res, 'auth-required')
      ctx.check(/^\s*Timbre\b/i.test(res.headers['www-authenticate'] ?? ''), `WWW-Authenticate is ${JSON.stringify(res.headers['www-authenticate'] ?? null)}, expected the Timbre scheme`)
    },
  }),
  negativeRelay({
    id: 'vault.auth.wrong-scheme',
    description: 'A relay with Authorization: Bearer instead of Timbre is refused with 401 auth-required',
    requirements: ['TMB-AUTH-003'],
    expect: 'auth-required',
    spoil: async (_ctx, p) => ({ body: relayBody(p), options: { authorization: 'Bearer conformance-not-a-token' } }),
  }),
  negativeRelay({
    id: 'vault.auth.wrong-audience',
    description: 'A proof whose aud is another node is refused with 401 auth-invalid',
    requirements: ['TMB-AUTH-004'],
    expect: 'auth-invalid',
    spoil: async (_ctx, p) => ({ body: relayBody(p), options: { proof: { aud: 'another-node.example' } } }),
  }),
  negativeRelay({
    id: 'vault.auth.wrong-target',
    description: 'A proof whose htu names another path is refused with 401 auth-invalid',
    requirements: ['TMB-AUTH-004'],
    expect: 'auth-invalid',
    spoil: async (_ctx, p) => ({ body: relayBody(p), options: { proof: { htu: '/v1/submissions' } } }),
  }),
  negativeRelay({
    id: 'vault.auth.wrong-method',
    description: 'A proof whose htm is another method is refused with 401 auth-invalid',
    requirements: ['TMB-AUTH-004'],
    expect: 'auth-invalid',
    spoil: async (_ctx, p) => ({ body: relayBody(p), options: { proof: { htm: 'PUT' } } }),
  }),
  negativeRelay({
    id: 'vault.auth.wrong-typ',
    description: 'A proof with typ JWT instead of timbre-request+jwt is refused with 401 auth-invalid',
    requirements: ['TMB-AUTH-004', 'TMB-TRUST-025'],
    expect: 'auth-invalid',
    spoil: async (_ctx, p) => ({ body: relayBody(p), options: { proof: { typ: 'JWT' } } }),
  }),
  negativeRelay({
    id: 'vault.auth.alg-none',
    description: 'An unsigned proof (alg none) is refused with 401 auth-invalid',
    requirements: ['TMB-AUTH-004', 'TMB-TRUST-026'],
    expect: 'auth-invalid',
    spoil: async (_ctx, p) => ({ body: relayBody(p), options: { proof: { alg: 'none' } } }),
  }),
  negativeRelay({
    id: 'vault.auth.tampered-signature',
    description: 'A proof whose signature does not verify is refused with 401 auth-invalid',
    requirements: ['TMB-AUTH-004'],
    expect: 'auth-invalid',
    spoil: async (_ctx, p) => ({ body: relayBody(p), options: { proof: { tamper: true } } }),
  }),
  negativeRelay({
    id: 'vault.auth.missing-claim',
    description: 'A proof without jti is refused with 401 auth-invalid',
    requirements: ['TMB-AUTH-004'],
    expect: 'auth-invalid',
    spoil: async (_ctx, p) => ({ body: relayBody(p), options: { proof: { omit: ['jti'] } } }),
  }),
  negativeRelay({
    id: 'vault.auth.expired',
    description: 'A proof issued 20 minutes ago (expired) is refused with 401 auth-invalid',
    requirements: ['TMB-AUTH-005'],
    expect: 'auth-invalid',
    spoil: async (_ctx, p) => {
      const iat = Math.floor(Date.now() / 1000) - 1200
      return { body: relayBody(p), options: { proof: { iat, exp: iat + 120 } } }
    },
  }),
  negativeRelay({
    id: 'vault.auth.lifetime',
    description: 'A proof valid for an hour (exp > iat + 300) is refused with 401 auth-invalid',
    requirements: ['TMB-AUTH-005'],
    expect: 'auth-invalid',
    spoil: async (_ctx, p) => {
      const iat = Math.floor(Date.now() / 1000)
      return { body: relayBody(p), options: { proof: { iat, exp: iat + 3600 } } }
    },
  }),
  negativeRelay({
    id: 'vault.auth.body-digest',
    description: 'A proof whose bdg is the digest of another body is refused with 401 auth-invalid',
    requirements: ['TMB-AUTH-006'],
    expect: 'auth-invalid',
    spoil: async (_ctx, p) => ({ body: relayBody(p), options: { proof: { bdg: '47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU' } } }),
  }),
  defineAssertion({
    id: 'vault.auth.replay',
    description: 'A second request with an already used proof (same jti) is refused with 401 request-replayed',
    requirements: ['TMB-AUTH-007'],
    level: 'MUST',
    profile: 'vault-operator',
    async run(ctx: AssertionContext) {
      const p = await validParts(ctx)
      const raw = JSON.stringify(relayBody(p))
      const first = await postRelay(ctx, raw)
      if (first.status !== 201 && first.status !== 200) ctx.harness(`the first relay was not accepted (${first.status} ${first.json?.code ?? ''}); cannot test a replay`)
      const second = await postRelay(ctx, raw, { authorization: first.authorization! })
      expectProblem(ctx, second, 'request-replayed')
    },
  }),
  negativeRelay({
    id: 'vault.auth.unknown-key',
    description: 'A proof by the trusted operator id but signed with a key not listed for it is refused with 403 node-untrusted',
    requirements: ['TMB-AUTH-009', 'TMB-RLY-003', 'TMB-TRUST-018'],
    expect: 'node-untrusted',
    spoil: async (_ctx, p) => ({ body: relayBody(p), options: { proof: { key: await generateSigningKey() } } }),
  }),
  negativeRelay({
    id: 'vault.auth.unknown-operator',
    description: 'A proof by an operator that is not trusted as a routing node is refused with 403 node-untrusted',
    requirements: ['TMB-AUTH-009', 'TMB-RLY-003'],
    expect: 'node-untrusted',
    spoil: async (_ctx, p) => ({ body: relayBody(p), options: { proof: { iss: 'untrusted.conformance.test', key: await generateSigningKey() } } }),
  }),
  negativeRelay({
    id: 'vault.auth.check-order',
    description: 'An untrusted caller with a wrong aud gets 403 node-untrusted (step 3) before 401 auth-invalid (step 4)',
    requirements: ['TMB-AUTH-011', 'TMB-RLY-002'],
    expect: 'node-untrusted',
    spoil: async (_ctx, p) => ({ body: relayBody(p), options: { proof: { iss: 'untrusted.conformance.test', key: await generateSigningKey(), aud: 'another-node.example' } } }),
  }),
]
