/**
 * Archive import at the target as new operator (9.6): the suite is the
 * donor — an in-process VaultKit under the suite's donor identity holds a
 * deposited document and exports it (createArchive, signed with the donor
 * key); the target files the port through its admin convenience.
 */
import { randomUUID } from 'node:crypto'
import { createRequestProof, toPublicJwk, verifyEvidence } from '@timbre/sdk'
import { MemoryVaultStorage, VaultKit } from '@timbre/sdk/vault'
import { defineAssertion } from '../assertion.js'
import { expectProblem } from '../problem.js'
import type { AssertionContext as Ctx } from '../../runner/context.js'
import { donorCode, signed, sleep, suiteOperator } from './kit.js'

async function bytesOf(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of stream) chunks.push(Buffer.from(c))
  return Buffer.concat(chunks)
}

export const portabilityArchiveAssertions = [
  defineAssertion({
    id: 'vault.port.archive-import',
    description: 'As new operator the target refuses a tampered archive with 422 archive-invalid naming the path and importing nothing, then imports the valid one with ContentImport evidence',
    requirements: ['TMB-ARC-006', 'TMB-ARC-007', 'TMB-ARC-008', 'TMB-ARC-005', 'TMB-PORT-022'],
    level: 'MUST',
    profile: 'vault-operator',
    features: ['portability'],
    async run(ctx: Ctx) {
      const t = await ctx.target()
      if (!ctx.config.admin?.token || typeof t.discovery.endpoints?.directory !== 'string') {
        ctx.inapplicable('the suite files a port to the target through its admin API on a target that is its own directory: set admin.token')
      }
      const donor = await suiteOperator(ctx, 'donor')
      const relayEndpoint = 'http://conformance.invalid/v1/relay'
      const kit = new VaultKit({
        operatorId: donor.id,
        signingKey: donor.key,
        encryptionKeys: [donor.encryptionKey],
        storage: new MemoryVaultStorage(),
        resolveNodeKey: (iss: string, kid: string) => (iss === ctx.config.suite.operatorId && kid === ctx.state.suiteKey.kid ? toPublicJwk(ctx.state.suiteKey) : undefined),
        ...({ resolveDirectoryKey: (kid: string) => (kid === ctx.state.suiteKey.kid ? toPublicJwk(ctx.state.suiteKey) : undefined) } as object),
      } as any)
      const address = await kit.openAccount()
      const put = await signed(ctx, donor, 'PUT', `/addresses/${address}`, { operator: donor.id })
      if (put.status !== 201 && put.status !== 200) ctx.harness(`PUT /addresses/${address} as the donor answered ${put.status} ${put.json?.code ?? ''}`)
      // One deposit at the suite's donor vault.
      const document = `conformance archive document ${randomUUID()}\n`
      const sender = await ctx.sender()
      const sealed = await sender.seal({ recipient: address, recipientKey: toPublicJwk(donor.encryptionKey), document })
      const body = JSON.stringify({ envelope: sealed.envelope, content: sealed.content, stamp: await ctx.router.stamp(sealed, donor.id), senderKey: sender.publicKey, route: await ctx.directory.line(address, donor.id, relayEndpoint, [toPublicJwk(donor.encryptionKey)]) })
      const authorization = await ctx.router.proof(donor.id, 'POST', '/v1/relay', body)
      const dep = await kit.relayHandler()({ method: 'POST', path: '/v1/relay', headers: { authorization, 'content-type': 'application/json' }, rawBody: new Uint8Array(Buffer.from(body)) } as any)
      if (dep.status !== 201) ctx.harness(`the suite's donor vault did not deposit: ${dep.status} ${JSON.stringify(dep.body)}`)
      const depositEvidence = JSON.parse(Buffer.from(String((dep.body as any).evidence).split('.')[1]!, 'base64url').toString())
      // The target files the port (admin convenience) with the donor's code.
      const code = await donorCode(ctx, donor, address)
      const admin = { authorization: `Bearer ${ctx.config.admin!.token}`, 'content-type': 'application/json' }
      const filed = await ctx.http.send(`${ctx.config.target}/v1/admin/ports`, { method: 'POST', headers: admin, body: JSON.stringify({ address, portingCode: code, consent: { givenAt: new Date().toISOString(), reference: 'conformance' } }) })
      if (filed.status !== 201 && filed.status !== 200) ctx.harness(`admin: file port answered ${filed.status} ${filed.json?.code ?? ''} ${filed.json?.detail ?? ''}`)
      const portId: string = filed.json.portId
      const wait = Date.parse(filed.json.cutoverAt) - Date.now()
      if (wait > 15_000) ctx.inapplicable(`the cut-over is ${Math.round(wait / 1000)} s away; the suite waits at most 15 s`)
      await sleep(Math.max(0, wait) + 300)
      const done = await signed(ctx, donor, 'GET', `/ports/${portId}`)
      if (done.json?.status !== 'completed') ctx.harness(`the port is ${done.json?.status} after its cut-over`)
      const tar = await bytesOf(await kit.exportArchive(address, { recipientOperator: t.operatorId, portId }))
      // Tamper with the document bytes: the manifest digest no longer matches.
      const at = tar.indexOf(Buffer.from(document))
      if (at < 0) ctx.harness('the exported archive does not hold the document bytes')
      const tampered = Buffer.from(tar)
      tampered[at] = tampered[at] === 0x63 ? 0x43 : 0x63
      const url = `${t.endpoint('archiveImports', '/v1/archive-imports').replace(/\/+$/, '')}/${portId}`
      const put2 = async (bytes: Buffer) => {
        const auth = await createRequestProof({ key: donor.key, iss: donor.id, aud: t.operatorId, method: 'PUT', path: new URL(url).pathname, body: new Uint8Array(bytes) })
        return ctx.http.send(url, { method: 'PUT', headers: { authorization: auth, 'content-type': 'application/x-tar' }, body: new Uint8Array(bytes) })
      }
      const bad = expectProblem(ctx, await put2(tampered), 'archive-invalid')
      ctx.check(Array.isArray(bad.errors) && bad.errors.some((e: any) => typeof e?.path === 'string' && e.path.startsWith('documents/')), `the archive-invalid problem does not name the tampered document path: ${JSON.stringify(bad.errors)}`)
      const ok = await put2(tar)
      ctx.check(ok.status === 201, `the valid archive answered ${ok.status} ${ok.json?.code ?? ''} ${ok.json?.detail ?? ''}, expected 201`)
      ctx.check(ok.json?.imported === 1, `imported is ${ok.json?.imported}, expected 1 (the tampered attempt must import nothing)`)
      ctx.check(Array.isArray(ok.json?.evidence) && ok.json.evidence.length === 1, 'the answer does not carry one ContentImport evidence')
      let ev: any
      try {
        ev = await verifyEvidence(ok.json.evidence[0], t.keys, { event: 'ContentImport', messageId: sealed.metadata.messageId })
      } catch (err) {
        ctx.fail(`the ContentImport evidence does not verify with the target's JWKS: ${(err as Error).message}`)
      }
      ctx.check(ev.recipientOperator === t.operatorId, `ContentImport recipientOperator is ${ev.recipientOperator}`)
      ctx.check(ev.previousEvidenceId === depositEvidence.evidenceId, `ContentImport previousEvidenceId is ${ev.previousEvidenceId}, expected the donor's DepositAcceptance ${depositEvidence.evidenceId}`)
    },
  }),
]
