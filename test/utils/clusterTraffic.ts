/** Test helper: raw relay-protocol devices for cluster tests: publish with retries, collect deliveries and receipts. */
import { randomBytes } from 'node:crypto'
import type { Hex } from 'viem'
import { createEnvelope, decodeEnvelope, encodeEnvelope } from '../../src/protocol/envelope.js'
import { decodeReceipt } from '../../src/protocol/receipt.js'
import type { RelayFrame } from '../../src/protocol/relayFrames.js'
import { type RawDevice, RawRelayClient } from '../attacks/rawRelayClient.js'
import { preimageOf } from './topics.js'

let reqIds = 1

/**
 * A device connected (raw) to one relay: what it was delivered per topic (seq, envelope id, kind) and the leaves
 * its receipts name.
 *
 * @example const bob = await rawDevice(relayB.url, device); await bob.subscribe(topic)
 */
export type RawClusterDevice = {
  client: RawRelayClient
  delivered: Map<Hex, { seq: bigint; id: Hex; kind: string }[]>
  receipts: Set<Hex>
  subscribe(topic: Hex): Promise<void>
  /** Publishes an envelope (retrying while the relay refuses it transiently); resolves with its seq. */
  publish(topic: Hex, payload?: Uint8Array): Promise<{ id: Hex; seq: bigint; leaf: Hex }>
  /** Sends one PUBLISH and returns the relay's answer (OK or ERROR) within `timeoutMs` (default 5 s), no retry. */
  publishOnce(bytes: Uint8Array, timeoutMs?: number): Promise<RelayFrame>
}

/**
 * Connects `device` to `url`, authenticates, and records every DELIVER.
 *
 * @example const alice = await rawDevice(relays[0].url, aliceDevice)
 */
export async function rawDevice(url: string, device: RawDevice): Promise<RawClusterDevice> {
  const client = await RawRelayClient.connect(url)
  const auth = await client.auth(device)
  if (auth.type !== 'auth-ok') throw new Error(`auth failed: ${JSON.stringify(auth)}`)
  const delivered = new Map<Hex, { seq: bigint; id: Hex; kind: string }[]>()
  const receipts = new Set<Hex>()
  client.ws.on('message', () => {
    for (let i = client.frames.length - 1; i >= 0; i--) {
      const f = client.frames[i]!
      if (f.type !== 'deliver') continue
      client.frames.splice(i, 1)
    }
  })
  // Deliveries are taken in arrival order from the history (the listener above only keeps the queue short).
  let seen = 0
  const drain = () => {
    for (; seen < client.history.length; seen++) {
      const f = client.history[seen]!
      if (f.type !== 'deliver') continue
      const e = decodeEnvelope(f.envelope)
      const list = delivered.get(f.topic) ?? []
      list.push({ seq: f.seq, id: e.id, kind: e.kind })
      delivered.set(f.topic, list)
      if (e.kind === 'receipt') receipts.add(decodeReceipt(e.payload).leaf)
    }
  }
  client.ws.on('message', drain)
  const publishOnce = (bytes: Uint8Array, timeoutMs = 5_000) => {
    const reqId = reqIds++
    client.send({ type: 'publish', reqId, envelope: bytes })
    return client.next((f) => (f.type === 'ok' || f.type === 'error') && f.reqId === reqId, timeoutMs)
  }
  return {
    client,
    delivered,
    receipts,
    async subscribe(topic) {
      // RELAY_UNAVAILABLE is transient (protocol): the relay's store is out of reach for a moment, e.g. while a
      // restarted NATS node rejoins. Retried for up to 30 s, as the SDK's transport does; anything else fails.
      for (let attempt = 0; ; attempt++) {
        const answer = await client.request({
          type: 'subscribe',
          reqId: reqIds++,
          topic,
          after: 0n,
          preimage: preimageOf(topic),
        })
        if (answer.type === 'ok') return
        if (answer.type !== 'error' || answer.code !== 'RELAY_UNAVAILABLE' || attempt >= 150)
          throw new Error(`subscribe refused: ${JSON.stringify(answer)}`)
        await new Promise((r) => setTimeout(r, 200))
      }
    },
    async publish(topic, payload = randomBytes(64)) {
      const envelope = createEnvelope({ kind: 'application', topic, payload })
      const bytes = encodeEnvelope(envelope)
      const leaf = `0x${randomBytes(32).toString('hex')}` as Hex
      for (let attempt = 0; ; attempt++) {
        const answer = await publishOnce(bytes).catch(() => undefined)
        if (answer?.type === 'ok') {
          for (;;) {
            const ok = await client
              .request({ type: 'leaf', reqId: reqIds++, topic, leaf })
              .catch(() => undefined)
            if (ok?.type === 'ok') break
            await new Promise((r) => setTimeout(r, 100))
          }
          return { id: envelope.id, seq: answer.value, leaf }
        }
        if (attempt > 300) throw new Error(`publish kept failing: ${JSON.stringify(answer)}`)
        await new Promise((r) => setTimeout(r, 100))
      }
    },
    publishOnce,
  }
}

