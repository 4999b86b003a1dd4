// PGlite is an in-process database: two processes opening one data directory
// would corrupt it. A pid file guards it, so `timbre senders add` refuses to
// run beside a started node (use the admin API then) instead of corrupting it.
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs'

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Take the lock or throw; returns the release function. */
export function lockDataDir(lockPath: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lockPath, `${process.pid}\n`, { flag: 'wx' })
      let released = false
      return () => {
        if (released) return
        released = true
        try { unlinkSync(lockPath) } catch { /* already gone */ }
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const pid = Number.parseInt(readFileSync(lockPath, 'utf8'), 10)
    if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
      const who = pid === process.pid ? 'this process' : `process ${pid}`
      throw new Error(`the embedded database is in use by ${who} (${lockPath}); stop that node, or use the admin API of the running node`)
    }
    // Stale lock from a killed process: remove it and try once more.
    try { unlinkSync(lockPath) } catch { /* raced with another remover */ }
  }
  throw new Error(`could not lock ${lockPath}`)
}
