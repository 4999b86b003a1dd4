/**
 * Convenience set-up through the reference node's admin API (never
 * required): register the suite as a trusted routing node, open test vault
 * accounts, register the test sender.
 */
import { toPublicJwk, type PrivateJwk } from '@timbre/sdk'
import { RecordingHttp } from '../http.js'
import type { Exchange, SuiteConfig } from '../types.js'

export interface AdminSetup {
  addresses: string[]
  notes: string[]
}

export async function adminSetup(config: SuiteConfig, suiteKey: PrivateJwk, senderKey: PrivateJwk | undefined, log: Exchange[]): Promise<AdminSetup> {
  const notes: string[] = []
  const addresses = [...config.vault.addresses]
  if (!config.admin?.token) return { addresses, notes }
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
    if (config.profile === 'vault-operator') {
      while (addresses.length < 2) {
        const a = await post('/v1/admin/vault-addresses', {})
        if (a.status >= 300 || typeof a.json?.address !== 'string') {
          notes.push(`admin: open vault account → ${a.status}`)
          break
        }
        addresses.push(a.json.address)
      }
    }
    if (config.profile === 'routing-node' && config.sender && senderKey) {
      const s = await post('/v1/admin/senders', { id: config.sender.id, jwk: toPublicJwk(senderKey) })
      notes.push(`admin: register sender → ${s.status}`)
    }
  } catch (err) {
    notes.push(`admin set-up failed: ${(err as Error).message}`)
  }
  return { addresses, notes }
}
