// Where commands write: injectable so tests can capture output.
export interface CliIo {
  out(line: string): void
  err(line: string): void
  env: Readonly<Record<string, string | undefined>>
}

export const processIo: CliIo = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
  env: process.env,
}
