// Portability over real HTTP with three nodes (D: routing node + directory,
// A: donor vault, B: new operator), real keys, both databases. Each fault of
// issue 4 with its expected answer and nothing lost (spec 9.2–9.7).
import { Readable } from 'node:stream'
import t from 'tap'
import tar from 'tar-stream'
import { createRequestProof, decodeEvidence, generateSigningKey, issuePortingCode, portingCodeDigest, signManifest, uuidv7, type PrivateJwk } from '@timbre/sdk'
import { DirectoryPortingClient } from '@timbre/sdk/vault'
import { call } from './helpers/http.js'
import { admin, held, portingNet, type PortingNet } from './helpers/porting.js'
import { until } from './helpers/routing.js'

const collect = async (stream: AsyncIterable<unknown>) => {
  const chunks: Buffer[] = []
  for await (const c of stream) chunks.push(Buffer.from(c as Uint8Array))
  return Buffer.concat(chunks)
}

async function repack(buf: Buffer, edit: (name: string, data: Buffer) => Buffer | undefined): Promise<Buffer> {
  const extract = tar.extract()
  const pack = tar.pack()
  const out = collect(pack as unknown as Readable)
  Readable.from([buf]).pipe(extract)
  for await (const entry of extract) {
    const data = await collect(entry as unknown as Readable)
    const next = edit(entry.header.name, data)
    if (next) pack.entry({ name: entry.header.name }, next)
  }
  pack.finalize()
  return out
}

const consent = { givenAt: new Date().toISOString(), reference: 'consent-test' }
const send = (net: PortingNet, address: string, i: number) =>
  net.sender.client.deliver({ to: address, document: `%PDF-1.7 document ${i}`, type: 'payslip', title: `Doc ${i}`, mediaType: 'application/pdf' })

/** A's directory client (to act as the donor directly, e.g. a short-lived code). */
const asOperator = (net: PortingNet, node: 'a' | 'b') =>
  new DirectoryPortingClient({ directoryUrl: net.d.url, operatorId: node === 'a' ? 'vault-a' : 'vault-b', signingKey: net[node].keys.signingKey, retry: { attempts: 1 } })

t.test('ten failed port requests for an address: the next ones are refused 429 with Retry-After (TMB-PORT-008)', async (t) => {
  const net = await portingNet(t, { windowSeconds: 30 })
  const address = await net.openAtA()
  const other = await net.openAtA()
  const b = asOperator(net, 'b')
  for (let i = 0; i < 10; i++) {
    await t.rejects(b.requestPort({ address, portingCode: issuePortingCode(address), consent }), { code: 'porting-code-invalid' }, `failure ${i + 1}`)
  }
  // Even the right code waits now: codes cannot be guessed by trying.
  const issued = await admin(net.a, 'POST', `/v1/admin/vault-addresses/${address}/porting-code`, {})
  const r = await admin(net.b, 'POST', '/v1/admin/ports', { address, portingCode: issued.json.code, consent })
  t.equal(r.status, 429, 'the eleventh request is refused')
  t.equal(r.json.code, 'rate-limited')
  t.ok(Number(r.headers['retry-after']) > 23 * 3600, 'Retry-After: until the oldest failure is 24 h old')
  t.equal((await net.stores.d.db.selectFrom('ports').select('port_id').where('address', '=', address).execute()).length, 0, 'no port')
  // Another address is not affected.
  const code = (await admin(net.a, 'POST', `/v1/admin/vault-addresses/${other}/porting-code`, {})).json.code
  const ok = await admin(net.b, 'POST', '/v1/admin/ports', { address: other, portingCode: code, consent })
  t.equal(ok.status, 201, 'a port of another address goes through')
})

