// A progress bar on a terminal; plain lines (every 10 %) in CI and logs.

export class Progress {
  readonly #label: string
  readonly #total: number
  readonly #out: NodeJS.WriteStream
  readonly #tty: boolean
  readonly #started = Date.now()
  #done = 0
  #failed = 0
  #lastStep = -1
  #lastDraw = 0

  constructor(label: string, total: number, out: NodeJS.WriteStream = process.stdout) {
    this.#label = label
    this.#total = Math.max(1, total)
    this.#out = out
    this.#tty = out.isTTY === true && !process.env.CI
    this.#draw(true)
  }

  tick(ok = true): void {
    this.#done++
    if (!ok) this.#failed++
    this.#draw(this.#done === this.#total)
  }

  #draw(force: boolean): void {
    const pct = Math.floor((this.#done / this.#total) * 100)
    const secs = ((Date.now() - this.#started) / 1000).toFixed(1)
    const failed = this.#failed ? `, ${this.#failed} failed` : ''
    if (this.#tty) {
      if (!force && Date.now() - this.#lastDraw < 50) return
      this.#lastDraw = Date.now()
      const width = 30
      const full = Math.round((this.#done / this.#total) * width)
      const bar = '█'.repeat(full) + '░'.repeat(width - full)
      this.#out.write(`\r  ${this.#label.padEnd(10)} ${bar} ${String(this.#done).padStart(String(this.#total).length)}/${this.#total} ${String(pct).padStart(3)}% ${secs}s${failed}\x1b[K`)
      return
    }
    const step = Math.floor(pct / 10)
    if (step === this.#lastStep) return
    this.#lastStep = step
    this.#out.write(`  ${this.#label} ${this.#done}/${this.#total} (${pct}%) ${secs}s${failed}\n`)
  }

  /** End the bar's line. */
  end(): void {
    if (this.#tty) this.#out.write('\n')
  }
}
