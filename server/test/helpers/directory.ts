// Operators for directory and vault-role tests: real keys, admitted through
// the admin API, and proof-signed directory writes.
import { createRequestProof, generateEncryptionKey, generateSigningKey, toPublicJwk, type PrivateJwk } from '@timbre/sdk'
import { call, type Answer } from './http.js'

export interface TestOperator {
  id: string
  signingKey: PrivateJwk
  encryptionKey: PrivateJwk
  baseUrl: string
}

export async function testOperator(id: string, baseUrl = `https://${id}`): Promise<TestOperator> {
  return { id, signingKey: await generateSigningKey(), encryptionKey: await generateEncryptionKey(), baseUrl }
}

/** POST /v1/admin/operators on `nodeUrl`. */
export function admit(nodeUrl: string, op: TestOperator, roles: string[] = ['vault-operator'], extra: Record<string, unknown> = {}): Promise<Answer> {
  const keys = [toPublicJwk(op.signingKey), toPublicJwk(op.encryptionKey)].map(({ timbre_not_before: _a, timbre_not_after: _b, ...k }) => k)
  return call(nodeUrl, 'POST', '/v1/admin/operators', { admin: true, body: { id: op.id, roles, baseUrl: op.baseUrl, jwks: { keys }, ...extra } })
}

/** PUT /v1/directory/addresses/{address} with a request proof by `iss`. */
export async function putLine(nodeUrl: string, aud: string, address: string, o: { iss: string; key: PrivateJwk; operator?: string; authorization?: string }): Promise<Answer & { authorization: string }> {
  const path = `/v1/directory/addresses/${address}`
  const body = JSON.stringify({ operator: o.operator ?? o.iss })
  const authorization = o.authorization ?? (await createRequestProof({ key: o.key, iss: o.iss, aud, method: 'PUT', path, body }))
  const res = await call(nodeUrl, 'PUT', path, { body, headers: { 'content-type': 'application/json', authorization } })
  return { ...res, authorization }
}
