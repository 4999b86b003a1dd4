#!/usr/bin/env node
// An employer sends this month's payslips into its employees' vaults, which
// are hosted by different vault operators, and keeps the verified proof.
//
//   node examples/dist/payslips/main.js --router-url http://127.0.0.1:8080 \
//     --admin-token "$(cat .timbre/admin-token)" --to K7QM-3X9R-2VHD-8P7H,…
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { assertVaultAddress, formatVaultAddress, TimbreError, type PrivateJwk } from '@timbre/sdk'
import { TimbreClient } from '@timbre/sdk/client'
import { AdminApi } from '../lib/admin.js'
import { readOptions, usage, type FlagSpec } from '../lib/args.js'
import { loadOrCreateKey, writePublicKey } from '../lib/keys.js'
import { KeyBook, verifyChainOffline, verifyStampOffline } from '../lib/offline.js'
import { tinyPdf } from '../lib/pdf.js'

const FLAGS = {
  'router-url': { env: 'TIMBRE_ROUTER_URL', default: 'http://127.0.0.1:8080', help: "the employer's routing node" },
  'sender-id': { env: 'PAYSLIPS_SENDER_ID', default: '0009:12345678900011', help: 'the employer organisation id (ISO 6523 icd:value)' },
  'sender-name': { env: 'PAYSLIPS_SENDER_NAME', default: 'ACME Payroll', help: 'name registered with the sender' },
  'key-dir': { env: 'PAYSLIPS_KEY_DIR', default: './.payslips', help: 'where the sender key is created or read' },
  'admin-token': { env: 'TIMBRE_ADMIN_TOKEN', help: "the routing node's admin token: register the sender through the admin API" },
  to: { env: 'PAYSLIPS_TO', help: 'comma-separated vault addresses of the employees' },
  employees: { env: 'PAYSLIPS_EMPLOYEES', help: 'JSON file: [{ "name": "…", "address": "…" }, …] (instead of --to)' },
  period: { env: 'PAYSLIPS_PERIOD', default: new Date().toISOString().slice(0, 7), help: 'pay period YYYY-MM' },
  'timeout-ms': { env: 'PAYSLIPS_TIMEOUT_MS', default: '60000', help: 'how long to wait for each deposit' },
} satisfies FlagSpec

interface Employee {
  name: string
  address: string
}

async function employeesOf(o: { to?: string | undefined; employees?: string | undefined }): Promise<Employee[]> {
  if (o.employees) return JSON.parse(await readFile(o.employees, 'utf8')) as Employee[]
  const list = (o.to ?? '').split(',').map((s) => s.trim()).filter(Boolean)
  return list.map((address, i) => ({ name: `Employee ${i + 1}`, address }))
}

