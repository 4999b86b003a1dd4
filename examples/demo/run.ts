// The demo itself: a network on loopback, accounts, a sender, N documents,
// and the proof that each landed exactly once, checked offline.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { decodeEvidence, generateSigningKey, readArchive, toPublicJwk, type DeliveryStatus } from '@timbre/sdk'
import { TimbreClient } from '@timbre/sdk/client'
import { HttpError } from '../lib/http.js'
import { KeyBook, verifyChainOffline, verifyStampOffline } from '../lib/offline.js'
import { tinyPdf } from '../lib/pdf.js'
import { registerOperators, startNetwork, type DemoNetwork, type DemoNode } from './network.js'
import { Progress } from './progress.js'
import { DEMO_METERING, prefund, printMeteringStatements } from './metering.js'
import { runPort, type PortSummary } from './port.js'

export interface DemoOptions {
  documents: number
  people: number
  /** Whole-demo time limit. */
  timeoutMs: number
  /** Parallel submissions. */
  concurrency: number
  log: (line: string) => void
  logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
  /** Keep the temp dir (for debugging). */
  keep?: boolean
}

export interface DemoSummary {
  sent: number
  /** Submissions refused (no stamp). */
  refused: number
  delivered: number
  /** Final but not delivered (rejected or failed). */
  failed: number
  /** Stamped but never final within the time limit. */
  lost: number
  /** Messages found more than once (at one vault, or at several). */
  duplicated: number
  /** Messages whose stamp or evidence chain did not verify offline. */
  unverified: number
  stampsVerified: number
  evidenceVerified: number
  /** How landings at the vaults were counted. */
  vaultCheck: 'archive-export' | 'evidence'
  perVault: Array<{ id: string; accounts: number; expected: number; found: number }>
  elapsedMs: number
  sendMs: number
  docsPerSecond: number
  /** The port of one person's address from vault-a to vault-b (chapter 9). */
  port?: PortSummary
  ok: boolean
  problems: string[]
}

/** Documents sent to the ported address after its cut-over. */
const AFTER_PORT = 3

class DemoTimeout extends Error {}

const SENDER_ID = '0009:DEMO-EMPLOYER-01'

async function pool<T>(items: T[], concurrency: number, signal: AbortSignal, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0
  const runners = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      signal.throwIfAborted()
      const i = next++
      await work(items[i]!, i)
    }
  })
  await Promise.all(runners)
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms)
    signal.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)), { once: true })
  })

