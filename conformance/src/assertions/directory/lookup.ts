/** Directory answers (TMB-DIR once chapter 8 lands; address rules of TMB-ADDR). */
import type { AssertionContext } from '../../runner/context.js'
import { generateVaultAddress, verifyDirectoryLine } from '@timbre/sdk'
import { defineAssertion, type Assertion } from '../assertion.js'
import { expectProblem } from '../problem.js'

function must(a: Omit<Assertion, 'level' | 'profile'>): Assertion {
  return defineAssertion({ ...a, level: 'MUST', profile: 'directory' })
}

export const directoryAssertions: Assertion[] = [
  must({
    id: 'directory.lookup.signed',
    description: 'GET /v1/directory/addresses/{address} answers 200 with a directory line signed by a key of the directory JWKS, for that address',
    requirements: ['TMB-DIR-001', 'TMB-DIR-008', 'TMB-TRUST-025', 'TMB-ADDR-003'],
    async run(ctx: AssertionContext) {
      const t = await ctx.target()
      const address = ctx.address(0)
      const res = await ctx.http.send(`${t.endpoint('directory', '/v1/directory')}/addresses/${address}`)
      ctx.check(res.status === 200, `expected 200, got ${res.status}`)
      ctx.check(typeof res.json?.line === 'string', 'the answer has no line member')
      let line
      try {
        line = await verifyDirectoryLine(res.json.line, t.keys)
      } catch (err) {
        ctx.fail(`the line does not verify with the target's JWKS: ${(err as Error).message}`)
      }
      ctx.check(line.address === address, `the line is for ${line.address}`)
      ctx.check(Array.isArray(line.encryptionKeys) && line.encryptionKeys.length > 0, 'the line lists no encryption key')
    },
  }),
  must({
    id: 'directory.lookup.unknown',
    description: 'Looking up a valid address that has no line answers 404',
    requirements: ['TMB-ADDR-004'],
    async run(ctx: AssertionContext) {
      const t = await ctx.target()
      const res = await ctx.http.send(`${t.endpoint('directory', '/v1/directory')}/addresses/${generateVaultAddress()}`)
      expectProblem(ctx, res, ['recipient-unknown', 'not-found'])
    },
  }),
  must({
    id: 'directory.lookup.invalid-address',
    description: 'Looking up an address failing the check rule answers 400 invalid-vault-address',
    requirements: ['TMB-ADDR-004', 'TMB-ADDR-001'],
    async run(ctx: AssertionContext) {
      const t = await ctx.target()
      const a = generateVaultAddress()
      const bad = a.slice(0, 15) + (a[15] === '0' ? '1' : '0')
      expectProblem(ctx, await ctx.http.send(`${t.endpoint('directory', '/v1/directory')}/addresses/${bad}`), 'invalid-vault-address')
    },
  }),
  defineAssertion({
    id: 'directory.trust-list',
    description: 'GET /v1/trust-list answers 200 with { trustList: <compact JWS> } without authentication',
    requirements: ['TMB-TRUST-020'],
    level: 'MUST',
    profile: 'directory',
    async run(ctx: AssertionContext) {
      const t = await ctx.target()
      const res = await ctx.http.send(t.endpoint('trustList', '/v1/trust-list'))
      ctx.check(res.status === 200, `expected 200, got ${res.status}`)
      ctx.check(typeof res.json?.trustList === 'string' && res.json.trustList.split('.').length === 3, 'trustList is not a compact JWS')
    },
  }),
  defineAssertion({
    id: 'directory.changes.order',
    description: 'GET /v1/directory/changes pages changes in increasing cursor order',
    requirements: ['TMB-DIR-014', 'TMB-DIR-015'],
    level: 'MUST',
    profile: 'directory',
    async run(ctx: AssertionContext) {
      const t = await ctx.target()
      const res = await ctx.http.send(`${t.endpoint('directory', '/v1/directory')}/changes?limit=50`)
      ctx.check(res.status === 200, `expected 200, got ${res.status}`)
      const changes = res.json?.changes
      ctx.check(Array.isArray(changes), 'the answer has no changes array')
      for (let i = 1; i < changes.length; i++) {
        ctx.check(Number(changes[i].cursor) > Number(changes[i - 1].cursor), `changes are not in increasing cursor order (${changes[i - 1].cursor} then ${changes[i].cursor})`)
      }
    },
  }),
]
