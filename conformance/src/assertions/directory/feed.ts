/** Directory writes, operator records, change feed and trust list (spec 8, 3.4). */
import { compactVerify, importJWK } from 'jose'
import { createRequestProof, schemaValidator, verifyDirectoryLine, generateSigningKey } from '@timbre/sdk'
import { defineAssertion, type Assertion } from '../assertion.js'
import { expectProblem } from '../problem.js'
import type { AssertionContext } from '../../runner/context.js'

function must(a: Omit<Assertion, 'level' | 'profile'>): Assertion {
  return defineAssertion({ ...a, level: 'MUST', profile: 'directory' })
}

async function dirBase(ctx: AssertionContext): Promise<string> {
  const t = await ctx.target()
  return t.endpoint('directory', '/v1/directory').replace(/\/+$/, '')
}

/** PUT a line for `address` as the suite's vault operator (or another signer). */
async function putLine(ctx: AssertionContext, address: string, o: { operator?: string; iss?: string; key?: any; proof?: false } = {}) {
  const t = await ctx.target()
  const v = ctx.suiteVault()
  const url = `${await dirBase(ctx)}/addresses/${address}`
  const body = JSON.stringify({ operator: o.operator ?? v.operatorId })
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (o.proof !== false) headers.authorization = await createRequestProof({ key: o.key ?? v.signingKey, iss: o.iss ?? v.operatorId, aud: t.operatorId, method: 'PUT', path: new URL(url).pathname, body })
  return ctx.http.send(url, { method: 'PUT', headers, body })
}

async function readFeed(ctx: AssertionContext, after: number, limit: number) {
  const res = await ctx.http.send(`${await dirBase(ctx)}/changes?after=${after}&limit=${limit}`)
  ctx.check(res.status === 200, `GET changes?after=${after}&limit=${limit} answered ${res.status}`)
  return res.json
}

