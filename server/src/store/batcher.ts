// Batching of concurrent requests' statements: requests that arrive while a
// batch is in flight share the next one. For writes this is group commit: one
// transaction (one WAL flush) and one multi-row statement per table, instead
// of a transaction and a handful of round trips per request; for reads, one
// multi-row SELECT. Nothing waits for a timer: an idle batcher runs a lone
// item at once, so a quiet node keeps its latency and a busy one amortises
// the statement and the commit over everyone who queued meanwhile.

/** One item's outcome: its result, or the error its request must answer. */
export type Outcome<R> = { ok: true; value: R } | { ok: false; error: unknown }

export interface BatcherOptions<I, R> {
  /**
   * Run a batch; answer one outcome per item, in order. A throw fails every
   * item of the batch with that error.
   */
  run(items: readonly I[]): Promise<Outcome<R>[]>
  /** Largest batch (statement size and lock time stay bounded). */
  maxBatch: number
  /** Batches in flight at once (1 on a single-connection database). */
  parallel: number
}

interface Waiting<I, R> {
  item: I
  resolve(value: R): void
  reject(error: unknown): void
}

export class Batcher<I, R> {
  readonly #o: BatcherOptions<I, R>
  #queue: Waiting<I, R>[] = []
  #inFlight = 0

  constructor(options: BatcherOptions<I, R>) {
    this.#o = options
  }

  /** Queue an item; settles when the batch holding it has run. */
  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject })
      this.#pump()
    })
  }

  #pump(): void {
    while (this.#inFlight < this.#o.parallel && this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#o.maxBatch)
      this.#inFlight++
      void this.#run(batch).finally(() => {
        this.#inFlight--
        this.#pump()
      })
    }
  }

  async #run(batch: Waiting<I, R>[]): Promise<void> {
    let outcomes: Outcome<R>[]
    try {
      outcomes = await this.#o.run(batch.map((w) => w.item))
    } catch (err) {
      for (const w of batch) w.reject(err)
      return
    }
    batch.forEach((w, i) => {
      const o = outcomes[i]
      if (!o) w.reject(new Error('batcher: no outcome for an item'))
      else if (o.ok) w.resolve(o.value)
      else w.reject(o.error)
    })
  }
}
