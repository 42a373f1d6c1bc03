/** Scripted, continuous traffic for `sealpost up --demo`: honest parties talk, bad actors tamper, replay, steal, forge. */
import { join } from 'node:path'
import { createPublicClient, type Hex, http, type PublicClient, toHex } from 'viem'
import type { LocalAccount } from 'viem/accounts'
import type { Client, Conversation, Group } from '../client/Client.js'
import { loadDevice } from '../client/identity.js'
import { replaySequence, sealWithRevokedDevice, tamperCiphertext } from './attacks.js'
import { forgeSelfPromotion } from './forgeGroupCommit.js'
import { connectParty, DEMO_PASSPHRASE, type DemoNetwork, fundedAccount, openOffline } from './parties.js'
import { plantDirectGroup } from './plantGroup.js'
import { readSavedGroupState } from './savedGroupState.js'
import { phoneLifecycle } from './trafficPhone.js'
import { pollUntil } from './waits.js'

/**
 * The parties of the running traffic.
 *
 * @example traffic.parties['mallory' satisfies DemoPartyName]
 */
export type DemoPartyName = 'alice' | 'bob' | 'carol' | 'mallory' | 'rita' | 'dave'

/**
 * How an observer (the dashboard) labels a party's device.
 *
 * @example observe: (client, label: PartyLabel) => attachClient(collector, client, label)
 */
export type PartyLabel = {
  name: string
  role?: 'tamperer' | 'replayer' | undefined
  deviceName?: string | undefined
}

/**
 * Options of `startDemoTraffic()`.
 *
 * @example await startDemoTraffic({ network, keys, intervalMs: 250, attackEvery: 3 })
 */
export type DemoTrafficOptions = {
  /** The chain, contracts and relay, and the directory for the parties' homes. Default polling 500 ms. */
  network: Omit<DemoNetwork, 'pollingInterval'> & { pollingInterval?: number | undefined }
  /**
   * Funded private keys for the parties, in order Alice, Bob, Carol, Mallory, Rita, Dave; a missing one is a fresh
   * account funded with `anvil_setBalance`.
   */
  keys: readonly Hex[]
  /** Milliseconds between two honest messages. Default 1200. */
  intervalMs?: number | undefined
  /** Every how many honest messages an attack runs. Default 5. */
  attackEvery?: number | undefined
  /** Called with each party's client as it comes up (the dashboard attaches its collector); returns a detach. */
  observe?: ((client: Client, label: PartyLabel) => () => void) | undefined
  onError?: ((err: unknown) => void) | undefined
}

/**
 * The running demo traffic.
 *
 * @example const traffic = await startDemoTraffic(options); await traffic.stop()
 */
