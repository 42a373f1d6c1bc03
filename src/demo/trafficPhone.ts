/** Alice's phone in `sealpost up --demo`: linked by her approval, rotated once, then revoked (from then on a stolen device). */
import type { Client, Conversation } from '../client/Client.js'
import { approveLinkRequest, createLinkRequest } from '../client/linkDevice.js'
import {
  connectParty,
  DEMO_KDF,
  DEMO_PASSPHRASE,
  type DemoNetwork,
  type DemoParty,
  partyParameters,
} from './parties.js'
import { pollUntil } from './waits.js'

/**
 * Parameters of {@link phoneLifecycle}.
 *
 * @example const p: PhoneLifecycleParameters = { network, phone, alice, chat, observe }
 */
export type PhoneLifecycleParameters = {
  network: DemoNetwork
  /** Alice's account with device name `phone`. */
  phone: DemoParty & { device: string }
  /** Alice's first device (it holds the account key) and her conversation with Bob. */
  alice: Client
  chat: Conversation
  /** Attaches an observer (the dashboard) to a client; returns its detach. */
  observe: (client: Client, deviceName: string) => () => void
}

const WAIT_MS = 10_000

/**
 * Links Alice's phone (its link request approved by her first device), lets it join her conversation with Bob,
 * rotates its keys once (the new device takes its place in the conversation), then revokes it; each change reaches
 * Bob's and Carol's clients as a `keyChange` alert (the dashboard's Alerts tab shows them). The phone's key file then
 * holds the revoked device, for the thief's attacks. Returns the observers' detach functions.
 *
 * @example detach.push(...(await phoneLifecycle({ network, phone, alice, chat, observe })))
 */
export async function phoneLifecycle({
  network,
  phone,
  alice,
  chat,
  observe,
}: PhoneLifecycleParameters): Promise<(() => void)[]> {
  const link = await createLinkRequest({
    home: partyParameters(network, phone).home,
    name: phone.device,
    account: alice.account,
    passphrase: DEMO_PASSPHRASE,
    deployment: network.deployment,
    kdf: { ...DEMO_KDF },
  })
  await approveLinkRequest({
    request: link.uri,
    wallet: phone.account,
    rpc: network.rpc,
    deployment: network.deployment,
  })
  const joinChat = async (label: string) => {
    const client = await connectParty(network, phone, { register: false })
    const off = observe(client, label)
    await chat.syncMembers() // the committer may already have added it on its own
    // Both Alice's view and the phone's own hold its leaf (after a rotation, its store still holds the old leaf's).
    const isMember = (c: Conversation | undefined) =>
      c?.info().members.some((m) => m.deviceId.toLowerCase() === client.deviceId.toLowerCase())
    await pollUntil(
      () => isMember(chat) && isMember(client.conversations.get(chat.id)),
      WAIT_MS,
      'the phone to join',
    ).catch(() => undefined)
    return { client, off }
  }
  const linked = await joinChat('phone (linked, rotated later)')
  await linked.client.rotateDevice({ passphrase: DEMO_PASSPHRASE })
  const rotated = await joinChat('phone (rotated, revoked later)')
  // Closed before the revocation: a live phone could see its own removal first and drop the conversation the thief
  // needs (its key file and store keep it, as a stolen phone's would).
  await rotated.client.close()
  await alice.revokeDevice(rotated.client.deviceId)
  return [linked.off, rotated.off]
}