t.test('codes and requests: wrong, expired, reused code; address already porting; cancel and objection by the wrong party', async (t) => {
  const net = await portingNet(t, { windowSeconds: 30 })
  const address = await net.openAtA()
  for (let i = 0; i < 3; i++) await net.sender.client.waitForDelivery((await send(net, address, i)).messageId, { timeoutMs: 20_000, intervalMs: 50 })
  t.equal(await held(net.a, address), 3, 'three documents at A before the port')

  // The donor issues the code; it is shown once and only its digest reaches the directory.
  const issued = await admin(net.a, 'POST', `/v1/admin/vault-addresses/${address}/porting-code`, {})
  t.equal(issued.status, 201)
  const code: string = issued.json.code
  const codes = await net.stores.d.db.selectFrom('porting_codes').selectAll().execute()
  t.equal(codes.length, 1)
  t.notOk(JSON.stringify(codes).includes(code), 'the directory never holds the code (TMB-PORT-005)')
  t.equal(codes[0]!.code_digest, portingCodeDigest(address, code))

  // A mistyped code is caught by the new operator before anything is sent (TMB-PORT-007).
  const typo = code.slice(0, 11) + (code[11] === 'A' ? 'B' : 'A')
  let r = await admin(net.b, 'POST', '/v1/admin/ports', { address, portingCode: typo, consent })
  t.equal(r.status, 422)
  t.equal(r.json.code, 'porting-code-invalid', 'mistyped code')
  // A well-formed code the donor never registered: the directory refuses it.
  r = await admin(net.b, 'POST', '/v1/admin/ports', { address, portingCode: issuePortingCode(address), consent })
  t.equal(r.json.code, 'porting-code-invalid', 'unregistered code → 422 porting-code-invalid')
  // The directory checks the code itself too (a client that skipped its local check).
  await t.rejects(asOperator(net, 'b').requestPort({ address, portingCode: typo, consent }), { code: 'porting-code-invalid' })

  // Expired: a code registered to expire in a few seconds (room for a loaded
  // CI machine to register it before then), used after.
  const a = asOperator(net, 'a')
  const short = issuePortingCode(address)
  const shortExpiry = Date.now() + 4_000
  await a.registerPortingCode({ address, codeDigest: portingCodeDigest(address, short), expiresAt: new Date(shortExpiry).toISOString() })
  await new Promise((res) => setTimeout(res, Math.max(0, shortExpiry - Date.now()) + 200))
  r = await admin(net.b, 'POST', '/v1/admin/ports', { address, portingCode: short, consent })
  t.equal(r.status, 422)
  t.equal(r.json.code, 'porting-code-expired', 'expired code')
  // The short code invalidated the first one (TMB-PORT-004).
  r = await admin(net.b, 'POST', '/v1/admin/ports', { address, portingCode: code, consent })
  t.equal(r.json.code, 'porting-code-invalid', 'a superseded code is invalid')

  // A valid code: the port is pending, with deadline = cut-over = request + 30 s.
  const fresh = (await admin(net.a, 'POST', `/v1/admin/vault-addresses/${address}/porting-code`, {})).json.code as string
  r = await admin(net.b, 'POST', '/v1/admin/ports', { address, portingCode: fresh, consent })
  t.equal(r.status, 201, 'port filed')
  const port = r.json
  t.equal(port.status, 'pending')
  t.equal(port.donor, 'vault-a')
  t.equal(port.objectionDeadline, port.cutoverAt)
  t.ok(Date.parse(port.cutoverAt) - Date.parse(port.requestedAt) === 30_000)
  t.notOk(JSON.stringify(port).includes(fresh), 'the port record never contains the code')

  // Reused code.
  r = await admin(net.b, 'POST', '/v1/admin/ports', { address, portingCode: fresh, consent })
  t.equal(r.status, 409)
  t.equal(r.json.code, 'porting-code-used', 'reused code')

  // Already porting: the donor (still serving) issues another code; the request meets the pending port.
  const third = (await admin(net.a, 'POST', `/v1/admin/vault-addresses/${address}/porting-code`, {})).json.code as string
  r = await admin(net.b, 'POST', '/v1/admin/ports', { address, portingCode: third, consent })
  t.equal(r.status, 409)
  t.equal(r.json.code, 'port-already-pending', 'address already porting')
  r = await admin(net.b, 'POST', '/v1/admin/ports', { address, portingCode: third, consent })
  t.equal(r.json.code, 'porting-code-used', 'a code refused at the last check is used up (TMB-PORT-006)')

  // The lines: A until cut-over, B scheduled from it, both in the feed before it takes effect.
  const now = await call(net.d.url, 'GET', `/v1/directory/addresses/${address}`)
  t.equal(decodeEvidenceLine(now.json.line).operator, 'vault-a', 'A serves until the cut-over (TMB-PORT-021)')
  const later = await call(net.d.url, 'GET', `/v1/directory/addresses/${address}?at=${encodeURIComponent(new Date(Date.parse(port.cutoverAt) + 1).toISOString())}`)
  t.equal(decodeEvidenceLine(later.json.line).operator, 'vault-b', 'B from the cut-over')
  t.equal(decodeEvidenceLine(later.json.line).version, decodeEvidenceLine(now.json.line).version + 1, 'the next version')

  // The donor heard of it (notification with a directory proof) and lists it; a third party cannot see it.
  await until(async () => (await net.a.app.timbrePorting!.repo.db.selectFrom('vault_accounts').select('move_at').where('address', '=', address).executeTakeFirst())?.move_at, 10_000)
  t.equal((await asOperator(net, 'a').listPorts('pending')).length, 1, 'the donor lists the pending port')

  // Cancel by the wrong party, objection by the wrong party, a reason outside 9.4.
  await t.rejects(asOperator(net, 'a').cancelPort(port.portId), { code: 'port-cancel-forbidden' }, 'the donor cannot cancel')
  await t.rejects(asOperator(net, 'b').objectPort(port.portId, 'vault-inactive'), { code: 'port-objection-forbidden' }, 'the new operator cannot object')
  await t.rejects(asOperator(net, 'a').objectPort(port.portId, 'because' as never), { code: 'schema-violation' }, 'an uncoded reason')
  // A deposit still lands at A while pending (documents unharmed).
  await net.sender.client.waitForDelivery((await send(net, address, 3)).messageId, { timeoutMs: 20_000, intervalMs: 50 })
  t.equal(await held(net.a, address), 4)

  // The new operator cancels on the person's word: the scheduled line is voided, A keeps the address.
  r = await admin(net.b, 'POST', `/v1/admin/ports/${port.portId}/cancellation`)
  t.equal(r.status, 200)
  t.equal(r.json.status, 'cancelled')
  const after = await call(net.d.url, 'GET', `/v1/directory/addresses/${address}?at=${encodeURIComponent(new Date(Date.parse(port.cutoverAt) + 1).toISOString())}`)
  t.equal(decodeEvidenceLine(after.json.line).operator, 'vault-a', 'A again after the cut-over time')
  const lines = await net.stores.d.db.selectFrom('directory_lines').selectAll().where('address', '=', address).orderBy('version').execute()
  t.same(lines.map((l) => [l.version, l.operator_id, l.valid_to && +new Date(l.valid_to) === +new Date(l.valid_from) ? 'void' : l.valid_to ? 'closed' : 'open']), [
    [1, 'vault-a', 'closed'], [2, 'vault-b', 'void'], [3, 'vault-a', 'open'],
  ], 'lines never deleted: donor closed, scheduled voided, donor again')
  r = await admin(net.b, 'POST', `/v1/admin/ports/${port.portId}/cancellation`)
  t.equal(r.json.code, 'port-not-cancellable', 'a cancelled port cannot be cancelled again')
  // The donor's scheduled move is undone once it hears of the cancellation.
  await until(async () => !(await net.a.app.timbrePorting!.repo.db.selectFrom('vault_accounts').select('move_at').where('address', '=', address).executeTakeFirst())?.move_at, 10_000)

  // Objection by the donor with a coded reason: a new port, objected; B is notified.
  const fourth = (await admin(net.a, 'POST', `/v1/admin/vault-addresses/${address}/porting-code`, {})).json.code as string
  const second = (await admin(net.b, 'POST', '/v1/admin/ports', { address, portingCode: fourth, consent })).json
  const objected = await asOperator(net, 'a').objectPort(second.portId, 'vault-inactive', 'suspended for the test')
  t.equal(objected.status, 'objected')
  t.same(objected.reason, { code: 'vault-inactive', detail: 'suspended for the test' })
  await t.rejects(asOperator(net, 'a').objectPort(second.portId, 'vault-inactive'), { code: 'port-objection-closed' })
  const feed = await call(net.d.url, 'GET', '/v1/directory/changes?after=0&limit=1000')
  const cursors = feed.json.changes.map((c: { cursor: string }) => Number(c.cursor))
  t.same(cursors, cursors.map((_: number, i: number) => i + 1), 'the feed has no gaps')
  const notified = await until(async () => (await net.d.app.timbrePorting!.repo.job(`port:${second.portId}:objected:vault-b`))?.doneAt, 10_000)
  t.ok(notified, 'the new operator was notified of the objection')
  t.equal(await held(net.a, address), 4, 'nothing lost at A')
  t.equal(await held(net.b, address), 0, 'nothing at B')
})