export type DemoTraffic = {
  parties: Record<DemoPartyName, Client>
  conversations: Conversation[]
  /** The team group "ops" (Alice, admin; Bob, Carol, Dave until Alice removes him), as Alice holds it. */
  group: Group
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

const LABELS: Record<DemoPartyName, PartyLabel> = {
  alice: { name: 'Alice' },
  bob: { name: 'Bob' },
  carol: { name: 'Carol' },
  mallory: { name: 'Mallory', role: 'tamperer' },
  rita: { name: 'Rita', role: 'replayer' },
  dave: { name: 'Dave' },
}

/** After how many of the team group's messages Alice removes Dave from it. */
const REMOVE_DAVE_AFTER = 3

/**
 * Registers six parties (four honest, a tamperer and a replayer), opens their conversations, links a phone of
 * Alice's by her approval, rotates it once and revokes it (issue 12: Bob and Carol get a key-change alert for each),
 * then opens the team group "ops" (Alice, its admin, with Bob, Carol and Dave), then keeps sending:
 * honest messages between the honest parties and to the group (after its third, Alice removes Dave, who receives
 * nothing more) and, in rotation, a tampered envelope (Mallory), a replayed sequence number (Rita), a message sealed
 * by the revoked phone in the epoch before its removal and published by Mallory (issue 9, attack 2), a "1:1" group
 * for Alice and Bob planted by Mallory (issue 9, attack 1) and a commit Carol, not an admin, forges from her saved
 * state to make herself admin (issue 11; every other member refuses it, rule `not-admin`). Every rejection shows up
 * with the step or rule that refused it.
 *
 * @example const traffic = await startDemoTraffic({ network: { rpc, deployment, relay, dir }, keys, observe })
 */
export async function startDemoTraffic(options: DemoTrafficOptions): Promise<DemoTraffic> {
  const network: DemoNetwork = { ...options.network, pollingInterval: options.network.pollingInterval ?? 500 }
  const names = Object.keys(LABELS) as DemoPartyName[]
  const publicClient = createPublicClient({ transport: http(network.rpc) }) as PublicClient
  const accounts = await Promise.all(names.map((_, i) => fundedAccount(publicClient, options.keys[i])))
  const clients = await Promise.all(
    names.map((name, i) => connectParty(network, { name, account: accounts[i] as LocalAccount })),
  )
  const parties = Object.fromEntries(names.map((name, i) => [name, clients[i]])) as Record<
    DemoPartyName,
    Client
  >
  const observe = options.observe ?? (() => () => undefined)
  const detach = names.map((name) => observe(parties[name], LABELS[name]))

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

  // Alice's phone, linked by her approval, joins her conversation with Bob, rotates once, then she revokes it: from
  // now on it is a stolen device. Bob and Carol are alerted of each change.
  const phone = { name: 'alice', account: accounts[0] as LocalAccount, device: 'phone' }
  if (ab)
    detach.push(
      ...(await phoneLifecycle({
        network,
        phone,
        alice: parties.alice,
        chat: ab,
        observe: (client, deviceName) => observe(client, { name: 'Alice', deviceName }),
      })),
    )
  const stolenPhone = await openOffline(network, phone)
  const malloryKeys = await loadDevice({ home: join(network.dir, 'mallory'), passphrase: DEMO_PASSPHRASE })

  // The team group: Alice (its admin) creates it with Bob, Carol and Dave; each joins from its inbox. After the
  // phone's revocation, so the group never holds it (members whose registry view lags refuse a removal of a device
  // they still see as active).
  const team = [parties.alice, parties.bob, parties.carol, parties.dave]
  const group = await parties.alice.groups.create({
    name: 'ops',
    members: team.slice(1).map((c) => c.account),
  })
  await Promise.all(
    team.map((c) =>
      pollUntil(() => c.groups.get(group.id), 10_000, 'the team to join').catch(() => undefined),
    ),
  )
  let groupMessages = 0

  let tick = 0
  let stopped = false
  const attacks = [
    // Mallory flips a ciphertext bit of her own next message and re-publishes it with a recomputed id.
    async () => {
      const sent = await mb?.send('Invoice attached, please pay today.')
      if (sent) await parties.mallory.transport.publish(tamperCiphertext(sent.envelope))
    },
    // Rita replays sequence number 1 in a fresh message.
    async () => {
      if (rc) await replaySequence(rc, 'Re-sending my first message.')
    },
    // The revoked phone, removed from the group but never told, seals in its old epoch; Mallory publishes it
    // into Alice and Bob's conversation (SenderRemovedError).
    async () => {
      if (!ab) return
      const forwarded = await sealWithRevokedDevice(stolenPhone, ab.id, 'Urgent: wire 10 ETH to 0xBAD.')
      if (forwarded) await parties.mallory.transport.publish(forwarded)
    },
    // Mallory plants a "1:1" group for Alice and Bob that keeps her own leaf (ConversationPolicyError).
    async () => {
      await plantDirectGroup({
        builder: parties.mallory,
        keys: malloryKeys,
        victims: [parties.alice, parties.bob],
        nonce: toHex(crypto.getRandomValues(new Uint8Array(32))),
      })
    },
    // Carol, not an admin, forges a commit making herself admin (ConversationPolicyError, rule not-admin).
    async () => {
      const carol = { name: 'carol', account: accounts[2] as LocalAccount }
      const saved = await readSavedGroupState(network, carol, group.id)
      await forgeSelfPromotion({ forger: parties.carol, saved, groupId: group.id })
    },
  ]
  // The team talks, a different member each time; after a few messages Alice removes Dave.
  const teamStep = async () => {
    groupMessages++
    if (groupMessages === REMOVE_DAVE_AFTER + 1) {
      await group.remove([parties.dave.account])
      return
    }
    const members = group.info().members
    const speakers = team.filter((c) => members.includes(c.account))
    const speaker = speakers[groupMessages % speakers.length] ?? parties.alice
    await speaker.groups.get(group.id)?.send(LINES[groupMessages % LINES.length] as string)
  }
  const step = async () => {
    tick++
    const attackEvery = options.attackEvery ?? 5
    if (tick % attackEvery === 0) await attacks[(tick / attackEvery) % attacks.length]?.()
    else if (tick % 4 === 3) await teamStep()
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
    group,
    async stop() {
      stopped = true
      await loop
      for (const off of detach) off()
      await stolenPhone.close()
      for (const client of Object.values(parties)) await client.close()
    },
  }
}
