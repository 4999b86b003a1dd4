// `timbre ports request --address A --code C [--consent-ref R]` (new
// operator, single window): file the port with the person's code and consent.
import { requireFlag, type Flags } from './args.js'
import type { CliIo } from './io.js'
import { adminCall, adminOptions, adminTarget, printPort, type PortView } from './ports-admin.js'

export const usage = 'timbre ports request --address <vault address> --code <porting code> [--consent-ref <ref>] [--url <node>] [--admin-token <token>] [--json]'
export const options = { ...adminOptions, address: { type: 'string' }, code: { type: 'string' }, 'consent-ref': { type: 'string' } } as const

export async function portsRequest(flags: Flags, io: CliIo): Promise<number> {
  const body = {
    address: requireFlag(flags, 'address'),
    portingCode: requireFlag(flags, 'code'),
    consent: { givenAt: new Date().toISOString(), ...(typeof flags['consent-ref'] === 'string' ? { reference: flags['consent-ref'] } : {}) },
  }
  const port = await adminCall<PortView>(adminTarget(flags, io), 'POST', '/v1/admin/ports', body)
  printPort(io, port, flags.json === true)
  return 0
}
