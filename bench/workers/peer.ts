/** Worker: the sending or the receiving side of the relay benchmark, over the relay protocol, raw `ws` or bare JetStream. */
import { randomBytes } from 'node:crypto'
import { type JetStreamClient, jetstream } from '@nats-io/jetstream'
import { type NatsConnection, connect as natsConnect } from '@nats-io/transport-node'
import type { Hex } from 'viem'
import WebSocket from 'ws'
import { RelayTransport } from '../../src/client/relayTransport.js'
import { DeviceSigningKey } from '../../src/crypto/p256.js'
import { createEnvelope, ENVELOPE_HEADER_BYTES } from '../../src/protocol/envelope.js'
import { type TopicPreimage, topicOf } from '../../src/protocol/topics.js'
import type { RegisteredDevice } from '../lib/chain.js'
import { now, workerMain } from '../lib/proc.js'

const PAYLOAD_BYTES = 1024
const filler = new Uint8Array(randomBytes(PAYLOAD_BYTES))
let counter = 0

/** A 1 KiB payload stamped with the send time (float64) and a counter. */
function payload(): Uint8Array {
  const p = filler.slice()
  const view = new DataView(p.buffer)
  view.setFloat64(0, now())
  view.setUint32(8, counter++)
  return p
}
const stampOf = (bytes: Uint8Array) =>
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getFloat64(0)

let transport: RelayTransport | undefined
let socket: WebSocket | undefined
let topic: Hex = '0x'
let preimage: TopicPreimage | undefined
let mode: 'relay' | 'raw' | 'jetstream' = 'relay'
// Bare JetStream (`mode: 'jetstream'`): `url` is the servers joined by commas, `stream` holds `subject`.
let nats: NatsConnection | undefined
let js: JetStreamClient | undefined
let subject = ''
let stopConsumer: (() => Promise<void>) | undefined
// Receiver state for the current phase.
let expected = 0
let latencies: number[] = []
let firstAt = 0
let lastAt = 0

function onMessage(stamp: number, cursor?: bigint): void {
  const t = now()
  if (latencies.length === 0) firstAt = t
  lastAt = t
  latencies.push(t - stamp)
  if (cursor !== undefined && (latencies.length % 512 === 0 || latencies.length === expected))
    void transport?.ack({ topic, cursor })
  if (latencies.length === expected)
    process.send?.({ type: 'done', received: latencies.length, firstAt, lastAt, latencies })
}

async function connect(url: string, device: RegisteredDevice | undefined): Promise<void> {
  if (mode === 'relay') {
    const key = DeviceSigningKey.fromPkcs8(Uint8Array.from(Buffer.from(device!.pkcs8.slice(2), 'hex')))
    transport = await RelayTransport.connect({
      url,
      account: device!.account,
      deviceId: device!.deviceId,
      sign: (msg) => key.sign(msg),
      expect: device!.expect,
    })
  } else if (mode === 'jetstream') {
    nats = await natsConnect({ servers: url.split(',') })
    js = jetstream(nats)
  } else {
    socket = new WebSocket(url, { perMessageDeflate: false })
    await new Promise<void>((resolve, reject) => {
      socket!.once('open', () => resolve())
      socket!.once('error', reject)
    })
  }
}

/** Sends `count` messages, as fast as the transport takes them (`rate` 0) or paced at `rate` per second. */
async function send(count: number, rate: number): Promise<{ startAt: number; endAt: number }> {
  const startAt = now()
  const pending: Promise<unknown>[] = []
  let sent = 0
  let inflight = 0
  let wake: (() => void) | undefined
  const one = async () => {
    if (mode === 'relay') {
      inflight++
      const p = transport!
        .publish(createEnvelope({ kind: 'application', topic, payload: payload() }))
        .finally(() => {
          inflight--
          wake?.()
        })
      pending.push(p)
    } else if (mode === 'jetstream') {
      // The same bytes as an encoded envelope, published and acked by the stream's R3 leader.
      const frame = new Uint8Array(ENVELOPE_HEADER_BYTES + PAYLOAD_BYTES)
      frame.set(payload(), ENVELOPE_HEADER_BYTES)
      inflight++
      const p = js!.publish(subject, frame).finally(() => {
        inflight--
        wake?.()
      })
      pending.push(p)
    } else {
      // The same size as an encoded envelope (72-byte header + 1 KiB), stamped where the payload would start.
      const frame = new Uint8Array(ENVELOPE_HEADER_BYTES + PAYLOAD_BYTES)
      frame.set(payload(), ENVELOPE_HEADER_BYTES)
      socket!.send(frame, { binary: true })
    }
    sent++
  }
  const pause = () => new Promise<void>((resolve) => setImmediate(resolve))
  while (sent < count) {
    if (rate > 0) {
      const due = Math.min(count, Math.floor((rate * (now() - startAt)) / 1000) + 1)
      while (sent < due) await one()
      await new Promise((r) => setTimeout(r, 1))
      continue
    }
    if (mode !== 'raw') {
      while (sent < count && inflight < 2048) await one()
      if (inflight >= 2048) await new Promise<void>((resolve) => (wake = resolve))
      wake = undefined
    } else {
      while (sent < count && socket!.bufferedAmount < 4 * 1024 * 1024) await one()
      await pause()
    }
  }
  await Promise.all(pending)
  return { startAt, endAt: now() }
}

async function disconnect(): Promise<void> {
  await transport?.close()
  socket?.close()
  await stopConsumer?.()
  await nats?.close()
  transport = undefined
  socket = undefined
  stopConsumer = undefined
  nats = undefined
  js = undefined
}

workerMain(async (m) => {
  switch (m.type) {
    case 'start': {
      await disconnect() // a worker may start again, e.g. on another relay or topic
      mode = m.mode as 'relay' | 'raw' | 'jetstream'
      subject = (m.subject as string | undefined) ?? ''
      preimage = m.preimage as TopicPreimage
      if (preimage) topic = topicOf(preimage)
      await connect(m.url as string, m.device as RegisteredDevice | undefined)
      if (m.role === 'recv') {
        if (transport) {
          transport.subscribe({
            topics: [topic],
            preimage: () => preimage!,
            onDelivery: (d) => onMessage(stampOf(d.envelope.payload), d.cursor),
          })
          await transport.pull({ topic, after: 0n, preimage: () => preimage! })
        } else if (js) {
          // An ordered consumer (ephemeral, flow-controlled), what a relay's cluster follower uses too.
          const consumer = await js.consumers.get(m.stream as string, { filter_subjects: subject })
          const messages = await consumer.consume({ max_messages: 1024 })
          const loop = (async () => {
            for await (const msg of messages) onMessage(stampOf(msg.data.subarray(ENVELOPE_HEADER_BYTES)))
          })()
          stopConsumer = async () => {
            await messages.close()
            await loop
          }
        } else {
          socket!.on('message', (data: Buffer) =>
            onMessage(stampOf(new Uint8Array(data).subarray(ENVELOPE_HEADER_BYTES))),
          )
        }
      }
      process.send?.({ type: 'ready' })
      return
    }
    case 'expect':
      expected = m.count as number
      latencies = []
      process.send?.({ type: 'expecting' })
      return
    case 'go': {
      const result = await send(m.count as number, m.rate as number)
      process.send?.({ type: 'sent', ...result })
      return
    }
    case 'stop':
      await disconnect()
      return
  }
})
