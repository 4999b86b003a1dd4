/**
 * Convenience set-up through the reference node's admin API (never
 * required): register the suite as a trusted routing node, open test vault
 * accounts, register the test sender; for the routing-node profile, admit
 * the suite's simulated vault operator, register its test addresses in the
 * node's directory (signed PUTs) and point the sender's webhook at the suite.
 */
import { createRequestProof, toPublicJwk, type PrivateJwk } from '@timbre/sdk'
import { RecordingHttp } from '../http.js'
import type { Exchange, SuiteConfig } from '../types.js'
import type { SimulatedVault, VaultScript } from './vault.js'
import { SimulatedSender } from './sender.js'

export interface AdminSetup {
  addresses: string[]
  notes: string[]
  scenarios: Partial<Record<VaultScript, string>>
  otherSender?: SimulatedSender
}

export const SCENARIOS: VaultScript[] = ['unavailable-once', 'moved-once', 'reject', 'bad-evidence-once']

/**
 * Register addresses of the simulated vault in the target's directory with
 * `PUT /v1/directory/addresses/{a}` signed by the vault (TMB-DIR-010).
 */
export async function registerVaultAddresses(http: RecordingHttp, config: SuiteConfig, vault: SimulatedVault, directoryId: string, count: number): Promise<string[]> {
  const base = config.target.replace(/\/+$/, '')
  const out: string[] = []
  for (let i = 0; i < count; i++) {
    const address = await vault.openAccount()
    const path = `/v1/directory/addresses/${address}`
    const body = JSON.stringify({ operator: vault.operatorId })
    const authorization = await createRequestProof({ key: vault.signingKey, iss: vault.operatorId, aud: directoryId, method: 'PUT', path, body })
    const r = await http.send(base + path, { method: 'PUT', headers: { authorization, 'content-type': 'application/json' }, body })
    if (r.status !== 201 && r.status !== 200) throw new Error(`PUT ${path} answered ${r.status} ${r.json?.code ?? ''} ${r.json?.detail ?? ''}`)
    out.push(address)
  }
  return out
}

export async function adminSetup(
  config: SuiteConfig,
  suiteKey: PrivateJwk,
  senderKey: PrivateJwk | undefined,
  log: Exchange[],
  vault?: SimulatedVault,
  directoryId?: string,
): Promise<AdminSetup> {
  const notes: string[] = []
  const addresses = [...config.vault.addresses]
  const scenarios: AdminSetup['scenarios'] = {}
  if (!config.admin?.token) return { addresses, notes, scenarios }
  const http = new RecordingHttp(log, config.timeoutMs)
  const base = config.target.replace(/\/+$/, '')
  const headers = { authorization: `Bearer ${config.admin.token}`, 'content-type': 'application/json' }
  const post = (path: string, body: unknown) => http.send(base + path, { method: 'POST', headers, body: JSON.stringify(body) })
  try {
    const r = await post('/v1/admin/operators', {
      id: config.suite.operatorId,
      baseUrl: 'http://conformance.invalid',
      relayEndpoint: 'http://conformance.invalid/v1/relay',
      roles: ['routing-node', 'directory'],
      jwks: { keys: [toPublicJwk(suiteKey)] },
    })
    notes.push(`admin: register suite operator → ${r.status}`)
    if (config.profile === 'directory' && vault) {
      const v = await post('/v1/admin/operators', { id: vault.operatorId, baseUrl: vault.url, relayEndpoint: vault.relayEndpoint, roles: ['vault-operator'], jwks: vault.jwks })
      notes.push(`admin: register the suite's vault operator → ${v.status}`)
    }
    if (config.profile === 'vault-operator' || config.profile === 'directory') {
      while (addresses.length < 2) {
        const a = await post('/v1/admin/vault-addresses', {})
        if (a.status >= 300 || typeof a.json?.address !== 'string') {
          notes.push(`admin: open vault account → ${a.status}`)
          break
        }
        addresses.push(a.json.address)
      }
    }
    if (config.profile === 'routing-node' && vault && directoryId) {
      const v = await post('/v1/admin/operators', { id: vault.operatorId, baseUrl: vault.url, relayEndpoint: vault.relayEndpoint, roles: ['vault-operator'], jwks: vault.jwks })
      notes.push(`admin: register the suite's vault operator → ${v.status}`)
      if (addresses.length < 2) addresses.push(...(await registerVaultAddresses(http, config, vault, directoryId, 2 - addresses.length)))
      for (const s of SCENARIOS) {
        const [a] = await registerVaultAddresses(http, config, vault, directoryId, 1)
        vault.scripts.set(a!, s)
        scenarios[s] = a!
      }
    }
    if (config.profile === 'routing-node' && config.sender && senderKey) {
      const body = { id: config.sender.id, jwk: toPublicJwk(senderKey), ...(vault ? { webhookUrl: vault.webhookUrl(config.sender.id) } : {}) }
      const s = await post('/v1/admin/senders', body)
      notes.push(`admin: register sender → ${s.status}`)
      if (s.status === 409 && vault) {
        const p = await http.send(`${base}/v1/admin/senders/${encodeURIComponent(config.sender.id)}`, { method: 'PATCH', headers, body: JSON.stringify({ webhookUrl: vault.webhookUrl(config.sender.id) }) })
        notes.push(`admin: set webhook → ${p.status}`)
      }
    }
    let otherSender: SimulatedSender | undefined
    if (config.profile === 'routing-node') {
      const o = await SimulatedSender.create(`0009:CONFORMANCE${Date.now().toString(36).toUpperCase()}`)
      const s = await post('/v1/admin/senders', { id: o.id, jwk: o.publicKey })
      if (s.status === 201) otherSender = o
    }
    return { addresses, notes, scenarios, ...(otherSender ? { otherSender } : {}) }
  } catch (err) {
    notes.push(`admin set-up failed: ${(err as Error).message}`)
  }
  return { addresses, notes, scenarios }
}
