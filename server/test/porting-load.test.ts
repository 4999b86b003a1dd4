// The headline test of issue 4: an address is ported from vault A to vault B
// while 500 deliveries to it are in flight. Nodes: D (routing node +
// directory), A (donor), B (new operator), each with its own database; the
// sender is TimbreClient with automatic re-route. Afterwards every document
// is at B exactly once (by relay or by the archive import), none is lost,
// and each message's evidence tells one of the two stories of spec 9.5.
import t from 'tap'
import { decodeEvidence } from '@timbre/sdk'
import { admin, held, portingNet } from './helpers/porting.js'
import { until } from './helpers/routing.js'

const TOTAL = Number(process.env.PORT_LOAD_TOTAL ?? 500)

t.test(`port an address while ${TOTAL} deliveries are in flight`, async (t) => {
  const started = Date.now()
  const net = await portingNet(t, { windowSeconds: 3, concurrency: 32 })
  const address = await net.openAtA()
  const client = net.sender.client
  const ids: string[] = []
  let port: { portId: string; cutoverAt: string; requestedAt: string } | undefined
  let requestedAt = 0
  const requestPort = async () => {
    const code = (await admin(net.a, 'POST', `/v1/admin/vault-addresses/${address}/porting-code`, {})).json.code as string
    requestedAt = Date.now()
    const r = await admin(net.b, 'POST', '/v1/admin/ports', { address, portingCode: code, consent: { givenAt: new Date().toISOString(), reference: 'load-consent' } })
    if (r.status !== 201) throw new Error(r.text)
    port = r.json
    // Watch the donor from now on: when does it know of the cut-over?
    watchDonor = until(async () => {
      const row = await net.stores.a.db.selectFrom('vault_accounts').select('move_at').where('address', '=', address).executeTakeFirst()
      return row?.move_at ? Date.now() : 0
    }, 30_000, 10)
  }
  let watchDonor: Promise<number> | undefined
  // Submit in waves; the port is filed a fifth of the way through, so the
  // cut-over (3 s later) falls while submissions and relays are under way.
  let portFiled: Promise<void> | undefined
  let afterCutover = 0
  for (let i = 0; i < TOTAL; i += 20) {
    if (!portFiled && i >= TOTAL / 5) portFiled = requestPort()
    const wave = await Promise.all(
      Array.from({ length: Math.min(20, TOTAL - i) }, (_, k) =>
        client.deliver({ to: address, document: `%PDF-1.7 payslip ${i + k} ${'x'.repeat(200)}`, type: 'payslip', title: `Payslip ${i + k}`, mediaType: 'application/pdf' }),
      ),
    )
    ids.push(...wave.map((w) => w.messageId))
    if (process.env.PORT_LOAD_DEBUG) t.comment(`wave ${i} at ${Date.now() - started} ms; delivered so far ${(await net.stores.d.db.selectFrom('deliveries').select((eb) => eb.fn.countAll<string>().as('n')).where('status', '=', 'delivered').executeTakeFirstOrThrow()).n}`)
    if (port && Date.now() >= Date.parse(port.cutoverAt)) afterCutover += wave.length
    await new Promise((r) => setTimeout(r, 25))
  }
  await portFiled
  t.ok(port, 'port filed')
  const cutoverAt = Date.parse(port!.cutoverAt)

  // The cut-over reached every node before it took effect: D holds the scheduled
  // line (it is the directory and routes from it), B filed it, A was notified.
  const aNotified = await watchDonor!
  if (process.env.PORT_LOAD_DEBUG) t.comment(JSON.stringify(await net.stores.d.db.selectFrom('porting_jobs').selectAll().execute()))
  t.ok(aNotified <= cutoverAt, `the donor knew of the cut-over ${cutoverAt - aNotified} ms before it`)

  // Every delivery reaches a final status; moved ones are re-routed by the client.
  const states = new Map<string, string>()
  const queue = [...ids]
  try {
    await Promise.all(Array.from({ length: 10 }, async () => {
      for (let id = queue.shift(); id; id = queue.shift()) {
        const s = await client.waitForDelivery(id, { timeoutMs: 120_000, intervalMs: 300 })
        states.set(id, s.status)
      }
    }))
  } catch (err) {
    const stuck = await net.stores.d.db.selectFrom('outbox').select(['message_id', 'attempts', 'last_error', 'available_at']).where('kind', '=', 'relay').limit(5).execute()
    t.comment(JSON.stringify(stuck))
    throw err
  }
  const delivered = [...states.values()].filter((s) => s === 'delivered').length
  t.equal(delivered, TOTAL, 'every delivery delivered')

  // The donor transfers its archive after the cut-over; B imports it.
  await until(async () => (await net.a.app.timbrePorting!.repo.job(`archive:${port!.portId}`))?.doneAt, 60_000, 100)
  const doneAt = Date.now()

  const atB = await net.b.app.timbrePorting!.vault!.storage.list(address)
  const atA = await net.a.app.timbrePorting!.vault!.storage.list(address)
  const bIds = atB.map((r) => r.messageId)
  const unique = new Set(bIds)
  const lost = ids.filter((id) => !unique.has(id))
  const duplicated = bIds.length - unique.size
  t.equal(lost.length, 0, '0 lost')
  t.equal(duplicated, 0, '0 duplicated')
  t.equal(atB.length, TOTAL, `all ${TOTAL} at B`)
  t.equal(await held(net.b, address), TOTAL, 'no additional (conflicting) documents')

  // Evidence: (a) stamp → DepositAcceptance at A → ContentImport at B, or
  // (b) stamp → RelayRejection recipient-moved → re-route stamp → DepositAcceptance at B,
  // or, submitted after the cut-over, (c) stamp for B → DepositAcceptance at B.
  const aIds = new Set(atA.map((r) => r.messageId))
  const evidence = await net.stores.d.db.selectFrom('evidence').select(['message_id', 'event', 'issuer', 'jws']).orderBy('seq').execute()
  const byMessage = new Map<string, Array<{ event: string; issuer: string; jws: string }>>()
  for (const e of evidence) byMessage.set(e.message_id, [...(byMessage.get(e.message_id) ?? []), e])
  let viaArchive = 0
  let viaReroute = 0
  let direct = 0
  const bad: string[] = []
  for (const rec of atB) {
    const chain = (byMessage.get(rec.messageId) ?? []).map((e) => `${e.event}@${e.issuer}`)
    const vaultEvidence = decodeEvidence(rec.evidence)
    if (vaultEvidence.event === 'ContentImport') {
      viaArchive++
      const kept = (rec.chain ?? []).map((j) => `${decodeEvidence(j).event}@${decodeEvidence(j).issuer}`)
      const ok = aIds.has(rec.messageId)
        && kept.join(',') === 'SubmissionAcceptance@directory-d,DepositAcceptance@vault-a,ContentImport@vault-b'
        && chain.join(',') === 'SubmissionAcceptance@directory-d,DepositAcceptance@vault-a,RelayAcceptance@directory-d'
      if (!ok) bad.push(`${rec.messageId} archive ${kept} / ${chain}`)
    } else if (decodeEvidence(rec.stamp).recipientOperator === 'vault-b' && !(byMessage.get(rec.messageId) ?? []).some((e) => e.event === 'RelayRejection')) {
      // (c) submitted after the cut-over: stamped for B from the start.
      direct++
      const ok = !aIds.has(rec.messageId) && chain.join(',') === 'SubmissionAcceptance@directory-d,DepositAcceptance@vault-b,RelayAcceptance@directory-d'
      if (!ok) bad.push(`${rec.messageId} direct ${chain}`)
    } else {
      viaReroute++
      const rejection = (byMessage.get(rec.messageId) ?? []).find((e) => e.event === 'RelayRejection')
      const ok = !aIds.has(rec.messageId)
        && vaultEvidence.event === 'DepositAcceptance' && vaultEvidence.issuer === 'vault-b'
        // A's DepositRejection (recipient-moved, RLY-017) is there when A was asked; absent when the routing node saw the new line first (RLY-023).
        && /^SubmissionAcceptance@directory-d,(DepositRejection@vault-a,)?RelayRejection@directory-d,SubmissionAcceptance@directory-d,DepositAcceptance@vault-b,RelayAcceptance@directory-d$/.test(chain.join(','))
        && rejection !== undefined && decodeEvidence(rejection.jws).reason?.code === 'recipient-moved'
        && decodeEvidence(rec.stamp).previousEvidenceId === decodeEvidence(rejection.jws).evidenceId
      if (!ok) bad.push(`${rec.messageId} reroute ${chain}`)
    }
  }
  t.same(bad, [], 'every message tells one consistent story')
  t.equal(viaArchive + viaReroute + direct, TOTAL)
  // Whether any relay meets the cut-over in flight (and so re-routes) is a
  // matter of timing: with faster submissions a whole run can land before
  // or after it. The re-route path has its own deterministic tests
  // (porting.test.ts, sdk client-reroute); here it is reported, and every
  // message, whichever path it took, must tell a consistent story (above).
  t.ok(viaArchive > 0, `documents deposited before the cut-over came over in the archive: ${viaArchive} via the archive, ${viaReroute} re-routed (${direct} stamped for B after the cut-over)`)
  t.equal(atA.length, viaArchive, 'A holds exactly the documents deposited before the cut-over (kept until its deletion, TMB-ARC-012)')

  const transferJob = await net.a.app.timbrePorting!.repo.job(`archive:${port!.portId}`)
  const report = {
    transferAttempts: transferJob?.attempts,
    deliveries: TOTAL,
    submittedAfterCutover: afterCutover,
    viaArchive,
    viaReroute,
    direct,
    lost: lost.length,
    duplicated,
    donorNotifiedBeforeCutoverMs: cutoverAt - aNotified,
    requestToNotifiedMs: aNotified - requestedAt,
    // When the donor's transfer job finished (the new operator's 201), from the cut-over.
    cutoverToArchiveImportedMs: (transferJob?.doneAt?.getTime() ?? doneAt) - cutoverAt,
    totalMs: Date.now() - started,
  }
  t.comment(JSON.stringify(report))
})