export const directoryFeedAssertions: Assertion[] = [
  must({
    id: 'directory.put.rules',
    description: 'PUT /v1/directory/addresses/{a} answers 201 with a new version-1 line for a new address, 200 with the same line on repeat, 401 without proof, 403 sender-mismatch when operator is not the proof iss',
    requirements: ['TMB-DIR-010', 'TMB-DIR-002', 'TMB-DIR-006', 'TMB-DIR-001', 'TMB-DIR-008'],
    async run(ctx: AssertionContext) {
      const t = await ctx.target()
      const v = ctx.suiteVault()
      const address = await v.openAccount()
      expectProblem(ctx, await putLine(ctx, address, { proof: false }), 'auth-required')
      expectProblem(ctx, await putLine(ctx, address, { operator: t.operatorId }), 'sender-mismatch')
      const first = await putLine(ctx, address)
      ctx.check(first.status === 201, `the first PUT was answered ${first.status} ${first.json?.code ?? ''}`)
      const line = await verifyDirectoryLine(first.json.line, t.keys)
      ctx.check(line.address === address && line.operator === v.operatorId && line.version === 1, `the new line is ${JSON.stringify({ address: line.address, operator: line.operator, version: line.version })}`)
      ctx.check(line.relayEndpoint === v.relayEndpoint, `relayEndpoint ${line.relayEndpoint} is not the operator record's ${v.relayEndpoint}`)
      ctx.check(JSON.stringify(line.encryptionKeys.map((k) => k.x)) === JSON.stringify([v.jwks.keys.find((k) => k.crv === 'X25519')!.x]), "encryptionKeys are not the operator record's")
      const again = await putLine(ctx, address)
      ctx.check(again.status === 200, `the repeated PUT was answered ${again.status}`)
      ctx.check((await verifyDirectoryLine(again.json.line, t.keys)).version === 1, 'the repeated PUT made a new version')
      const lookup = await ctx.http.send(`${await dirBase(ctx)}/addresses/${address}`)
      ctx.check(lookup.status === 200 && (await verifyDirectoryLine(lookup.json.line, t.keys)).operator === v.operatorId, 'the lookup does not answer the registered line')
    },
  }),
  must({
    id: 'directory.put.untrusted',
    description: 'A PUT by an operator that is not an active vault operator of the trust list is refused with 403 node-untrusted',
    requirements: ['TMB-DIR-006', 'TMB-DIR-011'],
    async run(ctx: AssertionContext) {
      const v = ctx.suiteVault()
      const address = await v.openAccount()
      const key = await generateSigningKey()
      expectProblem(ctx, await putLine(ctx, address, { operator: 'rogue.conformance.timbre.test', iss: 'rogue.conformance.timbre.test', key }), 'node-untrusted')
      // The suite's routing-node identity is trust-listed, but not as a vault operator.
      expectProblem(ctx, await putLine(ctx, address, { operator: ctx.config.suite.operatorId, iss: ctx.config.suite.operatorId, key: ctx.router.key }), 'node-untrusted')
    },
  }),
  must({
    id: 'directory.operators.record',
    description: 'GET /v1/directory/operators/{id} answers 200 with id, roles, baseUrl, relayEndpoint, jwks and status, and 404 not-found for an unknown operator',
    requirements: ['TMB-DIR-012'],
    async run(ctx: AssertionContext) {
      const v = ctx.suiteVault()
      const res = await ctx.http.send(`${await dirBase(ctx)}/operators/${v.operatorId}`)
      ctx.check(res.status === 200, `expected 200, got ${res.status}`)
      for (const m of ['id', 'roles', 'baseUrl', 'relayEndpoint', 'jwks', 'status']) ctx.check(m in (res.json ?? {}), `member ${m} is missing`)
      ctx.check(res.json.id === v.operatorId && res.json.relayEndpoint === v.relayEndpoint && res.json.status === 'active', `the record is ${JSON.stringify(res.json).slice(0, 300)}`)
      const xs = (res.json.jwks?.keys ?? []).map((k: any) => k.x).sort()
      ctx.check(JSON.stringify(xs) === JSON.stringify(v.jwks.keys.map((k) => k.x).sort()), 'jwks are not the admitted public keys')
      ctx.check(!(res.json.jwks?.keys ?? []).some((k: any) => 'd' in k), 'a private member is published')
      expectProblem(ctx, await ctx.http.send(`${await dirBase(ctx)}/operators/unknown.conformance.timbre.test`), 'not-found')
    },
  }),
  must({
    id: 'directory.changes.params',
    description: 'GET /v1/directory/changes answers 400 schema-violation to a non-decimal after and to a limit of 0 or 1001',
    requirements: ['TMB-DIR-017'],
    async run(ctx: AssertionContext) {
      const base = await dirBase(ctx)
      for (const q of ['after=abc', 'after=-1', 'limit=0', 'limit=1001', 'limit=ten']) expectProblem(ctx, await ctx.http.send(`${base}/changes?${q}`), 'schema-violation')
    },
  }),
  must({
    id: 'directory.changes.feed',
    description: 'The change feed pages with after/limit in increasing, consecutive cursors with no gap, each change carrying every member and a verifiable line; a new registration appears at the end',
    requirements: ['TMB-DIR-014', 'TMB-DIR-015', 'TMB-DIR-016', 'TMB-DIR-005'],
    async run(ctx: AssertionContext) {
      const t = await ctx.target()
      const v = ctx.suiteVault()
      const address = await v.openAccount()
      const put = await putLine(ctx, address)
      ctx.check(put.status === 201, `PUT answered ${put.status}`)
      const validate = schemaValidator('directory-changes-response.json')
      let after = 0
      let seen = 0
      let found = false
      for (let page = 0; page < 200; page++) {
        const body: any = await readFeed(ctx, after, 50)
        if (!validate(structuredClone(body))) ctx.fail(`the page does not match directory-changes-response.json: ${(validate.errors ?? []).slice(0, 3).map((e) => `${e.instancePath} ${e.message}`).join('; ')}`)
        for (const c of body.changes) {
          ctx.check(Number(c.cursor) === after + 1, `cursor ${c.cursor} follows ${after}: the feed has a gap or is out of order`)
          after = Number(c.cursor)
          seen++
          if (c.address === address) {
            found = true
            const line = await verifyDirectoryLine(c.line, t.keys)
            ctx.check(line.version === c.version && line.operator === c.operator, 'the change members differ from its line')
          }
        }
        ctx.check(body.changes.length <= 50, `a page of limit 50 has ${body.changes.length} changes`)
        ctx.check(body.nextCursor === (body.changes.length ? body.changes.at(-1).cursor : null) || (!body.changes.length && body.nextCursor !== undefined), `nextCursor ${body.nextCursor} is not the last cursor of the page`)
        if (!body.hasMore) break
      }
      ctx.check(found, `the new registration of ${address} is not in the feed (${seen} changes read)`)
      ctx.note(`${seen} changes read, last cursor ${after}`)
    },
  }),
  must({
    id: 'directory.trust-list.signed',
    description: 'The trust list is a timbre-trust-list+jws signed with a key of the directory JWKS, matching trust-list.json and listing the admitted operators with their key thumbprints',
    requirements: ['TMB-TRUST-020', 'TMB-TRUST-018', 'TMB-TRUST-025'],
    async run(ctx: AssertionContext) {
      const t = await ctx.target()
      const v = ctx.suiteVault()
      const res = await ctx.http.send(t.endpoint('trustList', '/v1/trust-list'))
      ctx.check(res.status === 200 && typeof res.json?.trustList === 'string', `expected 200 with trustList, got ${res.status}`)
      const jws = res.json.trustList as string
      const header = JSON.parse(Buffer.from(jws.split('.')[0]!, 'base64url').toString())
      ctx.check(header.typ === 'timbre-trust-list+jws' && header.alg === 'EdDSA', `the header is ${JSON.stringify(header)}`)
      const key = t.keys.get(header.kid)
      if (!key) ctx.fail(`kid ${header.kid} is not in the directory JWKS`)
      let payload: any
      try {
        payload = JSON.parse(new TextDecoder().decode((await compactVerify(jws, await importJWK({ kty: 'OKP', crv: 'Ed25519', x: key.x }, 'EdDSA'))).payload))
      } catch (err) {
        ctx.fail(`the trust list signature does not verify: ${(err as Error).message}`)
      }
      const validate = schemaValidator('trust-list.json')
      if (!validate(structuredClone(payload))) ctx.fail(`the list does not match trust-list.json: ${(validate.errors ?? []).slice(0, 3).map((e) => `${e.instancePath} ${e.message}`).join('; ')}`)
      const entry = payload.operators.find((o: any) => o.id === v.operatorId)
      ctx.check(entry, `the admitted operator ${v.operatorId} is not listed`)
      ctx.check(entry.roles.includes('vault-operator') && entry.status === 'active', `its entry is ${JSON.stringify(entry)}`)
      ctx.check(v.jwks.keys.every((k) => entry.keyThumbprints.includes(k.kid)), 'its key thumbprints are not listed')
    },
  }),
]
