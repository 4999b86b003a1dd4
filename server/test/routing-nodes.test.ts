// The routing node with the real directory and vault roles: node A plays
// routing-node + directory, node B only vault-operator (its own database, A
// as remote directory). A sender's TimbreClient delivers through A into B.
import t from 'tap'
import { TimbreClient } from '@timbre/sdk'
import { call } from './helpers/http.js'
import { senderKey } from './helpers/keys.js'
import { startTestNode } from './helpers/node.js'
import { testStore } from './helpers/db.js'
import { FAST_DELIVERY } from './routing-setup.js'

t.test('TimbreClient → routing node A → vault node B, evidence verified offline', async (t) => {
  const a = await startTestNode(t, { overrides: { nodeId: 'router-a', roles: ['routing-node', 'directory'], delivery: FAST_DELIVERY } })
  const b = await startTestNode(t, { store: await testStore(t), overrides: { nodeId: 'vault-b', roles: ['vault-operator'], directoryUrl: a.url } })
  const bJwks = (await call(b.url, 'GET', '/.well-known/jwks.json')).json
  const admitted = await call(a.url, 'POST', '/v1/admin/operators', { admin: true, body: { id: 'vault-b', roles: ['vault-operator'], baseUrl: b.url, jwks: bJwks } })
  t.equal(admitted.status, 201, admitted.text)
  const opened = await call(b.url, 'POST', '/v1/admin/vault-addresses', { admin: true, body: {} })
  t.equal(opened.status, 201, opened.text)
  const address: string = opened.json.address

  const keys = await senderKey()
  const senderId = '0009:12345678900011'
  const reg = await call(a.url, 'POST', '/v1/admin/senders', { admin: true, body: { id: senderId, jwk: keys.bare } })
  t.equal(reg.status, 201, reg.text)
  const client = new TimbreClient({ baseUrl: a.url, senderId, key: keys.privateJwk })
  const receipt = await client.deliver({ to: address, document: '%PDF-1.7 payslip', mediaType: 'application/pdf', type: 'payslip', title: 'Payslip' })
  t.equal(receipt.stamp.recipientOperator, 'vault-b')
  const final = await client.waitForDelivery(receipt.messageId, { timeoutMs: 10_000, intervalMs: 25 })
  t.equal(final.status, 'delivered')
  const chain = await client.evidence(receipt.messageId)
  t.same(chain.map((e) => e.evidence.event), ['SubmissionAcceptance', 'DepositAcceptance', 'RelayAcceptance'])
  const offline = await TimbreClient.verifyEvidence(chain[1]!.jws, bJwks, { issuer: 'vault-b', event: 'DepositAcceptance', messageId: receipt.messageId })
  t.equal(offline.previousEvidenceId, receipt.stamp.evidenceId)
})
