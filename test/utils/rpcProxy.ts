/** Test helper: an HTTP JSON-RPC proxy in front of anvil that can simulate an outage on demand. */
import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

/**
 * A running proxy. While down, requests are answered per `mode`: `'destroy'` drops the socket (a
 * connection reset), `'503'` answers HTTP 503.
 *
 * @example
 * const proxy = await startRpcProxy(ctx.anvil.rpcUrl)
 * proxy.setDown(true)
 */
export type RpcProxy = {
  url: string
  /** Requests forwarded so far (successful or not). */
  readonly requests: number
  setDown(down: boolean, mode?: 'destroy' | '503'): void
  stop(): Promise<void>
}

/**
 * Starts the proxy on 127.0.0.1 (random port), forwarding POST bodies to `target`.
 *
 * @example
 * const proxy = await startRpcProxy(ctx.anvil.rpcUrl)
 * const client = createPublicClient({ transport: http(proxy.url, { retryCount: 0 }) })
 */
export async function startRpcProxy(target: string): Promise<RpcProxy> {
  let down = false
  let mode: 'destroy' | '503' = 'destroy'
  let requests = 0
  const sockets = new Set<Socket>()
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      requests++
      if (down) {
        if (mode === 'destroy') req.socket.destroy()
        else res.writeHead(503, { 'content-type': 'text/plain' }).end('unavailable')
        return
      }
      fetch(target, {
        method: 'POST',
        headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
        body: Buffer.concat(chunks),
      })
        .then(async (upstream) => {
          const body = Buffer.from(await upstream.arrayBuffer())
          res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(body)
        })
        .catch(() => req.socket.destroy())
    })
  })
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
  })
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return requests
    },
    setDown(value, m = 'destroy') {
      down = value
      mode = m
      // Keep-alive connections would otherwise carry on; drop them so the outage is immediate.
      if (value) for (const s of sockets) s.destroy()
    },
    stop: () =>
      new Promise<void>((ok) => {
        for (const s of sockets) s.destroy()
        server.close(() => ok())
      }),
  }
}
