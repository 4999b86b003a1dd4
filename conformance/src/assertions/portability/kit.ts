/**
 * Portability set-up: the suite plays donor and new operator (own keys,
 * admitted through the admin convenience) against the target's directory.
 */
import { createRequestProof, generateEncryptionKey, generateSigningKey, generateVaultAddress, issuePortingCode, portingCodeDigest, toPublicJwk, type PrivateJwk } from '@timbre/sdk'
import type { AssertionContext } from '../../runner/context.js'
import type { HttpResponse } from '../../http.js'

export interface SuiteOperator {
  id: string
  key: PrivateJwk
  encryptionKey: PrivateJwk
}

/** One operator identity of the suite, admitted once per run as an active vault operator. */
export async function suiteOperator(ctx: AssertionContext, role: 'donor' | 'new' | 'third'): Promise<SuiteOperator> {
  const cache = ((ctx.state as any).portOperators ??= new Map<string, Promise<SuiteOperator>>()) as Map<string, Promise<SuiteOperator>>
  let p = cache.get(role)
  if (!p) {
    p = (async () => {
      if (!ctx.config.admin?.token) ctx.harness('portability assertions need admin.token so the suite can admit its donor and new-operator identities')
      const key = await generateSigningKey()
      const enc = await generateEncryptionKey()
      const id = `${role}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}.conformance.test`
      const res = await ctx.http.send(`${ctx.config.target}/v1/admin/operators`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ctx.config.admin.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ id, baseUrl: 'http://conformance.invalid', relayEndpoint: 'http://conformance.invalid/v1/relay', roles: ['vault-operator'], jwks: { keys: [toPublicJwk(key), toPublicJwk(enc)] } }),
      })
      if (res.status >= 300) ctx.harness(`admin: register ${id} answered ${res.status} ${res.json?.code ?? ''}`)
      return { id, key, encryptionKey: enc }
    })()
    cache.set(role, p)
  }
  return p
}

export async function directoryBase(ctx: AssertionContext): Promise<string> {
  const t = await ctx.target()
  return (typeof t.discovery.endpoints?.directory === 'string' ? t.discovery.endpoints.directory : `${ctx.config.target}/v1/directory`).replace(/\/+$/, '')
}

/** A request to the target's directory signed by one of the suite's operators. */
export async function signed(ctx: AssertionContext, as: SuiteOperator, method: string, subpath: string, body?: unknown): Promise<HttpResponse> {
  const t = await ctx.target()
  const url = (await directoryBase(ctx)) + subpath
  const raw = body === undefined ? '' : JSON.stringify(body)
  const authorization = await createRequestProof({ key: as.key, iss: as.id, aud: t.operatorId, method, path: new URL(url).pathname, body: raw })
  return ctx.http.send(url, { method, headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: raw }) })
}

/** A fresh address served by `op` in the target's directory (PUT signed by the operator). */
export async function servedAddress(ctx: AssertionContext, op: SuiteOperator): Promise<string> {
  const address = generateVaultAddress()
  const r = await signed(ctx, op, 'PUT', `/addresses/${address}`, { operator: op.id })
  if (r.status !== 201 && r.status !== 200) ctx.harness(`PUT /addresses/${address} as ${op.id} answered ${r.status} ${r.json?.code ?? ''} ${r.json?.detail ?? ''}`)
  return address
}

export function registerCode(ctx: AssertionContext, as: SuiteOperator, address: string, code: string, expiresAt = new Date(Date.now() + 86_400_000)): Promise<HttpResponse> {
  return signed(ctx, as, 'POST', '/porting-codes', { address, codeDigest: portingCodeDigest(address, code), expiresAt: expiresAt.toISOString() })
}

/** A code issued by the suite as donor and registered (201 required). */
export async function donorCode(ctx: AssertionContext, donor: SuiteOperator, address: string): Promise<string> {
  const code = issuePortingCode(address)
  const r = await registerCode(ctx, donor, address, code)
  ctx.check(r.status === 201, `the donor's porting-code registration answered ${r.status} ${r.json?.code ?? ''}, expected 201`)
  return code
}

export function portRequest(ctx: AssertionContext, as: SuiteOperator, address: string, portingCode: string, recipientOperator = as.id): Promise<HttpResponse> {
  return signed(ctx, as, 'POST', '/ports', { address, portingCode, recipientOperator, consent: { givenAt: new Date().toISOString(), reference: `conformance-${Date.now()}` } })
}

/** Set up donor, new operator, an address of the donor and a pending port. */
export async function pendingPort(ctx: AssertionContext): Promise<{ donor: SuiteOperator; newOp: SuiteOperator; address: string; port: any; code: string }> {
  const donor = await suiteOperator(ctx, 'donor')
  const newOp = await suiteOperator(ctx, 'new')
  const address = await servedAddress(ctx, donor)
  const code = await donorCode(ctx, donor, address)
  const r = await portRequest(ctx, newOp, address, code)
  ctx.check(r.status === 201, `a valid port request answered ${r.status} ${r.json?.code ?? ''} ${r.json?.detail ?? ''}, expected 201`)
  return { donor, newOp, address, port: r.json, code }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}
