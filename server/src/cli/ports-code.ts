// `timbre ports code --address A [--ttl-days N]` (donor): issue a porting code
// at the person's request and print it, this once (TMB-PORT-001, -005).
import { requireFlag, type Flags } from './args.js'
import type { CliIo } from './io.js'
import { adminCall, adminOptions, adminTarget } from './ports-admin.js'

export const usage = 'timbre ports code --address <vault address> [--ttl-days <1-30>] [--url <node>] [--admin-token <token>] [--json]'
export const options = { ...adminOptions, address: { type: 'string' }, 'ttl-days': { type: 'string' } } as const

export async function portsCode(flags: Flags, io: CliIo): Promise<number> {
  const address = requireFlag(flags, 'address')
  const ttl = typeof flags['ttl-days'] === 'string' ? Number(flags['ttl-days']) : undefined
  const issued = await adminCall<{ address: string; code: string; display: string; expiresAt: string }>(
    adminTarget(flags, io), 'POST', `/v1/admin/vault-addresses/${encodeURIComponent(address)}/porting-code`, ttl ? { ttlDays: ttl } : {},
  )
  if (flags.json) io.out(JSON.stringify(issued, null, 2))
  else {
    io.out(`porting code for ${issued.address}: ${issued.display}`)
    io.out(`valid until ${issued.expiresAt}, single use. It is shown only this once and stored nowhere.`)
  }
  return 0
}
