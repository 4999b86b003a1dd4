// End to end through the routing node: TimbreClient → POST /v1/submissions →
// outbox worker → VaultKit vault → evidence, verified offline.
import t from 'tap'
import { TimbreClient, verifyStamp } from '@timbre/sdk'
import { routingFixture } from './routing-setup.js'
import { counts } from './helpers/routing.js'

t.test('client.deliver() reaches the vault; the DepositAcceptance verifies offline', async (t) => {
  const f = await routingFixture(t)
  const receipt = await f.sender.client.deliver({ to: f.address, document: 'Payslip November', type: 'payslip', title: 'Payslip', mediaType: 'text/plain' })
  t.equal(receipt.status, 'accepted')
  t.equal(receipt.stamp.event, 'SubmissionAcceptance')
  t.equal(receipt.stamp.recipientOperator, f.vault.id)
  t.equal(receipt.stamp.stampClass, 'standard')
  const final = await f.sender.client.waitForDelivery(receipt.messageId, { timeoutMs: 10_000, intervalMs: 20 })
  t.equal(final.status, 'delivered')
  t.equal(final.final, true)
  t.equal(final.recipientOperator, f.vault.id)
  const chain = await f.sender.client.evidence(receipt.messageId)
  t.same(chain.map((e) => e.evidence.event), ['SubmissionAcceptance', 'DepositAcceptance', 'RelayAcceptance'])
  const deposit = chain[1]!
  // Offline: only the vault's published JWKS.
  const ev = await TimbreClient.verifyEvidence(deposit.jws, f.vault.kit.jwks(), { messageId: receipt.messageId, event: 'DepositAcceptance', issuer: f.vault.id })
  t.equal(ev.previousEvidenceId, receipt.stamp.evidenceId)
  await verifyStamp(receipt.stampJws, f.node.keys.jwks(), { messageId: receipt.messageId })
  t.equal(chain[2]!.evidence.previousEvidenceId, ev.evidenceId, 'RelayAcceptance follows the DepositAcceptance')
  const stored = await f.vault.kit.document(f.address, receipt.messageId)
  t.equal(Buffer.from(stored!).toString(), 'Payslip November')
  const [record] = await f.vault.kit.documents(f.address)
  await f.vault.kit.verifyDeposit(record!)
  const c = await counts(f.store)
  t.equal(c.deliveries, 1)
  t.equal(c.evidence, 3)
  t.equal(c.outbox, 0, 'relay row consumed; no webhook URL, no webhook row')
  // The node holds the JWE only.
  const row = await f.store.db.selectFrom('deliveries').selectAll().executeTakeFirstOrThrow()
  t.notMatch(row.content, /Payslip November/)
})