function decodeEvidenceLine(jws: string): { operator: string; version: number } {
  return JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString('utf8'))
}

t.test('the donor deletes the ported documents after the new operator accepted the archive (TMB-ARC-012)', async (t) => {
  const net = await portingNet(t, { purgePortedAfterSeconds: 0 })
  const address = await net.openAtA()
  for (let i = 0; i < 2; i++) await net.sender.client.waitForDelivery((await send(net, address, i)).messageId, { timeoutMs: 20_000, intervalMs: 50 })
  t.equal(await held(net.a, address), 2)
  const code = (await admin(net.a, 'POST', `/v1/admin/vault-addresses/${address}/porting-code`, {})).json.code as string
  t.equal((await admin(net.b, 'POST', '/v1/admin/ports', { address, portingCode: code, consent })).status, 201)
  await until(async () => (await held(net.b, address)) === 2, 30_000, 100)
  t.pass('the archive is at the new operator')
  await until(async () => (await held(net.a, address)) === 0, 30_000, 100)
  t.pass('the donor deleted its copies')
  t.equal(await held(net.b, address), 2, 'the new operator keeps everything')
  const journal = await net.a.app.timbrePorting!.vault!.storage.journal(address)
  t.ok(journal.some((e) => e.detail?.includes('ported documents deleted')), 'the deletion is in the donor\'s journal')
})

