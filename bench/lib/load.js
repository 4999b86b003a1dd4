import autocannon from 'autocannon'

// Runs autocannon and returns throughput and latency percentiles.
// `stopAfterSeconds` ends a run of `amount` requests early (a time-bounded phase).
export function load({ stopAfterSeconds, ...opts }, onTick) {
  return new Promise((resolve, reject) => {
    const instance = autocannon({ connections: 32, pipelining: 1, ...opts }, (err, result) => {
      clearTimeout(stopper)
      if (err) return reject(err)
      resolve({
        requestsPerSecond: result.requests.average,
        total: result.requests.total,
        ok2xx: result['2xx'],
        non2xx: result.non2xx,
        statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([k, v]) => [k, v.count])),
        errors: result.errors,
        timeouts: result.timeouts,
        latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
        durationSeconds: result.duration,
        // Answered 2xx per second over the whole run (autocannon's average is per whole second sample).
        okPerSecond: result['2xx'] / Math.max(result.duration, 0.001),
      })
    })
    const stopper = stopAfterSeconds ? setTimeout(() => instance.stop(), stopAfterSeconds * 1000) : undefined
    if (onTick) {
      let n = 0
      instance.on('response', () => {
        n++
        if (n % 500 === 0) onTick(n)
      })
    }
  })
}
