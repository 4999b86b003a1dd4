// One-line progress display on a TTY, plain lines otherwise (CI logs).
const tty = process.stderr.isTTY

export function step(label) {
  const started = Date.now()
  let last = ''
  const render = (text) => {
    last = text
    if (tty) process.stderr.write(`\r\x1b[K${label} ${text}`)
  }
  process.stderr.write(tty ? `${label} …` : `${label} …\n`)
  return {
    update: render,
    done(summary) {
      const secs = ((Date.now() - started) / 1000).toFixed(1)
      process.stderr.write(tty ? `\r\x1b[K${label} ${summary ?? last} (${secs} s)\n` : `${label} ${summary ?? last} (${secs} s)\n`)
    },
  }
}
