/** Worker: a relay node (SQLite or JetStream persistence, registry watcher) or a raw `ws` forwarder, with memory and CPU stats. */
import { writeHeapSnapshot } from 'node:v8'
import { WebSocketServer } from 'ws'
import type { Deployment } from '../../src/client/deployment.js'
import { type RelayNode, startRelayNode } from '../../src/relay/node.js'
import type { RelayLimits } from '../../src/relay/RelayServer.js'
import { workerMain } from '../lib/proc.js'

let relay: RelayNode | undefined
let raw: WebSocketServer | undefined

workerMain(async (m) => {
  switch (m.type) {
    case 'start': {
      if (m.mode === 'relay') {
        relay = await startRelayNode({
          rpc: m.rpc as string,
          deployment: m.deployment as Deployment,
          dir: m.dir as string,
          limits: m.limits as Partial<RelayLimits>,
          pollingInterval: 200,
          ids: m.ids === true,
          // The JetStream store (docs/architecture.md §5a) instead of SQLite: `nats` is the cluster's client URLs.
          ...(Array.isArray(m.nats) ? { nats: { servers: m.nats as string[] } } : {}),
        })
        process.send?.({ type: 'ready', url: relay.url })
      } else {
        // Forwards every frame to every other connection: with one sender and one receiver, a forwarder.
        const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false })
        raw = wss
        wss.on('connection', (socket) => {
          socket.on('message', (data, isBinary) => {
            for (const other of wss.clients) if (other !== socket) other.send(data, { binary: isBinary })
          })
        })
        await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
        const address = wss.address()
        const port = typeof address === 'object' && address ? address.port : 0
        process.send?.({ type: 'ready', url: `ws://127.0.0.1:${port}` })
      }
      return
    }
    case 'stats': {
      if (m.gc && typeof globalThis.gc === 'function') {
        globalThis.gc()
        await new Promise((r) => setTimeout(r, 50))
        globalThis.gc()
      }
      const mem = process.memoryUsage()
      const cpu = process.cpuUsage()
      process.send?.({
        type: 'stats',
        rss: mem.rss,
        heapUsed: mem.heapUsed,
        external: mem.external,
        arrayBuffers: mem.arrayBuffers,
        cpuUserUs: cpu.user,
        cpuSystemUs: cpu.system,
        connections: relay ? relay.server.connectionCount : (raw?.clients.size ?? 0),
      })
      return
    }
    case 'snapshot': {
      // A V8 heap snapshot of this process (for a leak hunt: open it in Chrome DevTools' Memory tab).
      const file = writeHeapSnapshot(m.path as string)
      process.send?.({ type: 'snapshot', file })
      return
    }
    case 'stop':
      await relay?.stop()
      raw?.close()
      return
  }
})
