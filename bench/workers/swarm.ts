import WebSocket from 'ws'
import { RelayTransport } from '../../src/client/relayTransport.js'
import { DeviceSigningKey } from '../../src/crypto/p256.js'
import { createEnvelope } from '../../src/protocol/envelope.js'
import { type TopicPreimage, topicOf } from '../../src/protocol/topics.js'
import type { RegisteredDevice } from '../lib/chain.js'
import { workerMain } from '../lib/proc.js'
import { numberedTopic } from '../lib/topics.js'

const transports: RelayTransport[] = []
const sockets: WebSocket[] = []
/** Fan-out: arrival times (ms since the epoch, sub-millisecond) of every delivery of the shared topic, by message. */
const arrivals = new Map<string, number[]>()
const now = () => performance.timeOrigin + performance.now()
const arrived = (key: string) => {
  const list = arrivals.get(key) ?? []
  list.push(now())
  arrivals.set(key, list)
}
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
            // With `shared`, every connection follows one topic, as the devices of one group do.
            const shared = m.shared as TopicPreimage | undefined
            const { topic, preimage } = shared
              ? { topic: topicOf(shared), preimage: shared }
              : numberedTopic(n)
            t.subscribe({
              topics: [topic],
              preimage: () => preimage,
              onDelivery: (d) => {
                if (d.live) arrived(d.envelope.id)
              },
            })
            await t.pull({ topic, after: 0n, preimage: () => preimage })
            transports.push(t)
          } else {
            const s = new WebSocket(url, { perMessageDeflate: false })
            await new Promise<void>((resolve, reject) => {
              s.once('open', () => resolve())
              s.once('error', reject)
            })
            s.on('message', (data: Buffer) => arrived(data.subarray(0, 8).toString('hex')))
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
  } else if (m.type === 'publish') {
    // One message to the shared topic from this worker's first connection; its key is how receivers file it.
    const payload = new Uint8Array(m.bytes as number)
    crypto.getRandomValues(payload.subarray(0, 8))
    const sentAt = now()
    if (m.mode === 'relay') {
      const envelope = createEnvelope({
        kind: 'application',
        topic: topicOf(m.shared as TopicPreimage),
        payload,
      })
      await transports[0]!.publish(envelope)
      process.send?.({ type: 'published', key: envelope.id, sentAt })
    } else {
      sockets[0]!.send(payload)
      process.send?.({ type: 'published', key: Buffer.from(payload.subarray(0, 8)).toString('hex'), sentAt })
    }
  } else if (m.type === 'count') {
    process.send?.({ type: 'count', count: transports.length + sockets.length })
  } else if (m.type === 'arrivals') {
    const list = arrivals.get(m.key as string) ?? []
    process.send?.({ type: 'arrivals', count: list.length, last: list.length > 0 ? Math.max(...list) : 0 })
  } else if (m.type === 'stop') {
    await Promise.all(transports.map((t) => t.close()))
    for (const s of sockets) s.terminate()
  }
})
