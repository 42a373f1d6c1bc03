/** Joining a conversation: a Welcome, one of this device's key packages, and the new group state. */
import {
  type CiphersuiteImpl,
  type ClientConfig,
  type ClientState,
  emptyPskIndex,
  joinGroup,
  type RatchetTree,
  type Welcome,
} from 'ts-mls'
import { type Address, bytesToHex, type Hex } from 'viem'
import { decodeReference, type Reference } from '../protocol/byReference.js'
import type { ConversationContext } from '../protocol/conversationContext.js'
import type { Envelope } from '../protocol/envelope.js'
import type { StoredKeyPackage } from '../store/deviceStore.js'
import { checkWelcome, type PolicyInput, peerOf } from './conversationPolicy.js'
import { decodeMls, decodePrivateKeyPackage } from './mls.js'
import { reasonOf } from './reasons.js'
import { MlsRejectedError } from './verificationErrors.js'
import { welcomeSigner } from './welcomeSigner.js'

/**
 * Inputs of {@link receiveWelcome}.
 *
 * @example const p: ReceiveWelcomeParameters = { envelope, keyPackages: store.listKeyPackages(), impl, config, policy }
 */
export type ReceiveWelcomeParameters = {
  envelope: Envelope
  /** This device's key packages (unused one-time ones, and last-resort ones, which serve any number of Welcomes);
   * the Welcome must be for one of them. */
  keyPackages: StoredKeyPackage[]
  impl: CiphersuiteImpl
  /** MLS config with the registry-backed authentication service (the caller syncs the registry first). */
  config: ClientConfig
  /** The conversation policy's inputs (this device's account, deployment and registry view): the joined group
   * must pass `checkWelcome`. */
  policy: PolicyInput
  /**
   * Fetches the ratchet tree sent by reference with this Welcome (protocol §3.7), from its `encrypted_group_info`;
   * called only when the Welcome does not carry the tree itself.
   */
  fetchTree?: ((encryptedGroupInfo: Uint8Array) => Promise<RatchetTree | undefined>) | undefined
  /** Fetches the bytes a reference names (protocol §3.9): the `encrypted_group_info` of a welcome reference. */
  fetchBlob?:
    | ((reference: Pick<Reference, 'digest' | 'total'>) => Promise<Uint8Array | undefined>)
    | undefined
}

/**
 * What joining produced: the group's state, its id, its conversation context, the peer account (the context's other
 * member), and the key package it used (`DeviceStore.deleteKeyPackage` deletes a one-time one and keeps a
 * last-resort one).
 *
 * @example const { state, groupId, peer, keyPackageRef } = await receiveWelcome(parameters)
 */
export type ReceivedWelcome = {
  state: ClientState
  groupId: Hex
  context: ConversationContext
  peer: Address
  keyPackageRef: string
  /** The account of the member that signed the Welcome's GroupInfo (who invited this device), found on demand. */
  inviter: () => Promise<Address | undefined>
}

/**
 * Joins the group a Welcome invites to. No I/O: the caller stores the state, deletes the used key package (kept if
 * it is the last-resort one) and records the verdict in one transaction. Throws `MlsRejectedError` for a Welcome that is not for this device or
 * that MLS refuses (a credential the registry does not back), and `ConversationPolicyError` for a group that is not
 * a direct conversation of this device's account with only registered devices of its two accounts.
 *
 * @example const joined = await receiveWelcome({ envelope, keyPackages, impl, config, policy })
 */
export async function receiveWelcome({
  envelope,
  keyPackages,
  impl,
  config,
  policy,
  fetchTree,
  fetchBlob,
}: ReceiveWelcomeParameters): Promise<ReceivedWelcome> {
  const welcome = await welcomeOfEnvelope(envelope, fetchBlob)
  const wanted = new Set(welcome.secrets.map((s) => bytesToHex(s.newMember).toLowerCase()))
  const mine = keyPackages.find((kp) => wanted.has(kp.ref.toLowerCase()))
  if (!mine)
    throw new MlsRejectedError({ messageId: envelope.id, reason: 'Welcome is for none of our key packages' })
  const publicMessage = decodeMls(mine.publicPackage)
  if (publicMessage.wireformat !== 'mls_key_package')
    throw new MlsRejectedError({ reason: 'stored key package is corrupt' })
  const privatePackage = decodePrivateKeyPackage(mine.privatePackage)
  const join = (ratchetTree?: RatchetTree) =>
    joinGroup(
      welcome,
      publicMessage.keyPackage,
      privatePackage,
      emptyPskIndex,
      impl,
      ratchetTree,
      undefined,
      config,
    )
  const refused = (cause: unknown) =>
    new MlsRejectedError({ messageId: envelope.id, reason: reasonOf(cause), cause })
  let state: ClientState
  try {
    state = await join()
  } catch (cause) {
    if (!treeMissing(cause) || !fetchTree) throw refused(cause)
    const ratchetTree = await fetchTree(welcome.encryptedGroupInfo)
    if (!ratchetTree)
      throw new MlsRejectedError({
        messageId: envelope.id,
        reason: 'the Welcome carries no ratchet tree and none was found on its tree topic',
      })
    state = await join(ratchetTree).catch((again: unknown) => {
      throw refused(again)
    })
  }
  const context = checkWelcome({ ...policy, state })
  return {
    state,
    groupId: bytesToHex(state.groupContext.groupId),
    context,
    peer: peerOf(context, policy.self),
    keyPackageRef: mine.ref,
    inviter: async () => {
      const keyPackage = publicMessage.keyPackage
      const tree = state.ratchetTree
      return (await welcomeSigner({ welcome, keyPackage, privatePackage, impl, tree }))?.account
    },
  }
}

/**
 * The Welcome an envelope carries: an `MLSMessage`, or a welcome reference (protocol §3.9) whose Welcome gets the
 * `encrypted_group_info` fetched by its digest. Throws `MlsRejectedError` for anything else, or when the referenced
 * bytes are not found.
 *
 * @example const welcome = await welcomeOfEnvelope(envelope, (r) => fetchBlob(transport, r))
 */
export async function welcomeOfEnvelope(
  envelope: Envelope,
  fetchBlob: ReceiveWelcomeParameters['fetchBlob'],
): Promise<Welcome> {
  const refuse = (reason: string, cause?: unknown) =>
    new MlsRejectedError({ messageId: envelope.id, reason, cause })
  let reference: Extract<Reference, { kind: 'welcome' }> | undefined
  try {
    reference = decodeReference(envelope.payload, 'welcome')
  } catch (cause) {
    throw refuse(reasonOf(cause), cause)
  }
  const message = decodeMls(reference?.welcome ?? envelope.payload, envelope.id)
  if (message.wireformat !== 'mls_welcome') throw refuse('not a Welcome')
  if (!reference) return message.welcome
  if (message.welcome.encryptedGroupInfo.length > 0)
    throw refuse('a welcome reference carries an encrypted_group_info of its own')
  const encryptedGroupInfo = await fetchBlob?.(reference)
  if (!encryptedGroupInfo) throw refuse('the GroupInfo this Welcome names was not found on its topic')
  return { ...message.welcome, encryptedGroupInfo }
}

/** ts-mls's refusal of a Welcome that has no `ratchet_tree` extension when no tree was passed in. */
function treeMissing(cause: unknown): boolean {
  return cause instanceof Error && cause.message === 'No RatchetTree passed and no ratchet_tree extension'
}
