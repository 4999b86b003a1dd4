/**
 * What an assertion gets to work with: the recording HTTP client, the
 * target's discovery, the simulated actors, and the verdict helpers.
 */
import { RecordingHttp } from '../http.js'
import { AssertionFailure, AssertionWarning, HarnessError, Inapplicable, type Exchange, type SuiteConfig } from '../types.js'
import { discoverTarget, type TargetInfo } from '../actors/target.js'
import { SimulatedRoutingNode } from '../actors/routing-node.js'
import { SimulatedDirectory } from '../actors/directory.js'
import { SimulatedSender } from '../actors/sender.js'
import type { PrivateJwk } from '@timbre/sdk'
import type { SimulatedVault, VaultScript } from '../actors/vault.js'

/** State shared by every assertion of one run. */
export class RunState {
  readonly setupExchanges: Exchange[] = []
  #target?: Promise<TargetInfo>
  #sender?: Promise<SimulatedSender>
  readonly router: SimulatedRoutingNode
  readonly directory: SimulatedDirectory
  /** Routing-node profile: the suite's vault operator behind the node, and its scripted addresses. */
  suiteVault?: SimulatedVault
  scenarios: Partial<Record<VaultScript, string>> = {}
  /** Routing-node profile: a second registered sender (admin set-up). */
  otherSender?: SimulatedSender
  /** Routes (directory lines) fetched from the target's directory, by address. */
  readonly routes = new Map<string, Promise<string | undefined>>()

  constructor(
    readonly config: SuiteConfig,
    readonly suiteKey: PrivateJwk,
    readonly configuredSenderKey?: PrivateJwk,
  ) {
    this.router = new SimulatedRoutingNode(config.suite.operatorId, suiteKey)
    this.directory = new SimulatedDirectory(config.suite.operatorId, suiteKey)
  }

  target(): Promise<TargetInfo> {
    this.#target ??= discoverTarget(new RecordingHttp(this.setupExchanges, this.config.timeoutMs), this.config.target, this.config.operatorId)
    return this.#target
  }

  /** The run's default simulated sender (configured or generated). */
  sender(): Promise<SimulatedSender> {
    this.#sender ??= SimulatedSender.create(this.config.sender?.id, this.configuredSenderKey)
    return this.#sender
  }
}

export class AssertionContext {
  readonly exchanges: Exchange[] = []
  readonly notes: string[] = []
  readonly http: RecordingHttp

  constructor(readonly state: RunState) {
    this.http = new RecordingHttp(this.exchanges, state.config.timeoutMs)
  }

  get config(): SuiteConfig {
    return this.state.config
  }
  get router(): SimulatedRoutingNode {
    return this.state.router
  }
  get directory(): SimulatedDirectory {
    return this.state.directory
  }
  target(): Promise<TargetInfo> {
    return this.state.target()
  }
  /** The suite's simulated vault behind a routing node under test. */
  suiteVault(): SimulatedVault {
    const v = this.state.suiteVault
    if (!v) this.harness('the routing-node profile observes relays through the suite\'s simulated vault: set admin.token (reference node) so the suite can admit it and register its addresses')
    return v
  }
  /** An address of the suite vault that runs a script. */
  scenario(s: VaultScript): string {
    const a = this.state.scenarios[s]
    if (!a) this.harness(`no suite-vault address with script ${s}: set admin.token so the suite can register it in the node's directory`)
    return a
  }
  sender(): Promise<SimulatedSender> {
    return this.state.sender()
  }

  /** A test vault address hosted by the target (index 0 by default). */
  address(i = 0): string {
    const a = this.config.vault.addresses
    if (!a.length) throw new HarnessError('no test vault addresses: set vault.addresses in the config (or admin.token to open them)')
    return a[i % a.length]!
  }

  note(message: string): void {
    this.notes.push(message)
  }
  fail(message: string): never {
    throw new AssertionFailure(message)
  }
  warn(message: string): never {
    throw new AssertionWarning(message)
  }
  inapplicable(message: string): never {
    throw new Inapplicable(message)
  }
  harness(message: string): never {
    throw new HarnessError(message)
  }
  check(condition: unknown, message: string): asserts condition {
    if (!condition) this.fail(message)
  }
}
