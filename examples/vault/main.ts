#!/usr/bin/env node
// node examples/dist/vault/main.js --operator-id vault-x.example --directory-url http://127.0.0.1:8080 …
import { readOptions, usage, type FlagSpec } from '../lib/args.js'
import { startVaultNode } from './vault-node.js'

const FLAGS = {
  'operator-id': { env: 'VAULT_OPERATOR_ID', default: 'vault-x.localhost', help: 'operator id (evidence issuer, relay audience)' },
  name: { env: 'VAULT_NAME', default: 'Example vault', help: 'name registered at the directory' },
  host: { env: 'HOST', default: '127.0.0.1', help: 'interface to listen on' },
  port: { env: 'PORT', default: '8090', help: 'port (0 = any free port)' },
  'base-url': { env: 'VAULT_BASE_URL', help: 'public base URL (default: the listening address)' },
  'data-dir': { env: 'VAULT_DATA_DIR', default: './.vault', help: 'keys, admin token and documents' },
  'directory-url': { env: 'TIMBRE_DIRECTORY_URL', default: 'http://127.0.0.1:8080', help: 'base URL of the directory node' },
  'directory-admin-token': { env: 'TIMBRE_DIRECTORY_ADMIN_TOKEN', help: 'register this operator at the directory with this admin token' },
  'admin-token': { env: 'VAULT_ADMIN_TOKEN', help: "this vault's admin token (default: generated into the data dir)" },
  'open-accounts': { env: 'VAULT_OPEN_ACCOUNTS', default: '0', help: 'open this many accounts at start and print their addresses' },
  log: { boolean: true, help: 'log requests (pino JSON)' },
} satisfies FlagSpec

async function main(): Promise<void> {
  const o = readOptions(FLAGS)
  if (o.help) {
    console.log(usage('node examples/dist/vault/main.js', 'A minimal Timbre vault operator: VaultKit on file-system storage.', FLAGS))
    return
  }
  const vault = await startVaultNode({
    operatorId: o['operator-id']!,
    name: o.name!,
    host: o.host!,
    port: Number(o.port),
    ...(o['base-url'] && { baseUrl: o['base-url'] }),
    dataDir: o['data-dir']!,
    directoryUrl: o['directory-url']!,
    ...(o['directory-admin-token'] && { directoryAdminToken: o['directory-admin-token'] }),
    ...(o['admin-token'] && { adminToken: o['admin-token'] }),
    logger: o.log === 'true',
  })
  console.log(`vault ${vault.operatorId} listening on ${vault.url} (relay ${vault.url}/v1/relay)`)
  console.log(`directory: ${o['directory-url']}${o['directory-admin-token'] ? ' (registered as an operator)' : ' (not registered: pass --directory-admin-token)'}`)
  console.log(`admin token: ${vault.adminToken}  (POST /accounts, GET /accounts/:address/documents)`)
  for (let i = 0; i < Number(o['open-accounts'] ?? 0); i++) {
    const account = await vault.openAccount()
    console.log(`opened account ${account.displayAddress}`)
  }
  let stopping = false
  const stop = () => {
    if (stopping) process.exit(1)
    stopping = true
    vault.close().then(() => process.exit(0), () => process.exit(1))
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err)
  process.exit(1)
})
