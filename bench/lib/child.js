// Runs a server in a child process so the load generator and the server do
// not share one event loop (they still share the machine's two cores, which
// is the measured situation).
import { fork } from 'node:child_process'

export function startChild(modulePath, args = [], env = {}, execArgv = []) {
  return new Promise((resolve, reject) => {
    const child = fork(modulePath, args, { env: { ...process.env, ...env }, execArgv, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
    const timer = setTimeout(() => reject(new Error(`${modulePath} did not start in 60 s`)), 60_000)
    child.on('message', (m) => {
      if (m && m.ready) {
        clearTimeout(timer)
        resolve({ child, url: m.url, info: m, stop: () => stopChild(child), ask: (msg, key) => ask(child, msg, key) })
      }
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${modulePath} exited with ${code} before it was ready`))
    })
  })
}

function stopChild(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve()
    child.once('exit', () => resolve())
    child.kill('SIGTERM')
    setTimeout(() => child.kill('SIGKILL'), 5000).unref()
  })
}

/** Send an IPC message and wait for the first answer carrying `key`. */
function ask(child, msg, key) {
  return new Promise((resolve) => {
    const on = (m) => {
      if (m && key in m) {
        child.off('message', on)
        resolve(m)
      }
    }
    child.on('message', on)
    child.send(msg)
  })
}
