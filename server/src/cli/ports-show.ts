// `timbre ports show --id P`: one port.
import { requireFlag, type Flags } from './args.js'
import type { CliIo } from './io.js'
import { adminCall, adminOptions, adminTarget, printPort, type PortView } from './ports-admin.js'

export const usage = 'timbre ports show --id <port id> [--url <node>] [--admin-token <token>] [--json]'
export const options = { ...adminOptions, id: { type: 'string' } } as const

export async function portsShow(flags: Flags, io: CliIo): Promise<number> {
  const port = await adminCall<PortView>(adminTarget(flags, io), 'GET', `/v1/admin/ports/${encodeURIComponent(requireFlag(flags, 'id'))}`)
  printPort(io, port, flags.json === true)
  return 0
}
