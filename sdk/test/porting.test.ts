import t from 'tap'
import { setTimeout as delay } from 'node:timers/promises'
import { TimbreError, generateSigningKey, portingCodeFromBody } from '../src/index.js'
import { DirectoryPortingClient } from '../src/vault/index.js'
import { deposit, fakeDirectory, vault } from './porting-fixtures.js'

const codeOf = async (p: () => Promise<unknown>) => {
  try {
    await p()
    return 'no error'
  } catch (err) {
    return err instanceof TimbreError ? err.code : String(err)
  }
}
const consent = () => ({ givenAt: new Date().toISOString(), reference: `consent-${Math.random().toString(36).slice(2)}` })

t.test('porting codes and port requests against a directory following 9.3/9.4', async (t) => {
  const routerKey = await generateSigningKey()
  const senderKey = await generateSigningKey()
  const dir = await fakeDirectory(t)
  const a = await vault(t, dir, 'vault-a.example', 'memory', routerKey)
  const b = await vault(t, dir, 'vault-b.example', 'fs', routerKey)
  const c = await vault(t, dir, 'vault-c.example', 'memory', routerKey)

  const hosted = async () => {
    const address = await a.kit.openAccount()
    dir.lines.set(address, a.id)
    return address
  }

  t.test('a wrong code fails locally, before any network call', async (t) => {
    const address = await hosted()
    const issued = await a.kit.issuePortingCode(address)
    t.match(issued.display, /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/)
    const typo = issued.code.slice(0, 3) + (issued.code[3] === 'A' ? 'B' : 'A') + issued.code.slice(4)
    const before = dir.ports.size
    t.equal(await codeOf(() => b.kit.requestPortIn({ address, portingCode: typo, consent: consent() })), 'porting-code-invalid')
    t.equal(dir.ports.size, before, 'nothing reached the directory')
    // A code with valid check characters but never registered is refused by the directory.
    const forged = portingCodeFromBody(address, '0000000000')
    t.equal(await codeOf(() => b.kit.requestPortIn({ address, portingCode: forged, consent: consent() })), 'porting-code-invalid')
    // An earlier code is invalidated by a newer one (TMB-PORT-004).
    const newer = await a.kit.issuePortingCode(address)
    t.equal(await codeOf(() => b.kit.requestPortIn({ address, portingCode: issued.code, consent: consent() })), 'porting-code-invalid')
    t.ok(await b.kit.requestPortIn({ address, portingCode: newer.display, consent: consent() }))
  })

  t.test('an expired code and a reused code', async (t) => {
    const address = await hosted()
    const issued = await a.kit.issuePortingCode(address, { ttlDays: 1 / 86_400 / 10 }) // 0.1 s
    await delay(200)
    t.equal(await codeOf(() => b.kit.requestPortIn({ address, portingCode: issued.code, consent: consent() })), 'porting-code-expired')
    await t.rejects(a.kit.issuePortingCode(address, { ttlDays: 31 }), TypeError, 'at most 30 days (TMB-PORT-003)')

    dir.objectionWindowMs = 60_000
    const fresh = await a.kit.issuePortingCode(address)
    const port = await b.kit.requestPortIn({ address, portingCode: fresh.code, consent: consent() })
    t.equal(port.status, 'pending')
    t.equal(port.donor, a.id)
    t.notOk('portingCode' in port, 'the record never holds the code')
    t.equal(await codeOf(() => c.kit.requestPortIn({ address, portingCode: fresh.code, consent: consent() })), 'porting-code-used')
    const another = await a.kit.issuePortingCode(address)
    t.equal(await codeOf(() => c.kit.requestPortIn({ address, portingCode: another.code, consent: consent() })), 'port-already-pending')

    // Only the new operator may cancel; then the port is over and the code stays used.
    t.equal(await codeOf(() => a.kit.cancelPort(port.portId)), 'port-cancel-forbidden')
    t.equal(await codeOf(() => c.kit.cancelPort(port.portId)), 'port-cancel-forbidden')
    const cancelled = await b.kit.cancelPort(port.portId)
    t.equal(cancelled.status, 'cancelled')
    t.equal(await codeOf(() => b.kit.cancelPort(port.portId)), 'port-not-cancellable')
    t.equal(await codeOf(() => b.kit.requestPortIn({ address, portingCode: fresh.code, consent: consent() })), 'porting-code-used')
    t.equal(await codeOf(() => c.kit.getPort(port.portId)), 'not-found', 'a third operator cannot see the port')
    await dir.settled()
    await a.kit.syncPorts()
    t.same(await a.storage.account(address), { status: 'active' }, 'the donor keeps serving after a cancellation')
    dir.objectionWindowMs = 0
  })

  t.test('the donor objects with a coded reason', async (t) => {
    const address = await hosted()
    dir.objectionWindowMs = 5_000
    const seen: string[] = []
    a.kit.onPortRequest((port) => (port.address === address ? { object: 'vault-inactive', detail: 'suspended' } : undefined))
    b.kit.onPortUpdate((port) => {
      if (port.address === address) seen.push(port.status)
    })
    const issued = await a.kit.issuePortingCode(address)
    const port = await b.kit.requestPortIn({ address, portingCode: issued.code, consent: consent() })
    await dir.settled()
    await dir.settled()
    const after = await b.kit.getPort(port.portId)
    t.equal(after.status, 'objected')
    t.same(after.reason, { code: 'vault-inactive', detail: 'suspended' })
    t.same(seen, ['objected'], 'the new operator was told')
    t.same(await a.storage.account(address), { status: 'active' })
    // Only the donor may object, and only once.
    const asB = new DirectoryPortingClient({ directoryUrl: dir.url, operatorId: b.id, signingKey: b.signingKey })
    t.equal(await codeOf(() => asB.objectPort(port.portId, 'vault-inactive')), 'port-objection-forbidden')
    const asA = new DirectoryPortingClient({ directoryUrl: dir.url, operatorId: a.id, signingKey: a.signingKey })
    t.equal(await codeOf(() => asA.objectPort(port.portId, 'vault-inactive')), 'port-objection-closed')
    a.kit.onPortRequest(() => undefined)
    dir.objectionWindowMs = 0
  })

  t.test('silence is consent: the donor answers recipient-moved from the cut-over', async (t) => {
    const address = await hosted()
    dir.objectionWindowMs = 400
    const before = await deposit(a, dir, routerKey, senderKey, address, '%PDF before')
    t.equal(before.res.status, 201)
    const issued = await a.kit.issuePortingCode(address)
    const port = await b.kit.requestPortIn({ address, portingCode: issued.code, consent: consent() })
    await dir.settled()
    t.same(await a.storage.account(address), { status: 'active' }, 'served as before until cutoverAt (TMB-PORT-021)')
    await delay(500)
    t.equal((await a.kit.getPort(port.portId)).status, 'completed')
    t.same(await a.storage.account(address), { status: 'moved', operator: b.id })
    const late = await deposit(a, dir, routerKey, senderKey, address, '%PDF after')
    t.equal(late.res.status, 409)
    t.equal((late.res.body as any).code, 'recipient-moved')
    t.equal((late.res.body as any).operator, b.id)
    // A repeat of a document deposited before the cut-over still gets its evidence (dedupe first).
    const repeat = await deposit(a, dir, routerKey, senderKey, address, '%PDF before', before.sealed.metadata.messageId)
    t.equal(repeat.res.status, 200)
    t.same(await b.storage.account(address), { status: 'active' })
    dir.objectionWindowMs = 0
  })

  t.test('a notification not signed by the directory is refused', async (t) => {
    const res = await a.kit.handlePortNotification({ method: 'POST', path: '/v1/notifications/ports', headers: { 'content-type': 'application/json' }, rawBody: Buffer.from('{}') })
    t.equal(res.status, 401)
  })
})