export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const { log } = options
  const started = Date.now()
  const controller = new AbortController()
  const limit = setTimeout(
    () => controller.abort(new DemoTimeout(`the demo did not finish within ${Math.round(options.timeoutMs / 1000)} s`)),
    options.timeoutMs,
  )
  const signal = controller.signal
  const root = await mkdtemp(join(tmpdir(), 'timbre-demo-'))
  let network: DemoNetwork | undefined
  try {
    // 1. The network.
    log(`Starting a network on loopback (data in ${root})`)
    network = await startNetwork({
      root,
      vaultIds: ['vault-a.demo', 'vault-b.demo'],
      logLevel: options.logLevel ?? 'error',
      onNode: (role, n) => log(`  ${n.id.padEnd(14)} ${role.padEnd(26)} ${n.url}`),
    })
    signal.throwIfAborted()
    const { router, vaults } = network

    // 2. Operators admitted at the directory (the routing node too: vaults trust its stamps through it).
    await registerOperators(router, [
      { node: router, roles: ['routing-node', 'directory'], name: 'Demo router' },
      ...vaults.map((v, i) => ({ node: v, roles: ['vault-operator'], name: `Demo vault ${'AB'[i] ?? i}` })),
    ])
    log(`Registered operators at the directory: ${[router, ...vaults].map((n) => n.id).join(', ')}`)

    // 3. Vault accounts, spread over both operators; each vault registers its lines at the directory.
    const people: Array<{ name: string; address: string; vault: DemoNode }> = []
    for (let i = 0; i < options.people; i++) {
      const vault = vaults[i % vaults.length]!
      const account = await vault.admin.openVaultAccount(`person-${i + 1}`)
      people.push({ name: `Person ${i + 1}`, address: account.address, vault })
    }
    log(`Opened ${people.length} vault accounts: ${vaults.map((v) => `${people.filter((p) => p.vault === v).length} at ${v.id}`).join(', ')}`)

    // 4. One sender, with its own key; the routing node gets the public part only.
    const key = await generateSigningKey()
    await router.admin.registerSender({ id: SENDER_ID, name: 'Demo Employer', jwk: toPublicJwk(key) })
    log(`Registered sender ${SENDER_ID} (key ${key.kid})`)
    await prefund(router, SENDER_ID, (options.documents + 10 + AFTER_PORT) * DEMO_METERING.tariffs.standard)
    const client = new TimbreClient({ baseUrl: router.url, senderId: SENDER_ID, key, retry: { attempts: 5 } })

    // 5. Send.
    log(`Sending ${options.documents} documents`)
    interface Sent { messageId: string; person: (typeof people)[number]; stampJws: string; status?: DeliveryStatus; reason?: string }
    const sent: Sent[] = []
    const problems: string[] = []
    let refused = 0
    const sendStart = Date.now()
    const sendBar = new Progress('sent', options.documents)
    await pool(Array.from({ length: options.documents }, (_, i) => i), options.concurrency, signal, async (i) => {
      const person = people[i % people.length]!
      try {
        const receipt = await client.deliver({
          to: person.address,
          document: tinyPdf([`Payslip #${i + 1}`, 'Demo Employer', person.name, `Net pay: ${(1800 + i * 7.31).toFixed(2)} EUR`]),
          mediaType: 'application/pdf',
          type: 'payslip',
          title: `Payslip #${i + 1}`,
          senderReference: `DEMO-${i + 1}`,
        })
        sent.push({ messageId: receipt.messageId, person, stampJws: receipt.stampJws, status: receipt.status })
        sendBar.tick(true)
      } catch (err) {
        if (signal.aborted) throw signal.reason
        refused++
        if (problems.length < 5) problems.push(`submission ${i + 1} refused: ${err instanceof Error ? err.message : String(err)}`)
        sendBar.tick(false)
      }
    })
    sendBar.end()
    const sendMs = Date.now() - sendStart

    // 6. Wait until every delivery is final (or the time limit).
    const waitBar = new Progress('final', sent.length)
    const pending = new Set(sent.filter((s) => !['delivered', 'rejected', 'failed'].includes(s.status ?? '')))
    for (let k = sent.length - pending.size; k > 0; k--) waitBar.tick(true)
    let timedOut = false
    while (pending.size > 0) {
      if (signal.aborted) {
        timedOut = true
        break
      }
      await pool([...pending], 16, signal, async (s) => {
        const state = await client.status(s.messageId)
        if (state.final) {
          s.status = state.status
          if (state.reason) s.reason = state.reason.code
          pending.delete(s)
          waitBar.tick(state.status === 'delivered')
        }
      }).catch((err) => {
        if (!signal.aborted) throw err
      })
      if (pending.size > 0) await sleep(100, signal).catch(() => {})
    }
    waitBar.end()
    const deliveredAt = Date.now()
    if (timedOut) problems.push(`${pending.size} deliveries were still not final when the time limit was reached`)

    // 7. Offline verification: every node's JWKS fetched once, then no network for checking signatures.
    const book = new KeyBook()
    const routerId = await book.addNode(router.url)
    for (const v of vaults) await book.addNode(v.url)
    const chains = new Map<string, string[]>()
    let stampsVerified = 0
    let evidenceVerified = 0
    let unverified = 0
    const depositsSeen = new Map<string, number>() // messageId → DepositAcceptance count over the chain
    const checkBar = new Progress('verified', sent.length)
    const timeLeft = !signal.aborted
    if (timeLeft) {
      await pool(sent, 16, signal, async (s) => {
        chains.set(s.messageId, (await client.evidence(s.messageId)).map((e) => e.jws))
      })
      for (const s of sent) {
        let good = true
        try {
          await verifyStampOffline(book, s.stampJws, routerId, s.messageId)
          stampsVerified++
        } catch (err) {
          good = false
          if (problems.length < 10) problems.push(`stamp of ${s.messageId} does not verify: ${(err as Error).message}`)
        }
        const checked = await verifyChainOffline(book, chains.get(s.messageId) ?? [], {
          routerId,
          messageId: s.messageId,
          sender: SENDER_ID,
          recipient: s.person.address,
          operator: s.person.vault.id,
        })
        depositsSeen.set(s.messageId, checked.deposits.length)
        if (s.status === 'delivered' && checked.deposits.length === 0) checked.problems.push('delivered without deposit evidence')
        if (checked.problems.length === 0) evidenceVerified += checked.events.length
        else {
          good = false
          if (problems.length < 10) problems.push(`${s.messageId}: ${checked.problems.join('; ')}`)
        }
        if (!good) unverified++
        checkBar.tick(good)
      }
    }
    checkBar.end()

    // 8. Exactly once at the vaults: what each vault holds, per message id.
    const landed = new Map<string, number>() // messageId → copies over all vaults
    let vaultCheck: DemoSummary['vaultCheck'] = 'archive-export'
    const perVault: DemoSummary['perVault'] = []
    for (const v of vaults) {
      const accounts = people.filter((p) => p.vault === v)
      const counts = timeLeft ? await countByArchive(v, accounts.map((p) => p.address), book) : undefined
      if (!counts) vaultCheck = 'evidence'
      let found = 0
      if (counts) {
        for (const [id, n] of counts) {
          landed.set(id, (landed.get(id) ?? 0) + n)
          found += n
        }
      } else {
        // No listing at this vault: count the deposit evidences it signed, per message.
        for (const s of sent) {
          const chain = chains.get(s.messageId) ?? []
          const mine = new Set(
            chain.map((jws) => decodeEvidence(jws)).filter((e) => e.event === 'DepositAcceptance' && e.issuer === v.id).map((e) => e.evidenceId),
          ).size
          if (mine) landed.set(s.messageId, (landed.get(s.messageId) ?? 0) + mine)
          found += mine
        }
      }
      perVault.push({ id: v.id, accounts: accounts.length, expected: sent.filter((s) => s.person.vault === v).length, found })
    }

    const delivered = sent.filter((s) => s.status === 'delivered').length
    const failed = sent.filter((s) => s.status === 'rejected' || s.status === 'failed').length
    for (const s of sent.filter((x) => x.status === 'rejected' || x.status === 'failed').slice(0, 5)) {
      problems.push(`${s.messageId} ${s.status}${s.reason ? ` (${s.reason})` : ''}`)
    }
    const lost = sent.length - delivered - failed + sent.filter((s) => s.status === 'delivered' && (landed.get(s.messageId) ?? 0) === 0).length
    const duplicated = sent.filter((s) => (landed.get(s.messageId) ?? 0) > 1).length
    const foreign = [...landed.keys()].filter((id) => !sent.some((s) => s.messageId === id))
    if (foreign.length) problems.push(`${foreign.length} unexpected documents at the vaults`)
    // 9. The port: person 1's address moves from vault-a to vault-b with the whole archive.
    let port: PortSummary | undefined
    const mover = people.find((p) => p.vault === vaults[0])
    if (timeLeft && mover && vaults[1]) {
      port = await runPort({ donor: mover.vault, recipient: vaults[1], address: mover.address, client, book, documentsAfter: AFTER_PORT, log })
      problems.push(...port.problems)
    }
    // Metering: the sender's statement and each operator-pair settlement, verified.
    const meteringProblems = await printMeteringStatements(network, { id: SENDER_ID, key }, log)
    problems.push(...meteringProblems)
    const elapsedMs = Date.now() - started
    const ok =
      meteringProblems.length === 0 &&
      (port === undefined || port.ok) &&
      refused === 0 &&
      sent.length === options.documents &&
      delivered === options.documents &&
      failed === 0 &&
      lost === 0 &&
      duplicated === 0 &&
      unverified === 0 &&
      foreign.length === 0 &&
      perVault.every((p) => p.found === p.expected)
    return {
      sent: sent.length,
      refused,
      delivered,
      failed,
      lost,
      duplicated,
      unverified,
      stampsVerified,
      evidenceVerified,
      vaultCheck,
      perVault,
      elapsedMs,
      sendMs,
      docsPerSecond: delivered / Math.max(0.001, (deliveredAt - sendStart) / 1000),
      ...(port ? { port } : {}),
      ok,
      problems,
    }
  } finally {
    clearTimeout(limit)
    try {
      await network?.close()
    } finally {
      if (!options.keep) await rm(root, { recursive: true, force: true, maxRetries: 3 })
    }
  }
}