t.test('silent donor, tampered archives, a donor crashing during export', async (t) => {
  // A runs no worker on its own: the test drives its transfer job.
  const net = await portingNet(t, { windowSeconds: 2, aWorker: false })
  const address = await net.openAtA()
  const ids: string[] = []
  for (let i = 0; i < 6; i++) {
    const { messageId } = await send(net, address, i)
    await net.sender.client.waitForDelivery(messageId, { timeoutMs: 20_000, intervalMs: 50 })
    ids.push(messageId)
  }
  const code = (await admin(net.a, 'POST', `/v1/admin/vault-addresses/${address}/porting-code`, {})).json.code as string
  const port = (await admin(net.b, 'POST', '/v1/admin/ports', { address, portingCode: code, consent })).json
  t.equal(port.status, 'pending')
  // The donor says nothing: at the deadline the port completes by itself (TMB-PORT-018).
  const done = await until(async () => {
    const p = (await admin(net.b, 'GET', `/v1/admin/ports/${port.portId}`)).json
    return p.status === 'completed' ? p : undefined
  }, 10_000, 100)
  t.equal(done.status, 'completed', 'silence is consent')
  t.ok(Date.now() >= Date.parse(port.cutoverAt))
  // Relays for A now answer recipient-moved; deliveries re-route to B.
  const moved = await send(net, address, 100)
  const state = await net.sender.client.waitForDelivery(moved.messageId, { timeoutMs: 20_000, intervalMs: 50 })
  t.equal(state.status, 'delivered', 'a delivery after the cut-over lands at B')
  t.equal(await held(net.b, address), 1)

  // Tampered archives, PUT by the donor with its own proof: 422 archive-invalid, nothing imported.
  const kit = net.a.app.timbrePorting!.vault!.kit
  const good = await collect(await kit.exportArchive(address, { recipientOperator: 'vault-b', portId: port.portId }))
  const put = async (body: Buffer, key: PrivateJwk = net.a.keys.signingKey, iss = 'vault-a') => {
    const path = `/v1/archive-imports/${port.portId}`
    const { createHash } = await import('node:crypto')
    const bodyDigest = createHash('sha256').update(body).digest('base64url')
    const authorization = await createRequestProof({ key, iss, aud: 'vault-b', method: 'PUT', path, bodyDigest })
    return call(net.b.url, 'PUT', path, { body, headers: { 'content-type': 'application/x-tar', authorization } })
  }
  const flipped = await repack(good, (name, data) => {
    if (name !== 'documents/000002/content.pdf') return data
    const c = Buffer.from(data)
    c[3] = c[3]! ^ 0x01
    return c
  })
  let r = await put(flipped)
  t.equal(r.status, 422)
  t.equal(r.json.code, 'archive-invalid', 'one byte changed in one document')
  t.ok(r.json.errors.some((e: { path: string }) => e.path === 'documents/000002/content.pdf'), 'names the document')
  r = await put(await repack(good, (name, data) => (name.startsWith('documents/000003/') ? undefined : data)))
  t.equal(r.json.code, 'archive-invalid', 'a missing document')
  const other = await generateSigningKey()
  const manifest = JSON.parse(Buffer.from((await firstEntry(good)).split('.')[1]!, 'base64url').toString('utf8'))
  const wrong = await signManifest(manifest, other)
  r = await put(await repack(good, (name, data) => (name === 'manifest.jws' ? Buffer.from(wrong) : data)))
  t.equal(r.json.code, 'archive-invalid', 'a manifest signed with the wrong key')
  r = await put(good, other, 'vault-b')
  t.equal(r.status, 403, 'only the donor may transfer')
  t.equal(await held(net.b, address), 1, 'nothing imported by any refused archive')

  // The donor crashes during export: its storage fails at the third document, then it restarts.
  const storage = net.a.app.timbrePorting!.vault!.storage
  const original = storage.openDocument.bind(storage)
  let served = 0
  storage.openDocument = async (addr: string, id: string) => {
    if (++served === 3) throw new Error('simulated crash during export')
    return original(addr, id)
  }
  // Under load A may learn of the completion a little late, so the job can
  // appear after the first tick: tick until it has been attempted once.
  let job: { doneAt?: unknown; lastError?: string | null } | undefined
  for (let i = 0; i < 100; i++) {
    await net.a.porting!.tick()
    job = await net.a.app.timbrePorting!.repo.job(`archive:${port.portId}`)
    if (job && (job.lastError || job.doneAt)) break
    await new Promise((res) => setTimeout(res, 100))
  }
  t.ok(job && !job.doneAt && job.lastError?.includes('simulated crash'), 'the first transfer failed mid-export and is queued again', { job })
  t.equal(await held(net.b, address), 1, 'nothing imported from the broken attempt')
  // Restart of the donor on its database: the queued job is taken up and completes (TMB-ARC-004).
  await net.restartA()
  await until(async () => (await net.a.app.timbrePorting!.repo.job(`archive:${port.portId}`))?.doneAt, 20_000, 100)
  t.equal(await held(net.b, address), 7, 'all six archived documents imported next to the re-routed one')
  t.equal(await held(net.a, address), 6, 'the donor keeps its copy until it decides to delete (TMB-ARC-012)')
  // Each archived document at B carries its chain: stamp, deposit at A, ContentImport by B.
  const records = await net.b.app.timbrePorting!.vault!.storage.list(address)
  for (const id of ids) {
    const rec = records.find((x) => x.messageId === id)!
    t.same(rec.chain!.map((j) => [decodeEvidence(j).event, decodeEvidence(j).issuer]), [['SubmissionAcceptance', 'directory-d'], ['DepositAcceptance', 'vault-a'], ['ContentImport', 'vault-b']])
  }
  // A repeated transfer answers 200 with the same body.
  r = await put(good)
  t.equal(r.status, 200, 'repeat → 200')
  t.equal(r.json.imported, 6)
  // Self-export at B now holds all seven.
  const exported = await call(net.b.url, 'GET', `/v1/admin/vault-addresses/${address}/archive`, { admin: true })
  t.equal(exported.status, 200)
  t.equal(exported.headers['content-type'], 'application/x-tar')
  t.equal(exported.headers['x-timbre-documents'], '7')
  void uuidv7
})

async function firstEntry(buf: Buffer): Promise<string> {
  const extract = tar.extract()
  Readable.from([buf]).pipe(extract)
  for await (const entry of extract) {
    const data = await collect(entry as unknown as Readable)
    extract.destroy()
    return data.toString('utf8')
  }
  throw new Error('empty tar')
}
