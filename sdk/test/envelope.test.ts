import t from 'tap'
import {
  generateEncryptionKey,
  generateSigningKey,
  generateVaultAddress,
  openContent,
  sealEnvelope,
  toPublicJwk,
  verifyEnvelope,
  TimbreError,
} from '../src/index.js'

const sender = '0009:12345678900011'

async function setup() {
  const senderKey = await generateSigningKey()
  const opKey = await generateEncryptionKey()
  const sealed = await sealEnvelope({
    sender,
    recipient: generateVaultAddress(),
    documentType: 'payslip',
    title: 'Payslip November 2026',
    mediaType: 'application/pdf',
    document: '%PDF-1.7 payslip',
    senderKey,
    recipientKey: toPublicJwk(opKey),
  })
  return { senderKey, opKey, sealed }
}

const codeOf = async (p: Promise<unknown>) => {
  try {
    await p
    return 'no error'
  } catch (err) {
    return err instanceof TimbreError ? err.code : String(err)
  }
}

t.test('seal, verify, open', async (t) => {
  const { senderKey, opKey, sealed } = await setup()
  const meta = await verifyEnvelope(sealed.envelope, toPublicJwk(senderKey), sealed.content)
  t.equal(meta.sender, sender)
  t.equal(meta.recipientKid, opKey.kid)
  t.notOk(sealed.content.includes('payslip'), 'content is not readable')
  const bytes = await openContent(sealed.content, meta, opKey)
  t.equal(new TextDecoder().decode(bytes), '%PDF-1.7 payslip')
})

t.test('tampering is caught', async (t) => {
  const { senderKey, opKey, sealed } = await setup()
  const pub = toPublicJwk(senderKey)
  const [h, p, s] = sealed.envelope.split('.')
  const flipped = s!.slice(0, 10) + (s![10] === 'A' ? 'B' : 'A') + s!.slice(11)
  t.equal(await codeOf(verifyEnvelope(`${h}.${p}.${flipped}`, pub)), 'envelope-invalid', 'tampered signature')
  const other = await generateSigningKey()
  t.equal(await codeOf(verifyEnvelope(sealed.envelope, toPublicJwk(other))), 'envelope-invalid', 'wrong key')
  const other2 = await setup()
  t.equal(await codeOf(verifyEnvelope(sealed.envelope, pub, other2.sealed.content)), 'content-digest-mismatch', 'swapped content')
  const meta = await verifyEnvelope(sealed.envelope, pub)
  const wrongOp = await generateEncryptionKey()
  t.equal(await codeOf(openContent(sealed.content, meta, wrongOp)), 'content-undecryptable', 'wrong operator key')
  const lying = { ...meta, content: { ...meta.content, size: meta.content.size + 1 } }
  t.equal(await codeOf(openContent(sealed.content, lying, opKey)), 'content-digest-mismatch', 'size mismatch')
  t.equal(await codeOf(sealEnvelope({ ...(sealed.metadata as any), sender, recipient: 'K7QM3X9R2VHD8P4X', mediaType: 'text/plain', document: 'x', senderKey, recipientKey: toPublicJwk(opKey) })), 'invalid-vault-address')
})
