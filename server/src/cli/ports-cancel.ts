// `timbre ports cancel --id P` (new operator, on the person's word, before the cut-over).
import { requireFlag, type Flags } from './args.js'
import type { CliIo } from './io.js'
import { adminCall, adminOptions, adminTarget, printPort, type PortView } from './ports-admin.js'

export const usage = 'timbre ports cancel --id <port id> [--url <node>] [--admin-token <token>] [--json]'
export const options = { ...adminOptions, id: { type: 'string' } } as const

export async function portsCancel(flags: Flags, io: CliIo): Promise<number> {
  const port = await adminCall<PortView>(adminTarget(flags, io), 'POST', `/v1/admin/ports/${encodeURIComponent(requireFlag(flags, 'id'))}/cancellation`)
  printPort(io, port, flags.json === true)
  return 0
}
