/** Worker: many idle connections, authenticated to the relay (or plain `ws` for the baseline), for the scale benchmark. */
import type { Hex } from 'viem'
import WebSocket from 'ws'
import { RelayTransport } from '../../src/client/relayTransport.js'
import { DeviceSigningKey } from '../../src/crypto/p256.js'
import type { RegisteredDevice } from '../lib/chain.js'
import { workerMain } from '../lib/proc.js'

const transports: RelayTransport[] = []
const sockets: WebSocket[] = []
process.send?.({ type: 'up' })

workerMain(async (m) => {
  if (m.type === 'connect') {
    const url = m.url as string
    const count = m.count as number
    const devices = (m.devices as RegisteredDevice[]) ?? []
    const keys = devices.map((d) =>
      DeviceSigningKey.fromPkcs8(Uint8Array.from(Buffer.from(d.pkcs8.slice(2), 'hex'))),
    )
    const start = performance.now()
    const batch = 100
    for (let i = 0; i < count; i += batch) {
      await Promise.all(
        Array.from({ length: Math.min(batch, count - i) }, async (_, j) => {
          const n = i + j
          if (m.mode === 'relay') {
            const d = devices[n % devices.length]!
            const key = keys[n % devices.length]!
            const t = await RelayTransport.connect({
              url,
              account: d.account,
              deviceId: d.deviceId,
              sign: (msg) => key.sign(msg),
              expect: d.expect,
              connectTimeoutMs: 60_000,
            })
            const topic = `0x${n.toString(16).padStart(64, '0')}` as Hex
            t.subscribe({ topics: [topic], onDelivery: () => undefined })
            await t.pull({ topic, after: 0n })
            transports.push(t)
          } else {
            const s = new WebSocket(url, { perMessageDeflate: false })
            await new Promise<void>((resolve, reject) => {
              s.once('open', () => resolve())
              s.once('error', reject)
            })
            sockets.push(s)
          }
        }),
      )
    }
    process.send?.({
      type: 'connected',
      count: transports.length + sockets.length,
      ms: performance.now() - start,
    })
  } else if (m.type === 'stop') {
    await Promise.all(transports.map((t) => t.close()))
    for (const s of sockets) s.terminate()
  }
})
