/**
 * What a sender keeps of each document it delivered, so that it can re-route
 * it when the recipient moves (TMB-PORT-029): the signed metadata always
 * (small), the plaintext while it fits. Bounded by entries and by bytes,
 * least recently delivered first out.
 */
import type { EnvelopeMetadata } from '../protocol/envelope.js'

/** Bounds of the plaintext cache of a {@link TimbreClient}. */
export interface PlaintextCacheOptions {
  /** Most deliveries remembered (default 1 000). */
  maxEntries?: number
  /** Most plaintext bytes held in total (default 64 MiB); metadata stays when a document is dropped. */
  maxBytes?: number
}

interface Entry {
  metadata: EnvelopeMetadata
  document: Uint8Array | undefined
}

/** @internal */
export class PlaintextCache {
  #entries = new Map<string, Entry>()
  #bytes = 0
  #maxEntries: number
  #maxBytes: number

  constructor(options: PlaintextCacheOptions = {}) {
    this.#maxEntries = Math.max(0, options.maxEntries ?? 1_000)
    this.#maxBytes = Math.max(0, options.maxBytes ?? 64 * 1024 * 1024)
  }

  set(messageId: string, metadata: EnvelopeMetadata, document: Uint8Array | undefined): void {
    this.delete(messageId)
    if (this.#maxEntries === 0) return
    const keep = document && document.byteLength <= this.#maxBytes ? document : undefined
    this.#entries.set(messageId, { metadata, document: keep })
    this.#bytes += keep?.byteLength ?? 0
    for (const [id, e] of this.#entries) {
      if (this.#entries.size <= this.#maxEntries && this.#bytes <= this.#maxBytes) break
      if (this.#entries.size > this.#maxEntries) this.delete(id)
      else if (e.document && id !== messageId) {
        this.#bytes -= e.document.byteLength
        e.document = undefined
      }
    }
  }

  get(messageId: string): Entry | undefined {
    return this.#entries.get(messageId)
  }

  /** Forget a delivery (final status reached). */
  delete(messageId: string): void {
    const e = this.#entries.get(messageId)
    if (!e) return
    this.#bytes -= e.document?.byteLength ?? 0
    this.#entries.delete(messageId)
  }
}