/**
 * Count the documents of a vault's accounts per message id through the
 * self-export (`GET /v1/admin/vault-addresses/{address}/archive`), each
 * archive's signed manifest verified. Undefined when the node does not
 * serve the export.
 */
async function countByArchive(vault: DemoNode, addresses: string[], book: KeyBook): Promise<Map<string, number> | undefined> {
  const counts = new Map<string, number>()
  for (const address of addresses) {
    const res = await fetch(`${vault.url}/v1/admin/vault-addresses/${address}/archive`, {
      headers: { authorization: `Bearer ${vault.adminToken}` },
      signal: AbortSignal.timeout(30_000),
    })
    if (res.status === 404 || res.status === 405 || res.status === 501) {
      await res.body?.cancel()
      return undefined
    }
    if (!res.ok || !res.body) throw new HttpError('GET', res.url, res.status, await res.text())
    await readArchive(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>), {
      keys: book.keysOf(vault.id),
      expect: { address, donor: vault.id },
      onFile: async (path, stream) => {
        const chunks: Buffer[] = []
        for await (const c of stream) chunks.push(c as Buffer)
        if (!/^documents\/[^/]+\/metadata\.json$/.test(path)) return
        const { messageId } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { messageId: string }
        counts.set(messageId, (counts.get(messageId) ?? 0) + 1)
      },
    })
  }
  return counts
}

export { DemoTimeout }
