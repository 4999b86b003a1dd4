import type { AssertionContext } from '../../runner/context.js'
/**
 * Assertions every node passes whatever its role: discovery document,
 * JWKS, health. Defined once and instantiated per profile.
 */
import { jwkThumbprint, schemaValidator, OPERATOR_ID_PATTERN } from '@timbre/sdk'
import type { Profile } from '../../types.js'
import { defineAssertion, type Assertion } from '../assertion.js'
import { expectProblem } from '../problem.js'

const PREFIX: Record<Profile, string> = { 'vault-operator': 'vault', 'routing-node': 'router', directory: 'directory' }
const ROLE_ENDPOINTS: Record<Profile, string[]> = {
  'vault-operator': ['relay', 'jwks'],
  'routing-node': ['submissions', 'jwks'],
  directory: ['directory', 'trustList', 'jwks'],
}

export function nodeAssertions(profile: Profile): Assertion[] {
  const p = PREFIX[profile]
  return [
    defineAssertion({
      id: `${p}.discovery.document`,
      description: 'GET /.well-known/timbre answers 200 with a discovery document that matches its schema and announces this role',
      requirements: ['TMB-TRUST-010', 'TMB-TRUST-011', 'TMB-OVR-003', 'TMB-OVR-002', 'TMB-VER-001', 'TMB-VER-004'],
      level: 'MUST',
      profile,
      async run(ctx: AssertionContext) {
        const res = await ctx.http.send(`${ctx.config.target.replace(/\/+$/, '')}/.well-known/timbre`)
        ctx.check(res.status === 200, `expected 200, got ${res.status}`)
        ctx.check(/^application\/json\b/i.test(res.headers['content-type'] ?? ''), `Content-Type is ${res.headers['content-type']}, expected application/json`)
        const d: any = res.json
        const validate = schemaValidator('discovery.json')
        const valid = validate(JSON.parse(res.text))
        if (!valid) ctx.fail(`the document does not match discovery.json: ${(validate.errors ?? []).slice(0, 5).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ')}`)
        for (const m of ['protocol', 'versions', 'nodeId', 'roles', 'endpoints', 'profiles', 'limits', 'algorithms', 'retry']) ctx.check(m in d, `member ${m} is missing`)
        ctx.check(d.protocol === 'timbre', 'protocol is not "timbre"')
        ctx.check(Array.isArray(d.versions) && d.versions.includes('1'), 'versions does not contain "1"')
        ctx.check(Array.isArray(d.roles) && d.roles.includes(profile), `roles does not list ${profile}`)
        ctx.check(Array.isArray(d.profiles) && d.profiles.includes('core'), 'profiles does not list core')
        for (const e of ROLE_ENDPOINTS[profile]) {
          const url = d.endpoints?.[e]
          ctx.check(typeof url === 'string', `endpoints.${e} is missing for role ${profile}`)
          try {
            new URL(url)
          } catch {
            ctx.fail(`endpoints.${e} is not an absolute URL: ${url}`)
          }
        }
      },
    }),
    defineAssertion({
      id: `${p}.discovery.algorithms`,
      description: 'The discovery document lists exactly the v1 algorithm allowlist (EdDSA, ECDH-ES+A256KW, A256GCM)',
      requirements: ['TMB-TRUST-013'],
      level: 'MUST',
      profile,
      async run(ctx: AssertionContext) {
        const t = await ctx.target()
        const a = t.discovery.algorithms ?? {}
        const all = [...(a.signature ?? []), ...(a.keyAgreement ?? []), ...(a.contentEncryption ?? [])].sort()
        ctx.check(JSON.stringify(all) === JSON.stringify(['A256GCM', 'ECDH-ES+A256KW', 'EdDSA']), `algorithms lists ${JSON.stringify(a)}`)
      },
    }),
    defineAssertion({
      id: `${p}.discovery.node-id`,
      description: 'nodeId is a well-formed operator id and is the operator id the target is configured as',
      requirements: ['TMB-ID-003', 'TMB-ID-004'],
      level: 'MUST',
      profile,
      async run(ctx: AssertionContext) {
        const t = await ctx.target()
        const id = t.discovery.nodeId
        ctx.check(typeof id === 'string' && OPERATOR_ID_PATTERN.test(id), `nodeId ${JSON.stringify(id)} is not an operator id`)
        if (ctx.config.operatorId) ctx.check(id === ctx.config.operatorId, `nodeId is ${id}, the config says the operator is ${ctx.config.operatorId}`)
      },
    }),
    defineAssertion({
      id: `${p}.jwks.keys`,
      description: 'GET /.well-known/jwks.json lists public keys only, each with kid = RFC 7638 thumbprint, use, alg and timbre_not_before, Ed25519 for sig and X25519 for enc',
      requirements: ['TMB-TRUST-006', 'TMB-TRUST-004', 'TMB-ID-010', 'TMB-TRUST-001', 'TMB-TRUST-003', ...(profile === 'vault-operator' ? ['TMB-TRUST-002'] : [])],
      level: 'MUST',
      profile,
      async run(ctx: AssertionContext) {
        const t = await ctx.target()
        const res = await ctx.http.send(t.endpoint('jwks', '/.well-known/jwks.json'))
        ctx.check(res.status === 200, `expected 200, got ${res.status}`)
        const keys = res.json?.keys
        ctx.check(Array.isArray(keys) && keys.length > 0, 'the JWKS has no keys array')
        ctx.check(keys.some((k: any) => k.use === 'sig'), 'the JWKS has no signature key')
        if (profile === 'vault-operator') ctx.check(keys.some((k: any) => k.use === 'enc' && k.crv === 'X25519' && !k.timbre_not_after), 'a vault operator publishes no current X25519 encryption key')
        for (const k of keys) {
          const name = `key ${k.kid ?? '(no kid)'}`
          for (const m of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) ctx.check(!(m in k), `${name} publishes the private member ${m}`)
          ctx.check(typeof k.kid === 'string', `${name} has no kid`)
          ctx.check(k.use === 'sig' || k.use === 'enc', `${name} has use ${JSON.stringify(k.use)}`)
          ctx.check(typeof k.timbre_not_before === 'string' && !Number.isNaN(Date.parse(k.timbre_not_before)), `${name} has no timbre_not_before`)
          if (k.use === 'sig') ctx.check(k.kty === 'OKP' && k.crv === 'Ed25519' && k.alg === 'EdDSA', `${name} is a sig key but not Ed25519/EdDSA`)
          if (k.use === 'enc') ctx.check(k.kty === 'OKP' && k.crv === 'X25519' && k.alg === 'ECDH-ES+A256KW', `${name} is an enc key but not X25519/ECDH-ES+A256KW`)
          ctx.check(k.kid === (await jwkThumbprint(k)), `${name}: kid is not the RFC 7638 thumbprint of the key`)
        }
      },
    }),
    defineAssertion({
      id: `${p}.jwks.cache-control`,
      description: 'The JWKS answer carries Cache-Control max-age of at most 300 seconds',
      requirements: ['TMB-TRUST-009'],
      level: 'SHOULD',
      profile,
      async run(ctx: AssertionContext) {
        const t = await ctx.target()
        const res = await ctx.http.send(t.endpoint('jwks', '/.well-known/jwks.json'))
        const m = /max-age=(\d+)/.exec(res.headers['cache-control'] ?? '')
        ctx.check(m && Number(m[1]) <= 300, `Cache-Control is ${JSON.stringify(res.headers['cache-control'] ?? null)}`)
      },
    }),
    defineAssertion({
      id: `${p}.http.unknown-path`,
      description: 'An unknown path under /v1 answers 404 not-found as a problem',
      requirements: ['TMB-ERR-003', 'TMB-ERR-001'],
      level: 'MUST',
      profile,
      async run(ctx: AssertionContext) {
        expectProblem(ctx, await ctx.http.send(`${ctx.config.target.replace(/\/+$/, '')}/v1/conformance-no-such-resource`), 'not-found')
      },
    }),
    defineAssertion({
      id: `${p}.admin.unauthorized`,
      description: 'An admin call without a valid Bearer token answers 401 admin-unauthorized (INAPPLICABLE when the node has no admin API at /v1/admin)',
      requirements: ['TMB-AUTH-012'],
      level: 'MUST',
      profile,
      async run(ctx: AssertionContext) {
        const res = await ctx.http.send(`${ctx.config.target.replace(/\/+$/, '')}/v1/admin/senders`, { headers: { authorization: 'Bearer conformance-wrong-token' } })
        if (res.status === 404) ctx.inapplicable('the node has no admin API under /v1/admin (admin endpoints are local to an operator)')
        expectProblem(ctx, res, 'admin-unauthorized')
      },
    }),
    defineAssertion({
      id: `${p}.health`,
      description: 'GET /health and GET /ready answer 200 without authentication',
      requirements: ['TMB-OVR-007'],
      level: 'MUST',
      profile,
      async run(ctx: AssertionContext) {
        const base = ctx.config.target.replace(/\/+$/, '')
        for (const path of ['/health', '/ready']) {
          const res = await ctx.http.send(base + path)
          ctx.check(res.status === 200, `GET ${path} answered ${res.status}`)
        }
      },
    }),
  ]
}
