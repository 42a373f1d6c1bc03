/** Relay store on JetStream: follows the envelope stream live (an ordered consumer), resuming after its last stream seq. */
import type { JsMsg } from '@nats-io/jetstream'
import type { Hex } from 'viem'
import { HEADER, type JetStreamParts } from './jetStreamLayout.js'

/**
 * One envelope as the stream carries it: its topic, topic seq, bytes, and the id of the store instance (relay)
 * that appended it.
 *
 * @example follower((e) => e.origin === store.instanceId ? own(e) : remote(e))
 */
export type FollowedEnvelope = { topic: Hex; seq: bigint; bytes: Uint8Array; origin: string }

/**
 * A running follower: `stop()` ends it; `lastStreamSeq` is the stream seq of the last envelope handed over.
 *
 * @example const follower = followStream(parts, handle); await follower.stop()
 */
export type StreamFollower = { readonly lastStreamSeq: number; stop(): Promise<void> }

/**
 * Hands every envelope appended to the stream after now to `onEnvelope`, in stream order (which is each topic's seq
 * order: an append expects the stream's last sequence), one at a time (the next waits for the promise of the one
 * before). An ordered consumer (ephemeral, server-side flow control, heartbeats) does the work; when it ends (its
 * node died, the connection was lost) a new one starts right after the last stream seq handed over, so nothing is
 * skipped or handed twice.
 *
 * @example const follower = followStream(parts, async (e) => deliver(e))
 */
export async function followStream(
  p: JetStreamParts,
  onEnvelope: (e: FollowedEnvelope) => void | Promise<void>,
  { onError }: { onError?: ((err: unknown) => void) | undefined } = {},
): Promise<StreamFollower> {
  const prefix = p.subject(`0x${'00'.repeat(32)}`).slice(0, -64)
  const after = (await p.jsm.streams.info(p.stream)).state.last_seq
  return followOrdered(p, {
    stream: p.stream,
    subject: `${prefix}*`,
    after,
    onMessage: (m) => onEnvelope(envelopeOf(m, prefix)),
    onError,
  })
}

/**
 * Hands every message of `stream` on `subject` with a stream seq above `after` to `onMessage`, in order, one at a
 * time, through an ordered consumer that is started again right after the last message handed over whenever it
 * ends (node lost, connection dropped; `onError` hears why) or stalls: every `stallMs` without a message, the
 * stream's last sequence is read, and when it is past the last message handed over (and was not the last time the
 * consumer was restarted), the consumer is closed and started again after that message. (An ordered consumer whose
 * node was SIGKILLed was seen to stay silent on nats-server 2.9 without the client noticing.)
 *
 * @example const follower = followOrdered(parts, { stream: leavesStream, subject: 'sealpost.leaf', after: 0, onMessage })
 */
export function followOrdered(
  { js, jsm }: Pick<JetStreamParts, 'js' | 'jsm'>,
  {
    stream,
    subject,
    after,
    onMessage,
    onError = () => {},
    stallMs = 3_000,
  }: {
    stream: string
    subject: string
    after: number
    onMessage: (m: JsMsg) => void | Promise<void>
    onError?: ((err: unknown) => void) | undefined
    stallMs?: number | undefined
  },
): StreamFollower {
  let stopped = false
  let last = after
  let current: { close(): Promise<unknown> } | undefined
  let progressAt = Date.now()
  let restartedFor = -1
  const watchdog = setInterval(() => {
    if (stopped || !current || Date.now() - progressAt < stallMs) return
    const stalled = current
    void jsm.streams.info(stream).then(
      ({ state }) => {
        if (state.last_seq <= last || state.last_seq === restartedFor || stalled !== current) return
        restartedFor = state.last_seq
        progressAt = Date.now()
        void stalled.close().catch(() => undefined)
      },
      () => undefined,
    )
  }, stallMs)
  watchdog.unref()
  const run = async () => {
    while (!stopped) {
      try {
        const consumer = await js.consumers.get(stream, {
          filter_subjects: subject,
          deliver_policy: 'by_start_sequence' as never,
          opt_start_seq: last + 1,
        })
        const messages = await consumer.consume({ max_messages: 1024, expires: 5_000, idle_heartbeat: 1_000 })
        current = messages
        if (stopped) await messages.close()
        for await (const m of messages) {
          if (m.seq <= last) continue
          await onMessage(m)
          last = m.seq
          progressAt = Date.now()
        }
      } catch (err) {
        if (!stopped) onError(err)
      }
      if (!stopped) await new Promise((r) => setTimeout(r, 250))
    }
  }
  const done = run()
  return {
    get lastStreamSeq() {
      return last
    },
    async stop() {
      stopped = true
      clearInterval(watchdog)
      await current?.close().catch(() => undefined)
      await done
    },
  }
}

function envelopeOf(m: JsMsg, prefix: string): FollowedEnvelope {
  return {
    topic: `0x${m.subject.slice(prefix.length)}`,
    seq: BigInt(m.headers?.get(HEADER.seq) ?? '0'),
    bytes: m.data,
    origin: m.headers?.get(HEADER.relay) ?? '',
  }
}
