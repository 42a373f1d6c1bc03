/** What the demo waits for, on the clients' events rather than fixed sleeps, each with a generous bound. */
import type { Hex } from 'viem'
import type { Client, ClientEvents, ReceivedMessage } from '../client/Client.js'
import { RelayAuthError } from '../client/relayTransport.js'
import type { Rejection } from '../client/types.js'
import type { RelayOutcome } from '../crosschain/relayer.js'
import { DemoTimeoutError } from './errors.js'

/**
 * Resolves once `condition()` holds, checking now and on every `event` of `client`; rejects with
 * `DemoTimeoutError` after `timeoutMs`.
 *
 * @example await until(bob, 'message', () => received.length >= 3, 30_000, 'Bob to catch up')
 */
export function until(
  client: Client,
  event: keyof ClientEvents,
  condition: () => boolean,
  timeoutMs: number,
  waitingFor: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!condition()) return
      cleanup()
      resolve()
    }
    const timer = setTimeout(() => {
      cleanup()
      reject(new DemoTimeoutError({ waitingFor, timeoutMs }))
    }, timeoutMs)
    const cleanup = () => {
      clearTimeout(timer)
      client.events.off(event, check)
    }
    client.events.on(event, check)
    check()
  })
}

/**
 * Whether `client` received (and stored) message `id` within `timeoutMs`.
 *
 * @example const delivered = await untilReceived(bob, sent.id, 30_000)
 */
export function untilReceived(client: Client, id: Hex, timeoutMs: number): Promise<boolean> {
  return until(client, 'message', () => client.messages.get(id) !== undefined, timeoutMs, 'the message').then(
    () => true,
    () => false,
  )
}

/**
 * Resolves once `client` has processed envelope `id` (accepted or rejected it); false after `timeoutMs`.
 *
 * @example await untilVerdict(bob, stale.id, 15_000); bob.messages.verdict(stale.id)
 */
export function untilVerdict(client: Client, id: Hex, timeoutMs: number): Promise<boolean> {
  return until(
    client,
    'rejected',
    () => client.messages.verdict(id) !== undefined,
    timeoutMs,
    'a verdict',
  ).then(
    () => true,
    () => false,
  )
}

/**
 * Resolves once `client` is a member of `conversation`.
 *
 * @example await untilJoined(phone, chat.id, 30_000)
 */
export function untilJoined(client: Client, conversation: Hex, timeoutMs: number): Promise<void> {
  return until(
    client,
    'joined',
    () => client.conversations.get(conversation) !== undefined,
    timeoutMs,
    'the device to join the conversation',
  )
}

/**
 * Resolves once the log head `head` of `client` is anchored (its log holds the `log-anchor` entry).
 *
 * @example await untilLogAnchored(alice, await alice.anchorLogHead(), 45_000)
 */
export function untilLogAnchored(client: Client, head: Hex, timeoutMs: number): Promise<void> {
  return until(
    client,
    'receipt',
    () => client.log.entries({ kind: 'log-anchor' }).some((e) => (e.data as { head: Hex }).head === head),
    timeoutMs,
    'the log head to be anchored',
  )
}

/**
 * Tries to connect until the relay refuses (it learns of a revocation from the chain); returns the wire code, or
 * undefined if it still admits the device after `timeoutMs`.
 *
 * @example const code = await untilRelayRefuses(() => authenticateParty(network, phone))
 */
export async function untilRelayRefuses(
  connect: () => Promise<{ close(): Promise<void> }>,
  timeoutMs = 30_000,
): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    try {
      const client = await connect()
      await client.close()
    } catch (err) {
      if (err instanceof RelayAuthError) return err.wireCode
      throw err
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  return undefined
}

/**
 * The next message `client` receives and verifies, or undefined after `timeoutMs`. Call it before the message
 * can arrive.
 *
 * @example const arriving = nextMessage(alice, 30_000); await chat.send('hi'); const reply = await arriving
 */
export function nextMessage(client: Client, timeoutMs: number): Promise<ReceivedMessage | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(undefined), timeoutMs)
    const done = (message: ReceivedMessage | undefined) => {
      clearTimeout(timer)
      client.events.off('message', done)
      resolve(message)
    }
    client.events.on('message', done)
  })
}

/**
 * Records every rejection `client` emits from now on; `find(id)` resolves with the one for envelope `id` (already
 * seen or still to come), or undefined after `timeoutMs`. Call `stop()` when done.
 *
 * @example const watch = watchRejections(bob); await attack(); const r = await watch.find(id, 15_000); watch.stop()
 */
export function watchRejections(client: Client): {
  find(envelopeId: Hex, timeoutMs: number): Promise<Rejection | undefined>
  stop(): void
} {
  const seen: Rejection[] = []
  const record = (r: Rejection) => seen.push(r)
  client.events.on('rejected', record)
  const match = (id: Hex) => seen.find((r) => r.envelopeId === id)
  return {
    find: (envelopeId, timeoutMs) =>
      until(client, 'rejected', () => match(envelopeId) !== undefined, timeoutMs, 'a refusal').then(
        () => match(envelopeId),
        () => undefined,
      ),
    stop: () => client.events.off('rejected', record),
  }
}

/**
 * Resolves with `probe()`'s value once it is truthy, checking now and every `intervalMs`; rejects with
 * `DemoTimeoutError` after `timeoutMs` (for states no single client event announces, such as several members
 * reaching one epoch).
 *
 * @example const group = await pollUntil(() => bob.groups.get(ops.id), 30_000, 'Bob to join ops')
 */
export async function pollUntil<T>(
  probe: () => T | undefined | null | false,
  timeoutMs: number,
  waitingFor: string,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = probe()
    if (value) return value
    if (Date.now() >= deadline) throw new DemoTimeoutError({ waitingFor, timeoutMs })
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}

/**
 * The next message `client` receives and verifies in `conversation` (a group or a direct conversation), or
 * undefined after `timeoutMs`. Call it before the message can arrive.
 *
 * @example const arriving = nextMessageIn(carol, ops.id, 30_000); await ops.send('hi'); await arriving
 */
export function nextMessageIn(
  client: Client,
  conversation: Hex,
  timeoutMs: number,
): Promise<ReceivedMessage | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(undefined), timeoutMs)
    const onMessage = (message: ReceivedMessage) => {
      if (message.conversation.toLowerCase() === conversation.toLowerCase()) done(message)
    }
    const done = (message: ReceivedMessage | undefined) => {
      clearTimeout(timer)
      client.events.off('message', onMessage)
      resolve(message)
    }
    client.events.on('message', onMessage)
  })
}

/**
 * Waits until a running Hyperlane relayer reported `messageId` delivered or refused (its outcomes are appended to
 * `relayed` as it works); rejects with `DemoTimeoutError` after `timeoutMs`.
 *
 * @example const outcome = await untilRelayed(relayed, dispatch.messageId, 60_000)
 */
export async function untilRelayed(
  relayed: readonly RelayOutcome[],
  messageId: Hex,
  timeoutMs: number,
): Promise<RelayOutcome> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const found = relayed.find((o) => o.messageId === messageId && o.status !== 'waiting')
    if (found) return found
    if (Date.now() >= deadline)
      throw new DemoTimeoutError({ waitingFor: `the relayer to deliver or refuse ${messageId}`, timeoutMs })
    await new Promise((r) => setTimeout(r, 100))
  }
}
