// Worker thread of generateSubmissions(): seals documents and signs fresh
// request proofs (lifetime 300 s, the longest allowed) before the timed phase.
import { randomBytes, randomUUID } from 'node:crypto'
import { parentPort, workerData } from 'node:worker_threads'
import { createRequestProof, sealEnvelope } from '@timbre/sdk'

const { count, senderId, key, aud, recipients, docBytes } = workerData
const items = []
const path = '/v1/submissions'
for (let i = 0; i < count; i++) {
  const r = recipients[i % recipients.length]
  const sealed = await sealEnvelope({
    sender: senderId,
    recipient: r.address,
    documentType: 'payslip',
    title: 'Bench payslip',
    mediaType: 'application/octet-stream',
    document: randomBytes(docBytes),
    senderKey: key,
    recipientKey: r.recipientKey,
  })
  const body = JSON.stringify({ envelope: sealed.envelope, content: sealed.content })
  const authorization = await createRequestProof({ key, iss: senderId, aud, method: 'POST', path, body, lifetimeSeconds: 300 })
  items.push({ body, messageId: sealed.metadata.messageId, headers: { 'content-type': 'application/json', authorization, 'idempotency-key': randomUUID() } })
  if ((i + 1) % 200 === 0) parentPort.postMessage({ progress: 200 })
}
parentPort.postMessage({ items })