async function main(): Promise<number> {
  const o = readOptions(FLAGS)
  if (o.help) {
    console.log(usage('node examples/dist/payslips/main.js', 'Send payslips into employees\' vaults and verify the proof offline.', FLAGS))
    return 0
  }
  const employees = await employeesOf(o)
  if (employees.length === 0) {
    console.error('no employees: pass --to ADDRESS[,ADDRESS…] or --employees employees.json')
    return 2
  }
  const routerUrl = o['router-url']!
  const senderId = o['sender-id']!

  // 1. The employer's own Ed25519 key: the routing node only ever gets its public part.
  const keyPath = join(o['key-dir']!, 'sender.jwk.json')
  const pubPath = join(o['key-dir']!, 'sender.pub.json')
  const { key, created } = await loadOrCreateKey(keyPath, 'sig')
  await writePublicKey(pubPath, key)
  console.log(`${created ? 'created' : 'using'} sender key ${key.kid} (${keyPath})`)

  // 2. Registration at the routing node.
  if (o['admin-token']) {
    const fresh = await new AdminApi(routerUrl, o['admin-token']).registerSender({ id: senderId, name: o['sender-name']!, jwk: key })
    console.log(fresh ? `registered sender ${senderId} at ${routerUrl}` : `sender ${senderId} was already registered`)
  } else {
    console.log('No --admin-token: the routing node operator registers the sender with')
    console.log(`  timbre senders add --id ${senderId} --jwk ${pubPath} --name "${o['sender-name']}"`)
    console.log('(or run this again with --admin-token). Trying to send anyway…')
  }

  const client = new TimbreClient({ baseUrl: routerUrl, senderId, key: key as PrivateJwk })
  const { nodeId: routerId, endpoints } = await client.discovery()
  const period = o.period!

  // 3. One payslip per employee; each answer is a stamp the SDK has already verified.
  const sent: Array<{ employee: Employee; messageId: string; stampJws: string; operator: string }> = []
  for (const employee of employees) {
    const line = await client.lookup(employee.address)
    const document = tinyPdf([`Payslip ${period}`, o['sender-name']!, employee.name, `Vault ${formatVaultAddress(employee.address)}`, 'Net pay: 2 417.52 EUR'])
    try {
      const receipt = await client.deliver({
        to: employee.address,
        document,
        mediaType: 'application/pdf',
        type: 'payslip',
        title: `Payslip ${period}`,
        issueDate: new Date().toISOString().slice(0, 10),
        retentionHint: 'P50Y',
        senderReference: `PAY-${period}-${sent.length + 1}`,
      })
      const s = receipt.stamp
      console.log(`stamp ${s.evidenceId} by ${s.issuer} at ${s.time}: ${employee.name} → ${formatVaultAddress(s.recipient)} (${line.operator}), ${document.byteLength} bytes, ${s.contentDigest.alg}:${s.contentDigest.value.slice(0, 12)}…`)
      sent.push({ employee, messageId: receipt.messageId, stampJws: receipt.stampJws, operator: line.operator })
    } catch (err) {
      if (err instanceof TimbreError && ['sender-unknown', 'auth-invalid', 'sender-disabled'].includes(err.code)) {
        console.error(`the routing node refused the sender (${err.code}): register it first (see above)`)
        return 1
      }
      throw err
    }
  }

  // 4. Wait for every deposit.
  const timeoutMs = Number(o['timeout-ms'])
  const states = await Promise.all(sent.map((s) => client.waitForDelivery(s.messageId, { timeoutMs, intervalMs: 250 })))
  states.forEach((st, i) => console.log(`${sent[i]!.employee.name}: ${st.status}${st.reason ? ` (${st.reason.code})` : ''}`))

  // 5. Verify everything offline: fetch the keys once, then no more network.
  const book = new KeyBook()
  await book.addNode(routerUrl)
  const directoryUrl = typeof endpoints.directory === 'string' ? endpoints.directory.replace(/\/v1\/directory\/?$/, '') : routerUrl
  for (const operator of new Set(sent.map((s) => s.operator))) await book.addOperatorFromDirectory(directoryUrl, operator)
  const chains = await Promise.all(sent.map((s) => client.evidence(s.messageId).then((c) => c.map((e) => e.jws))))
  let ok = 0
  for (const [i, s] of sent.entries()) {
    await verifyStampOffline(book, s.stampJws, routerId, s.messageId)
    const checked = await verifyChainOffline(book, chains[i]!, { routerId, messageId: s.messageId, sender: senderId, recipient: assertVaultAddress(s.employee.address), operator: s.operator })
    const good = checked.problems.length === 0 && checked.deposits.length === 1 && states[i]!.status === 'delivered'
    if (good) ok++
    console.log(`${good ? 'verified' : 'NOT VERIFIED'} ${s.messageId}: ${checked.events.map((e) => `${e.event}@${e.issuer}`).join(' → ')}${checked.problems.length ? ` — ${checked.problems.join('; ')}` : ''}`)
  }
  console.log(`${ok}/${sent.length} payslips deposited and verified offline`)
  return ok === sent.length ? 0 : 1
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof TimbreError ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : err)
    process.exit(1)
  },
)