/**
 * Waits until `check()` is true, polling every 50 ms; throws with `describe()` after `timeoutMs`.
 *
 * @example await until(() => bob.receipts.size === 20, 30_000, () => `${bob.receipts.size}`)
 */
export async function until(check: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out: ${describe()}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Wire codes a publisher retries (protocol: transient). */
const TRANSIENT = new Set(['RELAY_UNAVAILABLE', 'RELAY_RATE_LIMITED', 'RELAY_INTERNAL'])

/**
 * Publishes `count` envelopes on `topic` as one device that fails over, as the SDK's outbox does: up to `window`
 * publishes outstanding on the relay it is connected to (`urls[0]` first); when that connection drops, it connects
 * to the next relay that answers and sends again, byte for byte (same envelope id), every envelope it has no OK
 * for. Once all are acknowledged, it submits each envelope's leaf for anchoring, and closes its connection.
 * `onConnected` hears each relay it authenticates on.
 *
 * @example const { sent, resent } = await publishWithFailover([a.url, b.url], alice, topic, 5_000)
 */
export async function publishWithFailover(
  urls: string[],
  device: RawDevice,
  topic: Hex,
  count: number,
  { window = 16, onConnected }: { window?: number; onConnected?: (url: string) => void } = {},
): Promise<{ sent: { id: Hex; seq: bigint; leaf: Hex }[]; resent: number; failovers: number }> {
  const envelopes = Array.from({ length: count }, () => {
    const e = createEnvelope({ kind: 'application', topic, payload: randomBytes(64) })
    return {
      id: e.id,
      bytes: encodeEnvelope(e),
      leaf: `0x${randomBytes(32).toString('hex')}` as Hex,
      seq: -1n,
    }
  })
  let failovers = 0
  let resent = 0
  let finished = false
  type Link = { d: RawClusterDevice; closed: Promise<undefined> }
  const connectFrom = async (start: number): Promise<Link> => {
    for (let attempt = 0; attempt < 100; attempt++) {
      const url = urls[(start + attempt) % urls.length]!
      try {
        const d = await rawDevice(url, device)
        onConnected?.(url)
        const closed = new Promise<undefined>((r) => d.client.ws.once('close', () => r(undefined)))
        void closed.then(() => {
          if (finished) return
          failovers++
          link = connectFrom(urls.indexOf(url) + 1)
        })
        return { d, closed }
      } catch {
        await new Promise((r) => setTimeout(r, 100)) // that relay is down: the next one
      }
    }
    throw new Error('no relay answered')
  }
  let link = connectFrom(0)
  const queue = [...envelopes]
  const lane = async () => {
    for (let e = queue.shift(); e; e = queue.shift()) {
      for (let attempt = 0; e.seq < 0n; attempt++) {
        if (attempt > 600) throw new Error(`envelope ${e.id} was never acknowledged`)
        const { d, closed } = await link
        const answer = await Promise.race([d.publishOnce(e.bytes, 30_000).catch(() => undefined), closed])
        if (answer?.type === 'ok') e.seq = answer.value
        else if (answer?.type === 'error' && !TRANSIENT.has(answer.code))
          throw new Error(`publish refused: ${JSON.stringify(answer)}`)
        else {
          if (answer === undefined) resent++ // cut off with its connection: sent again on the next relay
          await new Promise((r) => setTimeout(r, 50))
        }
      }
    }
  }
  await Promise.all(Array.from({ length: window }, lane))
  for (const e of envelopes)
    for (let attempt = 0; ; attempt++) {
      const { d } = await link
      const ok = await d.client
        .request({ type: 'leaf', reqId: reqIds++, topic, leaf: e.leaf })
        .catch(() => undefined)
      if (ok?.type === 'ok') break
      if (attempt > 300) throw new Error(`leaf of ${e.id} was never accepted: ${JSON.stringify(ok)}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  finished = true
  ;(await link).d.client.close()
  return { sent: envelopes.map(({ id, seq, leaf }) => ({ id, seq, leaf })), resent, failovers }
}
