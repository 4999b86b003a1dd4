// Start a real node on loopback (port 0) over a fresh test database.
import { loadConfig, type ConfigOverrides } from '../../src/config/load-config.js'
import { startNode, type RunningNode } from '../../src/node.js'
import type { Store } from '../../src/store/db.js'
import { testStore, type Teardown } from './db.js'

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789'

/** Test defaults: loopback, any port, in-memory data dir, quiet logs (TEST_LOG_LEVEL to see them). */
export function testConfig(overrides: ConfigOverrides = {}) {
  return loadConfig({
    env: {},
    overrides: {
      host: '127.0.0.1',
      port: 0,
      dataDir: 'memory:',
      nodeId: 'node-under-test',
      adminToken: TEST_ADMIN_TOKEN,
      logLevel: (process.env.TEST_LOG_LEVEL as ConfigOverrides['logLevel']) ?? 'silent',
      ...overrides,
    },
  })
}

export interface TestNodeOptions {
  overrides?: ConfigOverrides
  /** Use this store instead of a fresh one. */
  store?: Store
}

/** A listening node, closed at teardown. */
export async function startTestNode(t: Teardown, options: TestNodeOptions = {}): Promise<RunningNode> {
  const store = options.store ?? (await testStore(t))
  const node = await startNode({ config: testConfig(options.overrides), store })
  t.teardown(() => node.close())
  return node
}
