// The demo's metering (spec chapter 11): the routing node sells stamps, the
// sender is topped up before sending, and at the end the month is closed
// (the nodes share a movable clock) and the demo prints the sender's signed
// statement and the settlement of each (routing node, vault operator) pair,
// each verified offline: the statement against the routing node's JWKS (and
// its CSV against the signed figures), the settlement as reconciled and
// countersigned by the vault operator, both signatures checked.
import { createRequestProof, verifySettlement, verifyStatement, type Jwks, type Reconciliation, type SenderStatement, type SettlementStatement } from '@timbre/sdk'
import type { DemoNetwork, DemoNode } from './network.js'

/** Prices and termination fees of the demo network, minor units of EUR. */
export const DEMO_METERING = {
  currency: 'EUR',
  tariffs: { standard: 12, registered: 45 },
  terminationFees: { '*': { standard: 2, registered: 5 } },
}

/** A clock shared by the demo's nodes that can jump to the next month (to close the current one). */
export class DemoClock {
  #offset = 0
  readonly now = (): Date => new Date(Date.now() + this.#offset)
  /** Jump to one hour past the end of the current month; returns the month closed (`YYYY-MM`). */
  closeMonth(): string {
    const d = this.now()
    const period = d.toISOString().slice(0, 7)
    this.#offset = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1, 1) - Date.now()
    return period
  }
}

async function fetchJson(url: string, init: RequestInit = {}): Promise<{ status: number; body: any; text: string }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) })
  const text = await res.text()
  let body: unknown
  try { body = JSON.parse(text) } catch { body = undefined }
  return { status: res.status, body, text }
}

/** Top up a sender through the admin API (TMB-MTR-009). */
export async function prefund(router: DemoNode, senderId: string, amount: number): Promise<void> {
  const r = await fetchJson(`${router.url}/v1/admin/senders/${encodeURIComponent(senderId)}/topups`, {
    method: 'POST',
    headers: { authorization: `Bearer ${router.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ amount, reference: 'demo: prepaid stamps' }),
  })
  if (r.status !== 201) throw new Error(`top-up refused: ${r.status} ${r.text}`)
}

const eur = (minor: number) => `${(minor / 100).toFixed(2)} EUR`

/**
 * Close the month, then print and verify the sender's statement and every
 * operator-pair settlement. Returns the problems found (none when all verify).
 */
export async function printMeteringStatements(network: DemoNetwork & { clock: DemoClock }, sender: { id: string; key: Parameters<typeof createRequestProof>[0]['key'] }, log: (line: string) => void): Promise<string[]> {
  const problems: string[] = []
  const { router, vaults } = network
  const period = network.clock.closeMonth()
  const jwksOf = async (n: DemoNode) => (await fetchJson(`${n.url}/.well-known/jwks.json`)).body as Jwks
  const routerJwks = await jwksOf(router)
  log('')
  log(`Metering — month ${period} closed`)

  // The sender's statement: JSON signed by the routing node, and CSV (sender proofs on the node's clock).
  const senderGet = async (path: string, accept: string) => {
    const authorization = await createRequestProof({ key: sender.key, iss: sender.id, aud: router.id, method: 'GET', path, body: '', now: network.clock.now() })
    return fetch(`${router.url}${path}`, { headers: { authorization, accept }, signal: AbortSignal.timeout(30_000) })
  }
  try {
    const json = await (await senderGet(`/v1/stamps/statements/${period}`, 'application/json')).json() as { statement: string }
    const csv = await (await senderGet(`/v1/stamps/statements/${period}`, 'text/csv')).text()
    const s = await verifyStatement<SenderStatement>(json.statement, routerJwks, { kind: 'sender-statement', sender: sender.id, period, issuer: router.id, csv })
    log(`  Statement of ${s.sender} by ${s.issuer} (signed, CSV of ${csv.trim().split('\n').length - 1} rows matches): verified`)
    log(`    opening ${eur(s.openingBalance)}, top-ups ${eur(s.topups.amount)}, ` +
      s.classes.map((c) => `${c.count} ${c.stampClass} stamps ${eur(c.amount)}`).join(', ') +
      `, refunds ${s.refunds.count} (${eur(s.refunds.amount)}), closing ${eur(s.closingBalance)}`)
  } catch (err) {
    problems.push(`sender statement: ${(err as Error).message}`)
  }

  // Each (routing node, vault operator) pair: the router's statement, reconciled and countersigned by the vault.
  for (const vault of vaults) {
    try {
      const path = `/v1/settlements/${router.id}/${period}`
      const proofGet = await createRequestProof({ key: router.node.keys.signingKey, iss: router.id, aud: vault.id, method: 'GET', path, body: '' })
      const theirs = await fetchJson(`${vault.url}${path}`, { headers: { authorization: proofGet } })
      if (theirs.status !== 200) throw new Error(`${vault.id} statement: ${theirs.status} ${theirs.text}`)
      const mine = (await fetchJson(`${router.url}/v1/settlements/${vault.id}/${period}`, {
        headers: { authorization: await createRequestProof({ key: vault.node.keys.signingKey, iss: vault.id, aud: router.id, method: 'GET', path: `/v1/settlements/${vault.id}/${period}`, body: '' }) },
      })).body.statement as string
      const body = JSON.stringify({ statement: mine })
      const rec = await fetchJson(`${vault.url}/v1/settlements/reconciliation`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: await createRequestProof({ key: router.node.keys.signingKey, iss: router.id, aud: vault.id, method: 'POST', path: '/v1/settlements/reconciliation', body }) },
        body,
      })
      const r = rec.body as Reconciliation
      if (rec.status !== 200) throw new Error(`reconciliation: ${rec.status} ${rec.text}`)
      if (!r.matched || !r.countersignature) {
        problems.push(`settlement ${router.id} ↔ ${vault.id}: ${r.onlyHere.length} only at the vault, ${r.onlyThere.length} only at the router: ${[...r.onlyHere, ...r.onlyThere].map((d) => d.messageId).join(', ')}`)
        continue
      }
      const s: SettlementStatement = await verifySettlement(mine, r.countersignature, { routing: routerJwks, vault: await jwksOf(vault) })
      log(`  Settlement ${s.routingOperator} → ${s.vaultOperator} ${s.period}: ` +
        (s.classes.map((c) => `${c.count} ${c.stampClass} × ${eur(c.fee)} = ${eur(c.amount)}`).join(', ') || 'no deliveries') +
        ` — both sides' records agree, signed by both, verified`)
    } catch (err) {
      problems.push(`settlement ${router.id} ↔ ${vault.id}: ${(err as Error).message}`)
    }
  }
  return problems
}
