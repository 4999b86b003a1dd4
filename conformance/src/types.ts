/**
 * The vocabulary of the suite: profiles, assertions, outcomes and the
 * record of every HTTP exchange an assertion made.
 */
import type { PrivateJwk } from '@timbre/sdk'

/** The profiles a target can declare. */
export const PROFILES = ['vault-operator', 'routing-node', 'directory'] as const
export type Profile = (typeof PROFILES)[number]

/** Optional features a target can declare in its config (`features`). */
export const FEATURES = ['portability', 'metering', 'directory-changes'] as const
export type Feature = (typeof FEATURES)[number] | (string & {})

/** Outcomes. INAPPLICABLE is never counted as a pass. */
export type OutcomeStatus = 'PASS' | 'FAIL' | 'WARN' | 'INAPPLICABLE' | 'ERROR'

/** MUST-level assertions decide the exit code; SHOULD-level ones can only WARN. */
export type AssertionLevel = 'MUST' | 'SHOULD'

/** One HTTP request the suite sent and what came back. */
export interface Exchange {
  method: string
  url: string
  requestHeaders: Record<string, string>
  requestBody?: string
  requestBytes?: number
  status?: number
  responseHeaders?: Record<string, string>
  responseBody?: string
  durationMs?: number
  error?: string
}

/** The outcome of one assertion. */
export interface Outcome {
  id: string
  description: string
  requirements: string[]
  level: AssertionLevel
  profile: Profile
  features: string[]
  status: OutcomeStatus
  message?: string
  diagnostics?: string
  notes: string[]
  exchanges: Exchange[]
  durationMs: number
}

/** Resolved configuration of one run. */
export interface SuiteConfig {
  target: string
  profile: Profile
  features: string[]
  /** The target's operator id (`aud` of proofs); default: `nodeId` of its discovery document. */
  operatorId?: string
  suite: {
    operatorId: string
    keyFile?: string
    /** The suite's private signing key (wins over keyFile). */
    key?: PrivateJwk
  }
  vault: { addresses: string[] }
  sender?: { id: string; keyFile?: string; key?: PrivateJwk }
  admin?: { token: string }
  /**
   * Routing-node profile: the suite's simulated vault operator behind the
   * node (listen address, and the URL the node reaches it at).
   */
  suiteVault?: { host?: string; port?: number; publicUrl?: string }
  /**
   * Feature `portability`, vault side: an address of the target that moves
   * (or moved) to `operator` at `cutoverAt` — for targets the suite cannot
   * port through a directory of their own.
   */
  portability?: { moved?: { address: string; operator: string; cutoverAt?: string } }
  filter?: string
  /** Per-request timeout in milliseconds. */
  timeoutMs: number
  /** Base URL of the spec chapters for report links. */
  specBaseUrl: string
}

/** Thrown by an assertion to record a FAIL (or WARN for SHOULD-level). */
export class AssertionFailure extends Error {
  override name = 'AssertionFailure'
}
/** Thrown to record WARN: a SHOULD is not met. */
export class AssertionWarning extends Error {
  override name = 'AssertionWarning'
}
/** Thrown when the assertion does not apply to this target. */
export class Inapplicable extends Error {
  override name = 'Inapplicable'
}
/** Thrown for a harness or set-up fault (missing config, unreachable target). */
export class HarnessError extends Error {
  override name = 'HarnessError'
}
