// `timbre start`: run a node until SIGINT/SIGTERM, then shut down gracefully
// (stop accepting, finish in-flight requests, close the database) within
// shutdownTimeoutMs; a second signal exits at once.
import { loadConfig } from '../config/load-config.js'
import { startNode } from '../node.js'
import type { Flags } from './args.js'
import type { CliIo } from './io.js'
import { devBanner } from './dev-banner.js'

export const usage = 'timbre start [config flags]        run a node (routing node, directory, vault operator)'

export async function start(flags: Flags, io: CliIo): Promise<number> {
  const config = loadConfig({ env: io.env, flags })
  const node = await startNode({ config })
  for (const line of devBanner(config, node.url)) io.err(line)
  return new Promise<number>((resolve) => {
    let stopping = false
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        io.err(`${signal} again: exiting now`)
        resolve(1)
        return
      }
      stopping = true
      node.app.log.info({ signal }, 'shutting down')
      const timer = setTimeout(() => {
        node.app.log.error({ timeoutMs: config.shutdownTimeoutMs }, 'graceful shutdown timed out')
        resolve(1)
      }, config.shutdownTimeoutMs)
      timer.unref()
      node.close().then(
        () => { clearTimeout(timer); resolve(0) },
        (err: unknown) => { node.app.log.error({ err }, 'shutdown failed'); clearTimeout(timer); resolve(1) },
      )
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  })
}
