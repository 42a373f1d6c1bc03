/** Joining a conversation: a Welcome, one of this device's key packages, and the new group state. */
import { type CiphersuiteImpl, type ClientConfig, type ClientState, emptyPskIndex, joinGroup } from 'ts-mls'
import { type Address, bytesToHex, type Hex, isAddressEqual } from 'viem'
import type { Envelope } from '../protocol/envelope.js'
import type { StoredKeyPackage } from '../store/deviceStore.js'
import { MlsRejectedError } from './errors.js'
import { decodeMls, decodePrivateKeyPackage, membersOf } from './mls.js'
import { reasonOf } from './reasons.js'

/**
 * Inputs of {@link receiveWelcome}.
 *
 * @example const p: ReceiveWelcomeParameters = { envelope, keyPackages: store.listKeyPackages(), impl, config, account }
 */
export type ReceiveWelcomeParameters = {
  envelope: Envelope
  /** This device's unused key packages; the Welcome must be for one of them. */
  keyPackages: StoredKeyPackage[]
  impl: CiphersuiteImpl
  /** MLS config with the registry-backed authentication service (the caller syncs the registry first). */
  config: ClientConfig
  /** This device's account: the peer is the first member of another account. */
  account: Address
}

/**
 * What joining produced: the group's state, its id, the peer account, and the key package it used up.
 *
 * @example const { state, groupId, peer, keyPackageRef } = await receiveWelcome(parameters)
 */
export type ReceivedWelcome = { state: ClientState; groupId: Hex; peer: Address; keyPackageRef: string }

/**
 * Joins the group a Welcome invites to. No I/O: the caller stores the state, deletes the used key package and
 * records the verdict in one transaction. Throws `MlsRejectedError` for a Welcome that is not for this device or
 * that MLS refuses (a credential the registry does not back).
 *
 * @example const joined = await receiveWelcome({ envelope, keyPackages, impl, config, account })
 */
export async function receiveWelcome({
  envelope,
  keyPackages,
  impl,
  config,
  account,
}: ReceiveWelcomeParameters): Promise<ReceivedWelcome> {
  const message = decodeMls(envelope.payload, envelope.id)
  if (message.wireformat !== 'mls_welcome')
    throw new MlsRejectedError({ messageId: envelope.id, reason: 'not a Welcome' })
  const welcome = message.welcome
  const wanted = new Set(welcome.secrets.map((s) => bytesToHex(s.newMember).toLowerCase()))
  const mine = keyPackages.find((kp) => wanted.has(kp.ref.toLowerCase()))
  if (!mine)
    throw new MlsRejectedError({ messageId: envelope.id, reason: 'Welcome is for none of our key packages' })
  const publicMessage = decodeMls(mine.publicPackage)
  if (publicMessage.wireformat !== 'mls_key_package')
    throw new MlsRejectedError({ reason: 'stored key package is corrupt' })
  let state: ClientState
  try {
    state = await joinGroup(
      welcome,
      publicMessage.keyPackage,
      decodePrivateKeyPackage(mine.privatePackage),
      emptyPskIndex,
      impl,
      undefined,
      undefined,
      config,
    )
  } catch (cause) {
    throw new MlsRejectedError({ messageId: envelope.id, reason: reasonOf(cause), cause })
  }
  const peers = membersOf(state).filter((m) => !isAddressEqual(m.identity.account, account))
  return {
    state,
    groupId: bytesToHex(state.groupContext.groupId),
    peer: peers[0]?.identity.account ?? account,
    keyPackageRef: mine.ref,
  }
}
