/**
 * The sender side of Timbre: {@link TimbreClient} delivers documents and
 * follows them to their final, verified evidence.
 * @module
 */
export {
  TimbreClient,
  type TimbreClientOptions,
  type DeliverInput,
  type DeliveryReceipt,
  type DeliveryState,
  type VerifiedEvidence,
  type WebhookEvent,
  type WaitForDeliveryOptions,
  type DiscoveryDocument,
  type OperatorRecord,
  type RerouteDocument,
} from './timbre-client.js'
export type { PlaintextCacheOptions } from './plaintext-cache.js'
export { StampsApi, periodBounds, type StampUsage, type VerifiedStatement } from './stamps.js'
export { JsonHttp, parseRetryAfter, type JsonHttpOptions, type JsonRequest, type JsonResponse } from './http.js'
export { DEFAULT_RETRY, backoffDelay, sleep, withRetry, type RetryOptions, type RetryHooks } from './retry.js'
// Offline verification needs no client: re-exported here for callers importing only '@timbre/sdk/client'.
export { verifyEvidence, verifyStamp } from '../protocol/evidence.js'
export { verifyStatement, verifySettlement } from '../protocol/statement.js'
export { TimbreError } from '../errors.js'
