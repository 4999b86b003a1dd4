import t from 'tap'
import { Readable } from 'node:stream'
import tar from 'tar-stream'
import {
  TimbreError,
  assertPortingCode,
  checkPortingCode,
  contentDigest,
  createArchive,
  generateSigningKey,
  generateVaultAddress,
  issuePortingCode,
  portingCodeDigest,
  portingCodeFromBody,
  readArchive,
  signManifest,
  toPublicJwk,
  type ArchiveEntry,
  VAULT_ADDRESS_ALPHABET as A,
} from '../src/index.js'

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of stream) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

const sinkTo = (store: Map<string, Buffer>) => async (path: string, stream: Readable) => {
  store.set(path, await collect(stream))
}

t.test('porting codes: spec example, binding to the address, every typo caught', async (t) => {
  t.equal(portingCodeFromBody('K7QM3X9R2VHD8P7H', '4ZTQ8MWD0R'), '4ZTQ8MWD0RRP', 'example of spec 9.2')
  const address = generateVaultAddress()
  const code = issuePortingCode(address)
  t.same(checkPortingCode(address, code), { valid: true, code })
  t.equal(assertPortingCode(address, code.toLowerCase().replace(/(.{4})/g, '$1-')), code)
  for (let i = 0; i < 12; i++) {
    for (const c of A) {
      if (c === code[i]) continue
      const typo = code.slice(0, i) + c + code.slice(i + 1)
      if (checkPortingCode(address, typo).valid) t.fail(`substitution not caught ${typo}`)
    }
    if (i < 11 && code[i] !== code[i + 1]) {
      const typo = code.slice(0, i) + code[i + 1] + code[i] + code.slice(i + 2)
      if (checkPortingCode(address, typo).valid) t.fail(`transposition not caught ${typo}`)
    }
  }
  t.throws(() => assertPortingCode(address, 'ABC'), TimbreError)
  t.match(portingCodeDigest(address, code), /^[A-Za-z0-9_-]{43}$/)
  t.not(portingCodeDigest(address, code), portingCodeDigest(generateVaultAddress(), code))
})

async function sample(opts: { tamper?: (tarBuf: Buffer) => Buffer } = {}) {
  const key = await generateSigningKey()
  const address = generateVaultAddress()
  const big = Buffer.alloc(3 << 20, 0x61)
  const entries: ArchiveEntry[] = [
    { path: 'vault.json', bytes: JSON.stringify({ address }) },
    { path: 'journal.jsonl', bytes: '{"op":"deposit"}\n' },
    { path: 'documents/000001/content.pdf', bytes: '%PDF-1.7 one' },
    { path: 'documents/000002/content.bin', size: big.length, digest: contentDigest(big), open: () => Readable.from([big.subarray(0, 1 << 20), big.subarray(1 << 20)]) },
  ]
  const stream = await createArchive({ address, donor: 'vault-a.example', recipientOperator: 'vault-b.example', documents: 2, entries, key })
  let buf = await collect(stream)
  if (opts.tamper) buf = opts.tamper(buf)
  return { key, address, buf, big }
}

t.test('an archive round-trips with every digest checked', async (t) => {
  const { key, address, buf, big } = await sample()
  const store = new Map<string, Buffer>()
  const r = await readArchive(Readable.from([buf]), { keys: [toPublicJwk(key)], expect: { address, donor: 'vault-a.example', recipientOperator: 'vault-b.example' }, onFile: sinkTo(store) })
  t.equal(r.manifest.documents, 2)
  t.equal(r.files.length, 4)
  t.ok(store.get('documents/000002/content.bin')!.equals(big))
})

const codeAndPaths = async (p: Promise<unknown>) => {
  try {
    await p
    return { code: 'no error', paths: [] as string[] }
  } catch (err) {
    const e = err as TimbreError
    return { code: e.code, paths: ((e.extra?.errors as Array<{ path: string }>) ?? []).map((x) => x.path) }
  }
}

t.test('tampered archives are refused, naming the offending path', async (t) => {
  // one byte changed in one document
  const flip = (b: Buffer) => {
    const i = b.indexOf('%PDF-1.7 one')
    const c = Buffer.from(b)
    c[i + 9] = 0x4f
    return c
  }
  const a = await sample({ tamper: flip })
  let r = await codeAndPaths(readArchive(Readable.from([a.buf]), { keys: [toPublicJwk(a.key)], onFile: sinkTo(new Map()) }))
  t.same(r, { code: 'archive-invalid', paths: ['documents/000001/content.pdf'] }, 'one byte changed')

  // a missing document: rebuild the tar without one entry
  const b = await sample()
  const extract = tar.extract()
  const pack = tar.pack()
  const done = (async () => {
    for await (const e of extract) {
      const body = await collect(e as unknown as Readable)
      if (e.header.name !== 'documents/000001/content.pdf') pack.entry({ name: e.header.name }, body)
    }
    pack.finalize()
  })()
  Readable.from([b.buf]).pipe(extract)
  const [rebuilt] = await Promise.all([collect(pack as unknown as Readable), done])
  r = await codeAndPaths(readArchive(Readable.from([rebuilt]), { keys: [toPublicJwk(b.key)], onFile: sinkTo(new Map()) }))
  t.same(r, { code: 'archive-invalid', paths: ['documents/000001/content.pdf'] }, 'missing document')

  // a manifest signed with the wrong key
  const c = await sample()
  const other = await generateSigningKey()
  r = await codeAndPaths(readArchive(Readable.from([c.buf]), { keys: [toPublicJwk(other)], onFile: sinkTo(new Map()) }))
  t.same(r, { code: 'archive-invalid', paths: ['manifest.jws'] }, 'wrong signer')

  // a manifest for another address
  r = await codeAndPaths(readArchive(Readable.from([c.buf]), { keys: [toPublicJwk(c.key)], expect: { address: generateVaultAddress() }, onFile: sinkTo(new Map()) }))
  t.same(r, { code: 'archive-invalid', paths: ['manifest.jws'] }, 'other address')

  // garbage
  r = await codeAndPaths(readArchive(Readable.from([Buffer.from('not a tar at all')]), { keys: [toPublicJwk(c.key)], onFile: sinkTo(new Map()) }))
  t.equal(r.code, 'archive-invalid', 'not a tar')
  t.ok(typeof signManifest === 'function')
})
