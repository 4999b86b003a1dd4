import t from 'tap'
import { randomBytes } from 'node:crypto'
import { Readable, Transform } from 'node:stream'
import tar from 'tar-stream'
import { TimbreError, decodeEvidence, generateSigningKey, toPublicJwk, uuidv7, verifyEvidence } from '../src/index.js'
import { deposit, fakeDirectory, vault, type FakeDirectory, type Vault } from './porting-fixtures.js'

const collect = async (stream: Readable) => {
  const chunks: Buffer[] = []
  for await (const c of stream) chunks.push(Buffer.from(c as Uint8Array))
  return Buffer.concat(chunks)
}
const failure = async (p: Promise<unknown>) => {
  try {
    await p
    return undefined
  } catch (err) {
    return err as TimbreError
  }
}

// Re-pack an archive, dropping or changing entries (the manifest stays as it was).
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

for (const kind of ['memory', 'fs'] as const) {
  t.test(`archive export and import between two vault kits (${kind} storage)`, async (t) => {
    const routerKey = await generateSigningKey()
    const senderKey = await generateSigningKey()
    const dir: FakeDirectory = await fakeDirectory(t)
    const a: Vault = await vault(t, dir, 'vault-a.example', kind, routerKey)
    const b: Vault = await vault(t, dir, 'vault-b.example', kind, routerKey)
    const address = await a.kit.openAccount()
    dir.lines.set(address, a.id)
    const big = randomBytes(5 * 1024 * 1024)
    const docs = new Map<string, Buffer>()
    for (let i = 0; i < 50; i++) {
      const bytes = i === 7 ? big : Buffer.from(`%PDF-1.7 document ${i} MARKER-${String(i).padStart(2, '0')}`)
      const { res, sealed } = await deposit(a, dir, routerKey, senderKey, address, bytes)
      t.equal(res.status, 201)
      docs.set(sealed.metadata.messageId, bytes)
    }
    const issued = await a.kit.issuePortingCode(address)
    const port = await b.kit.requestPortIn({ address, portingCode: issued.code, consent: { givenAt: new Date().toISOString(), reference: 'c-1' } })
    await dir.settled()
    const donorKeys = [toPublicJwk(a.signingKey)]

    t.test('a tampered archive imports nothing and names the path', async (t) => {
      const good = await collect(await a.kit.exportArchive(address, { recipientOperator: b.id, portId: port.portId }))
      const marker = good.indexOf('MARKER-03')
      const flipped = Buffer.from(good)
      flipped[marker] = flipped[marker]! ^ 1
      const e1 = await failure(b.kit.importArchive(Readable.from([flipped]), { donor: a.id, donorKeys, address, portId: port.portId }))
      t.equal(e1?.code, 'archive-invalid')
      t.match(e1?.extra.errors, [{ path: /^documents\/\d{6}\/content\.pdf$/, message: /digest/ }])

      const missing = await repack(good, (name, data) => (name === 'documents/000004/envelope.jws' ? undefined : data))
      const e2 = await failure(b.kit.importArchive(Readable.from([missing]), { donor: a.id, donorKeys, address, portId: port.portId }))
      t.equal(e2?.code, 'archive-invalid')
      t.match(e2?.extra.errors, [{ path: 'documents/000004/envelope.jws', message: /missing/ }])

      const wrongKey = await generateSigningKey()
      const e3 = await failure(b.kit.importArchive(Readable.from([good]), { donor: a.id, donorKeys: [toPublicJwk(wrongKey)], address, portId: port.portId }))
      t.equal(e3?.code, 'archive-invalid')
      t.match(e3?.extra.errors, [{ path: 'manifest.jws' }])
      t.equal((await b.kit.documents(address)).length, 0, 'nothing imported')
    })

    t.test('a donor that crashes mid-export: nothing imported, a retry succeeds', async (t) => {
      const stream = await a.kit.exportArchive(address, { recipientOperator: b.id, portId: port.portId })
      let seen = 0
      const crash = new Transform({
        transform(chunk: Buffer, _e, cb) {
          seen += chunk.length
          if (seen > 2 * 1024 * 1024) return cb(new Error('donor crashed'))
          cb(null, chunk)
        },
      })
      stream.on('error', () => undefined)
      const err = await failure(b.kit.importArchive(stream.pipe(crash), { donor: a.id, donorKeys, address, portId: uuidv7() }))
      t.ok(err, 'the import fails')
      t.equal((await b.kit.documents(address)).length, 0, 'nothing imported')
    })

    t.test('transfer over HTTP: every document with ContentImport evidence, idempotent', async (t) => {
      const first = await a.kit.transferArchive(port.portId, b.url)
      t.equal(first.imported, 50)
      t.equal(first.skipped, 0)
      t.same(first.conflicts, [])
      t.equal(first.evidence.length, 50)
      const records = await a.kit.documents(address)
      const deposits = new Map(records.map((r) => [r.messageId, decodeEvidence(r.evidence)]))
      for (const jws of first.evidence) {
        // Offline: the evidence and b's published keys are all it takes.
        const ev = await verifyEvidence(jws, b.kit.jwks(), { issuer: b.id, event: 'ContentImport' })
        t.equal(ev.recipientOperator, b.id)
        t.equal(ev.previousEvidenceId, deposits.get(ev.messageId)!.evidenceId, 'follows the donor DepositAcceptance')
      }
      const imported = await b.kit.documents(address)
      t.equal(imported.length, 50)
      for (const r of imported) t.ok(Buffer.from((await b.kit.document(address, r.messageId))!).equals(docs.get(r.messageId)!))
      const again = await a.kit.transferArchive(port.portId, b.url)
      t.same(again, first, 'a repeated transfer gets the same body')
      t.equal((await b.kit.documents(address)).length, 50)
      t.same(await a.storage.account(address), { status: 'moved', operator: b.id })
      // Relays for a document that came with the archive get its ContentImport (RLY-008).
      const [one] = imported
      const journal = await b.storage.journal(address)
      t.ok(journal.some((e) => e.event === 'import'), 'the import is journaled')
      t.ok(journal.some((e) => e.event === 'export'), 'the donor journal came along')
      t.ok(one!.chain && one!.chain.length === 3)
    })

    t.test('self-export verifies offline and re-imports as skipped', async (t) => {
      const tarBytes = await collect(await a.kit.exportArchive(address))
      const again = await b.kit.importArchive(Readable.from([tarBytes]), { donor: a.id, donorKeys, address, recipientOperator: null })
      t.equal(again.imported, 0)
      t.equal(again.skipped, 50)
    })
  })
}
