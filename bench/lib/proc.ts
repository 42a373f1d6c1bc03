/** Child processes for benchmarks: TypeScript workers forked with tsx, spoken to over IPC. */
import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** A forked worker with request/response over IPC. */
export type Worker = {
  child: ChildProcess
  /** Waits for the next message of `type`. */
  next<T = Record<string, unknown>>(type: string, timeoutMs?: number): Promise<T>
  send(message: Record<string, unknown>): void
  /** Asks the worker to stop, then kills it if it lingers. */
  stop(): Promise<void>
}

/** Forks `bench/workers/<name>.ts` under tsx. */
export function startWorker(name: string, execArgv: string[] = []): Worker {
  const file = fileURLToPath(new URL(`../workers/${name}.ts`, import.meta.url))
  const child = fork(file, [], {
    execArgv: [
      '--import',
      'tsx',
      ...execArgv,
      ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  })
  const inbox: Record<string, unknown>[] = []
  const waiters: {
    type: string
    resolve: (m: Record<string, unknown>) => void
    reject: (e: Error) => void
  }[] = []
  let exited: Error | undefined
  child.on('message', (m: Record<string, unknown>) => {
    const i = waiters.findIndex((w) => w.type === m.type)
    if (m.type === 'error') {
      const err = new Error(`worker ${name}: ${String(m.message)}`)
      for (const w of waiters.splice(0)) w.reject(err)
      return
    }
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve(m)
    else inbox.push(m)
  })
  child.on('exit', (code) => {
    exited = new Error(`worker ${name} exited with code ${code}`)
    for (const w of waiters.splice(0)) w.reject(exited)
  })
  return {
    child,
    next<T>(type: string, timeoutMs = 120_000): Promise<T> {
      const i = inbox.findIndex((m) => m.type === type)
      if (i >= 0) return Promise.resolve(inbox.splice(i, 1)[0] as T)
      if (exited) return Promise.reject(exited)
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`worker ${name}: no "${type}" within ${timeoutMs} ms`)),
          timeoutMs,
        )
        waiters.push({
          type,
          resolve: (m) => {
            clearTimeout(timer)
            resolve(m as T)
          },
          reject: (e) => {
            clearTimeout(timer)
            reject(e)
          },
        })
      })
    },
    send(message) {
      if (child.connected) child.send(message)
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      this.send({ type: 'stop' })
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await gone
      clearTimeout(timer)
    },
  }
}

/** In a worker: reports failures to the parent instead of dying silently. */
export function workerMain(handler: (message: Record<string, unknown>) => Promise<void> | void): void {
  const fail = (err: unknown) => {
    process.send?.({
      type: 'error',
      message: err instanceof Error ? (err.stack ?? err.message) : String(err),
    })
    setTimeout(() => process.exit(1), 100)
  }
  process.on('uncaughtException', fail)
  process.on('unhandledRejection', fail)
  process.on('disconnect', () => process.exit(0))
  process.on('message', (m: Record<string, unknown>) => {
    if (m.type === 'stop') {
      Promise.resolve(handler(m)).finally(() => process.exit(0))
      return
    }
    Promise.resolve(handler(m)).catch(fail)
  })
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes on one machine. */
export const now = (): number => performance.timeOrigin + performance.now()
