/** Scripted, continuous traffic for `sealpost up --demo`: honest parties talk, bad actors tamper, replay, steal. */
import { join } from 'node:path'
import type { Hex } from 'viem'
import { type LocalAccount, privateKeyToAccount } from 'viem/accounts'
import type { Client, Conversation } from '../client/Client.js'
import { Client as ClientClass } from '../client/Client.js'
import { connectClient } from '../client/connect.js'
import type { Deployment } from '../client/deployment.js'
import { createEnvelope, decodeEnvelope } from '../protocol/envelope.js'
import { attachClient, type Collector } from './collect.js'

/** Options of `startDemoTraffic()`. */
export type DemoTrafficOptions = {
  rpc: string
  deployment: Deployment
  relay: string
  collector: Collector
  /** Directory for the parties' homes. */
  dir: string
  /** Funded private keys for the parties (at least 6). */
  keys: readonly Hex[]
  /** Milliseconds between two honest messages. Default 1200. */
  intervalMs?: number | undefined
  /** Every how many honest messages an attack runs. Default 5. */
  attackEvery?: number | undefined
  onError?: ((err: unknown) => void) | undefined
}

/** The running demo traffic. */
export type DemoTraffic = {
  parties: Record<'alice' | 'bob' | 'carol' | 'mallory' | 'rita', Client>
  conversations: Conversation[]
  stop(): Promise<void>
}

const LINES = [
  'Status report for the audit is ready.',
  'Rotating the staging keys tonight.',
  'Can you review the relay config?',
  'Incident channel is quiet.',
  'Shipping the patch at 14:00 UTC.',
  'The anchor batch confirmed.',
  'Lunch after the standup?',
  'Please verify the transcript I sent.',
]

/**
 * Registers five parties (three honest, a tamperer and a replayer) plus a phone of Alice's that gets revoked, opens
 * their conversations, then keeps sending: honest messages between the honest parties and, in rotation, a
 * tampered envelope (Mallory), a replayed sequence number (Rita) and a message signed by the revoked phone and
 * forwarded by Mallory. Every rejection shows up in the dashboard with the step that failed.
 *
 * @example const traffic = await startDemoTraffic({ rpc, deployment, relay, collector, dir, keys })
 */
export async function startDemoTraffic(options: DemoTrafficOptions): Promise<DemoTraffic> {
  const passphrase = 'sealpost demo passphrase'
  const kdf = { N: 2 ** 14, r: 8, p: 1 }
  const accounts = options.keys.map((k) => privateKeyToAccount(k))
  const base = { rpc: options.rpc, deployment: options.deployment, passphrase, kdf, pollingInterval: 500 }
  const open = (name: string, account: LocalAccount, device = 'default') =>
    connectClient({ ...base, account, home: join(options.dir, name), relay: options.relay, device })
  const [alice, bob, carol, mallory, rita] = await Promise.all(
    (['alice', 'bob', 'carol', 'mallory', 'rita'] as const).map((name, i) =>
      open(name, accounts[i] as LocalAccount),
    ),
  )
  const parties = { alice, bob, carol, mallory, rita } as Record<
    'alice' | 'bob' | 'carol' | 'mallory' | 'rita',
    Client
  >
  const names: Record<string, string> = {
    alice: 'Alice',
    bob: 'Bob',
    carol: 'Carol',
    mallory: 'Mallory',
    rita: 'Rita',
  }
  const detach = Object.entries(parties).map(([key, client]) =>
    attachClient(options.collector, client, {
      name: names[key] as string,
      ...(key === 'mallory'
        ? { role: 'tamperer' as const }
        : key === 'rita'
          ? { role: 'replayer' as const }
          : {}),
    }),
  )

  const joinedAll = async (pairs: [Client, Client][]) => {
    const conversations: Conversation[] = []
    for (const [a, b] of pairs) {
      const joined = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 10_000)
        b.events.once('joined', () => {
          clearTimeout(timer)
          resolve()
        })
      })
      conversations.push(await a.conversations.open(b.account))
      await joined
    }
    return conversations
  }
  const [ab, bc, ca, mb, rc] = await joinedAll([
    [parties.alice, parties.bob],
    [parties.bob, parties.carol],
    [parties.carol, parties.alice],
    [parties.mallory, parties.bob],
    [parties.rita, parties.carol],
  ])
  const honest = [ab, bc, ca].filter((c): c is Conversation => c !== undefined)

  // Alice's phone joins her conversation with Bob, then she revokes it: from now on it is a stolen device.
  const phoneHome = join(options.dir, 'alice')
  const phoneLive = await open('alice', accounts[0] as LocalAccount, 'phone')
  detach.push(
    attachClient(options.collector, phoneLive, { name: 'Alice', deviceName: 'phone (revoked later)' }),
  )
  await ab?.syncMembers()
  await new Promise((r) => setTimeout(r, 1000))
  await parties.alice.revokeDevice(phoneLive.deviceId)
  await phoneLive.close()
  const phone = await ClientClass.create({
    ...base,
    account: accounts[0] as LocalAccount,
    home: phoneHome,
    device: 'phone',
  })

  let tick = 0
  let stopped = false
  const attacks = [
    // Mallory flips a ciphertext byte of her own next message and re-publishes it with a recomputed id.
    async () => {
      const sent = await mb?.send('Invoice attached, please pay today.')
      if (!sent) return
      const payload = sent.envelope.payload.slice()
      payload[payload.length - 25] = (payload[payload.length - 25] ?? 0) ^ 0x20
      await parties.mallory.transport.publish(
        createEnvelope({ kind: 'application', topic: sent.conversation, payload }),
      )
    },
    // Rita replays sequence number 1 in a fresh message.
    async () => {
      await rc?.send('Re-sending my first message.', { unsafeSeq: 1n })
    },
    // The revoked phone signs a message; Mallory forwards it into Alice and Bob's conversation.
    async () => {
      if (!ab) return
      await phone.conversations
        .get(ab.id)
        ?.send('Urgent: wire 10 ETH to 0xBAD.', { unsafeSkipRegistrationCheck: true })
        .catch(() => undefined)
      const stolen = phone.store.messagesInState(['queued'], 'out').at(-1)?.envelope
      if (stolen) await parties.mallory.transport.publish(decodeEnvelope(stolen))
    },
  ]
  const step = async () => {
    tick++
    const attackEvery = options.attackEvery ?? 5
    if (tick % attackEvery === 0) await attacks[(tick / attackEvery) % attacks.length]?.()
    else {
      const conversation = honest[tick % honest.length]
      const side = tick % 2 === 0 ? conversation?.peer : undefined
      const sender = side ? Object.values(parties).find((p) => p.account === side) : undefined
      const text = LINES[tick % LINES.length] as string
      if (conversation && sender) await sender.conversations.get(conversation.id)?.send(text)
      else await conversation?.send(text)
    }
  }
  const loop = (async () => {
    while (!stopped) {
      try {
        await step()
      } catch (err) {
        options.onError?.(err)
      }
      await new Promise((r) => setTimeout(r, options.intervalMs ?? 1200))
    }
  })()

  return {
    parties,
    conversations: [ab, bc, ca, mb, rc].filter((c): c is Conversation => c !== undefined),
    async stop() {
      stopped = true
      await loop
      for (const off of detach) off()
      await phone.close()
      for (const client of Object.values(parties)) await client.close()
    },
  }
}
