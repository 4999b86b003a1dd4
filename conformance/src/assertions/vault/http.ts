import type { AssertionContext } from '../../runner/context.js'
/** HTTP-level behaviour of the relay endpoint: media types, JSON, size, problems (TMB-OVR, TMB-ERR). */
import { defineAssertion } from '../assertion.js'
import { negativeRelay } from '../negative.js'
import { expectProblem, problemShapeErrors } from '../problem.js'
import { postRelay, relayBody, validParts } from '../relay-kit.js'

export const vaultHttpAssertions = [
  negativeRelay({
    id: 'vault.http.malformed-json',
    description: 'A relay body that is not well-formed JSON (with a valid proof) is refused with 400 malformed-json',
    requirements: ['TMB-OVR-005'],
    expect: 'malformed-json',
    spoil: async (_ctx, p) => ({ body: JSON.stringify(relayBody(p)).slice(0, -7) }),
  }),
  negativeRelay({
    id: 'vault.http.schema-missing-member',
    description: 'A relay body without route is refused with 400 schema-violation',
    requirements: ['TMB-OVR-005', 'TMB-RLY-001'],
    expect: 'schema-violation',
    spoil: async (_ctx, p) => {
      const { route: _route, ...body } = relayBody(p)
      return body
    },
  }),
  negativeRelay({
    id: 'vault.http.schema-extra-member',
    description: 'A relay body with a member beyond envelope, content, stamp, senderKey and route is refused with 400 schema-violation',
    requirements: ['TMB-RLY-001', 'TMB-OVR-005'],
    expect: 'schema-violation',
    spoil: async (_ctx, p) => ({ ...relayBody(p), priority: 'high' }),
  }),
  negativeRelay({
    id: 'vault.http.media-type',
    description: 'A relay sent as text/plain is refused with 415 unsupported-media-type',
    requirements: ['TMB-OVR-004'],
    expect: 'unsupported-media-type',
    spoil: async (_ctx, p) => ({ body: JSON.stringify(relayBody(p)), options: { contentType: 'text/plain' } }),
  }),
  defineAssertion({
    id: 'vault.http.body-too-large',
    description: 'A relay body larger than limits.maxRequestBytes is refused with 413 body-too-large',
    requirements: ['TMB-ENV-011', 'TMB-TRUST-012'],
    level: 'MUST',
    profile: 'vault-operator',
    async run(ctx: AssertionContext) {
      const t = await ctx.target()
      const max = Number(t.discovery.limits?.maxRequestBytes)
      if (!Number.isInteger(max)) ctx.fail('the discovery document announces no limits.maxRequestBytes')
      if (max > 64 * 1024 * 1024) ctx.inapplicable(`limits.maxRequestBytes is ${max}; the suite does not send bodies above 64 MiB`)
      const p = await validParts(ctx)
      const base = JSON.stringify(relayBody(p))
      const head = base.slice(0, -1) + ',"padding":"'
      const body = head + 'x'.repeat(Math.max(0, max + 1 - head.length - 2)) + '"}'
      if (Buffer.byteLength(body) <= max) ctx.harness('could not build a body above the limit')
      // A node may answer 413 as soon as it sees Content-Length and close while the
      // body is still being written; the client then sometimes loses the answer to
      // EPIPE/ECONNRESET (a race, more frequent under load). Try up to three times.
      let res
      let lastError: Error | undefined
      for (let attempt = 0; attempt < 3 && !res; attempt++) {
        try {
          res = await postRelay(ctx, body)
        } catch (err) {
          lastError = err as Error
          ctx.note(`attempt ${attempt + 1}: ${lastError.message}`)
        }
      }
      if (!res) ctx.fail(`the target closed the connection without answering 413 body-too-large (3 attempts): ${lastError?.message}`)
      expectProblem(ctx, res, 'body-too-large')
    },
  }),
  defineAssertion({
    id: 'vault.http.request-id',
    description: 'An error answer carries a Request-Id header equal to the requestId member of the problem',
    requirements: ['TMB-OVR-011'],
    level: 'SHOULD',
    profile: 'vault-operator',
    async run(ctx: AssertionContext) {
      const res = await postRelay(ctx, relayBody(await validParts(ctx)), { proof: false })
      const header = res.headers['request-id']
      ctx.check(header, 'the answer has no Request-Id header')
      ctx.check(res.json?.requestId === header, `Request-Id ${header} differs from the problem requestId ${res.json?.requestId}`)
    },
  }),
  defineAssertion({
    id: 'vault.errors.problem-details',
    description: 'Refusals are application/problem+json with type, title, status, code and retryable as in the error catalogue',
    requirements: ['TMB-ERR-001', 'TMB-ERR-002', 'TMB-ERR-007', 'TMB-OVR-003'],
    level: 'MUST',
    profile: 'vault-operator',
    async run(ctx: AssertionContext) {
      const p = await validParts(ctx)
      const cases = [
        await postRelay(ctx, relayBody(p), { proof: false }),
        await postRelay(ctx, '{"envelope":', {}),
        await postRelay(ctx, { ...relayBody(p), stamp: p.stamp.slice(0, -4) + 'AAAA' }),
      ]
      for (const res of cases) {
        ctx.check(res.status >= 400, `a faulty relay was answered ${res.status}`)
        const errors = problemShapeErrors(res)
        ctx.check(errors.length === 0, `${res.exchange.method} answered ${res.status}: ${errors.join('; ')}`)
      }
    },
  }),
]
