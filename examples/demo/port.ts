// The demo's port (spec chapter 9): one person's address moves from vault-a
// to vault-b with the whole archive. Documents before, the porting code at
// the donor, the port filed at the new operator (single window), the cut-over
// at the end of the objection window, documents after (they land at B), the
// archive transferred by the donor and imported by B — all counted through
// the self-export, each archive's signed manifest verified.
import { Readable } from 'node:stream'
import { decodeEvidence, readArchive } from '@timbre/sdk'
import type { TimbreClient } from '@timbre/sdk/client'
import { tinyPdf } from '../lib/pdf.js'
import type { KeyBook } from '../lib/offline.js'
import type { DemoNode } from './network.js'

export interface PortSummary {
  address: string
  from: string
  to: string
  before: number
  after: number
  /** Documents of the address at the new operator once the archive moved. */
  atNewOperator: number
  /** Cut-over after the port request, ms. */
  cutoverMs: number
  /** Port request to archive imported, ms. */
  movedMs: number
  ok: boolean
  problems: string[]
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function admin<T>(node: DemoNode, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${node.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${node.adminToken}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  })
  const json = (await res.json()) as T & { code?: string; detail?: string }
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${json.code ?? ''} ${json.detail ?? ''}`)
  return json
}

/** Message ids in the vault of `address` at `node`, by its self-export (manifest verified). */
export async function archiveIds(node: DemoNode, address: string, book: KeyBook): Promise<string[]> {
  const res = await fetch(`${node.url}/v1/admin/vault-addresses/${address}/archive`, { headers: { authorization: `Bearer ${node.adminToken}` } })
  if (!res.ok || !res.body) throw new Error(`self-export at ${node.id}: ${res.status}`)
  const ids: string[] = []
  await readArchive(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>), {
    keys: book.keysOf(node.id),
    expect: { address, donor: node.id },
    onFile: async (path, stream) => {
      const chunks: Buffer[] = []
      for await (const c of stream) chunks.push(c as Buffer)
      if (/^documents\/[^/]+\/metadata\.json$/.test(path)) ids.push((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { messageId: string }).messageId)
    },
  })
  return ids
}

export async function runPort(o: {
  donor: DemoNode
  recipient: DemoNode
  address: string
  client: TimbreClient
  book: KeyBook
  documentsAfter: number
  log: (line: string) => void
}): Promise<PortSummary> {
  const { donor, recipient, address, client, book, log } = o
  const problems: string[] = []
  const before = await archiveIds(donor, address, book)
  log(`Porting ${address} from ${donor.id} to ${recipient.id} (${before.length} documents at ${donor.id})`)

  // The person asks the donor for a porting code; it is shown once.
  const code = await admin<{ display: string; code: string; expiresAt: string }>(donor, 'POST', `/v1/admin/vault-addresses/${address}/porting-code`, {})
  log(`  ${donor.id} issued porting code ${code.display} (single use, until ${code.expiresAt.slice(0, 10)})`)
  // The person gives it to the new operator with their consent: the single window.
  const t0 = Date.now()
  const port = await admin<{ portId: string; cutoverAt: string; status: string }>(recipient, 'POST', '/v1/admin/ports', {
    address,
    portingCode: code.display,
    consent: { givenAt: new Date().toISOString(), reference: 'demo-consent-1' },
  })
  log(`  ${recipient.id} filed port ${port.portId}: ${port.status}, cut-over at ${port.cutoverAt}`)
  let status = port.status
  while (status === 'pending') {
    await sleep(200)
    status = (await admin<{ status: string }>(recipient, 'GET', `/v1/admin/ports/${port.portId}`)).status
  }
  const cutoverMs = Date.parse(port.cutoverAt) - t0
  log(`  port ${status} (the donor stayed silent: consent at the deadline)`)
  if (status !== 'completed') problems.push(`the port ended ${status}`)

  // Documents after the cut-over land at the new operator.
  const after: string[] = []
  for (let i = 0; i < o.documentsAfter; i++) {
    const r = await client.deliver({ to: address, document: tinyPdf([`Payslip after the port #${i + 1}`]), mediaType: 'application/pdf', type: 'payslip', title: `After port #${i + 1}` })
    after.push(r.messageId)
  }
  for (const id of after) {
    const state = await client.waitForDelivery(id, { timeoutMs: 60_000, intervalMs: 100 })
    if (state.status !== 'delivered') problems.push(`${id} ${state.status}`)
    const last = (await client.evidence(id)).map((e) => e.evidence).filter((e) => e.event === 'DepositAcceptance').at(-1)
    if (last?.issuer !== recipient.id) problems.push(`${id} was not deposited at ${recipient.id}`)
  }
  log(`  ${after.length} documents sent after the cut-over, deposited at ${recipient.id}`)

  // The donor transfers the archive; the new operator imports it (ContentImport per document).
  const want = new Set([...before, ...after])
  let atNew: string[] = []
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    atNew = await archiveIds(recipient, address, book)
    if (atNew.length >= want.size) break
    await sleep(300)
  }
  const movedMs = Date.now() - t0
  const unique = new Set(atNew)
  const missing = [...want].filter((id) => !unique.has(id))
  if (missing.length) problems.push(`${missing.length} documents missing at ${recipient.id}`)
  if (unique.size !== atNew.length) problems.push(`${atNew.length - unique.size} duplicated at ${recipient.id}`)
  if (atNew.length !== want.size) problems.push(`${atNew.length} documents at ${recipient.id}, expected ${want.size}`)
  // An archived document's evidence at the sender still ends at the donor's deposit; B's import evidence was pushed or listed.
  const sample = before[0]
  if (sample) {
    const events = (await client.evidence(sample)).map((e) => decodeEvidence(e.jws).event)
    if (!events.includes('DepositAcceptance')) problems.push(`${sample}: no deposit evidence`)
  }
  log(`  archive moved: ${atNew.length} documents at ${recipient.id} (${before.length} imported from ${donor.id} + ${after.length} after the cut-over), checked by self-export`)
  return { address, from: donor.id, to: recipient.id, before: before.length, after: after.length, atNewOperator: atNew.length, cutoverMs, movedMs, ok: problems.length === 0, problems }
}
