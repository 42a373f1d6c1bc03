/** ts-mls glue: registry-backed credential checks, state (de)serialisation, key packages and sender lookup. */
import {
  type AuthenticationService,
  type CiphersuiteImpl,
  type ClientConfig,
  type ClientState,
  type Credential,
  decodeGroupState,
  decodeMlsMessage,
  defaultCapabilities,
  defaultKeyPackageEqualityConfig,
  defaultKeyRetentionConfig,
  defaultLifetime,
  defaultLifetimeConfig,
  defaultPaddingConfig,
  type Extension,
  encodeGroupState,
  encodeMlsMessage,
  encodeRequiredCapabilities,
  type GroupContext,
  generateKeyPackageWithKey,
  type KeyPackage,
  type MLSMessage,
  type PrivateKeyPackage,
  type PrivateMessage,
} from 'ts-mls'
import { makeKeyPackageRef } from 'ts-mls/keyPackage.js'
import { decryptSenderData } from 'ts-mls/privateMessage.js'
import { bytesToHex, type Hex } from 'viem'
import type { DeviceRecord } from '../chain/registryWatcher.js'
import { CodecError } from '../errors.js'
import {
  CONVERSATION_CONTEXT_EXTENSION,
  type ConversationContext,
  encodeConversationContext,
} from '../protocol/conversationContext.js'
import { type DeviceIdentity, decodeDeviceIdentity, encodeDeviceIdentity } from '../protocol/credential.js'
import { LAST_RESORT_EXTENSION } from '../protocol/lastResortKeyPackage.js'
import { MlsRejectedError } from './verificationErrors.js'

/** Looks up devices for the authentication service. */
export type DeviceLookup = (deviceId: Hex) => Promise<DeviceRecord | undefined>

/**
 * An MLS authentication service (RFC 9420 §5.3.1) backed by the on-chain registry: a credential is valid when it
 * names a registered, unrevoked device of that account on this chain, and its signature key is the MLS key the
 * account registered for that device.
 *
 * @example const authService = registryAuthService({ chainId, lookup: (id) => watcher.deviceFresh(id) })
 */
export function registryAuthService({
  chainId,
  lookup,
}: {
  chainId: number
  lookup: DeviceLookup
}): AuthenticationService {
  return {
    async validateCredential(credential: Credential, signaturePublicKey: Uint8Array) {
      const identity = identityOf(credential)
      if (!identity || identity.chainId !== chainId) return false
      const device = await lookup(identity.deviceId)
      if (!device || device.revokedAt !== undefined) return false
      if (device.account.toLowerCase() !== identity.account.toLowerCase()) return false
      return device.mlsKey.toLowerCase() === bytesToHex(signaturePublicKey).toLowerCase()
    },
  }
}

/**
 * The ts-mls client configuration Sealpost uses: library defaults plus the registry-backed authentication service.
 *
 * @example const config = mlsClientConfig(authService)
 */
export function mlsClientConfig(authService: AuthenticationService): ClientConfig {
  return {
    keyRetentionConfig: defaultKeyRetentionConfig,
    lifetimeConfig: defaultLifetimeConfig,
    keyPackageEqualityConfig: defaultKeyPackageEqualityConfig,
    paddingConfig: defaultPaddingConfig,
    authService,
  }
}

/** The Sealpost identity in a credential, or undefined if it is not one. */
export function identityOf(credential: Credential): DeviceIdentity | undefined {
  if (credential.credentialType !== 'basic') return undefined
  try {
    return decodeDeviceIdentity(credential.identity)
  } catch {
    return undefined
  }
}

/** Serialises a group state for storage (the client config is not part of it). */
export function serializeGroupState(state: ClientState): Uint8Array {
  return encodeGroupState(state)
}

/** Restores a stored group state and re-attaches the client config. */
export function deserializeGroupState(bytes: Uint8Array, clientConfig: ClientConfig): ClientState {
  const decoded = decodeGroupState(bytes, 0)
  if (!decoded)
    throw new CodecError('Stored MLS group state does not decode.', { code: 'SEALPOST_STORE_CORRUPT' })
  return { ...decoded[0], clientConfig }
}

/**
 * Creates a key package signed by the device's registered MLS key; with `lastResort`, a last-resort one (its
 * KeyPackage extensions carry `last_resort`, docs/protocol.md §3 _Key packages_).
 *
 * @example const { publicPackage, privatePackage, ref } = await createKeyPackage({ identity, mls, impl })
 */
export async function createKeyPackage({
  identity,
  mls,
  impl,
  lastResort = false,
}: {
  identity: DeviceIdentity
  mls: { publicKey: Uint8Array; signKey: Uint8Array }
  impl: CiphersuiteImpl
  lastResort?: boolean | undefined
}) {
  const credential: Credential = { credentialType: 'basic', identity: encodeDeviceIdentity(identity) }
  const capabilities = defaultCapabilities()
  const { publicPackage, privatePackage } = await generateKeyPackageWithKey(
    credential,
    { ...capabilities, extensions: [...capabilities.extensions, CONVERSATION_CONTEXT_EXTENSION] },
    defaultLifetime,
    lastResort ? [{ extensionType: LAST_RESORT_EXTENSION, extensionData: new Uint8Array(0) }] : [],
    { signKey: mls.signKey, publicKey: mls.publicKey },
    impl,
  )
  const ref = bytesToHex(await makeKeyPackageRef(publicPackage, impl.hash))
  return { publicPackage, privatePackage, ref }
}

/**
 * Whether a key package is a last-resort one (its extensions carry `last_resort`): the relay keeps handing it out,
 * so a claimer that cannot use it must stop rather than take the next one.
 *
 * @example if (isLastResortKeyPackage(keyPackage)) throw new NoKeyPackageError({ deviceId })
 */
export function isLastResortKeyPackage(keyPackage: KeyPackage): boolean {
  return keyPackage.extensions.some((e) => e.extensionType === LAST_RESORT_EXTENSION)
}

/**
 * Whether a key package's leaf advertises the conversation context extension (without it, ts-mls refuses to add
 * it to a Sealpost group: key packages published before the extension existed are skipped).
 *
 * @example if (!supportsConversationContext(keyPackage)) skip()
 */
export function supportsConversationContext(keyPackage: KeyPackage): boolean {
  return keyPackage.leafNode.capabilities.extensions.includes(CONVERSATION_CONTEXT_EXTENSION)
}

/**
 * The group-context extensions of a Sealpost conversation: `required_capabilities` naming the conversation context
 * (so every leaf must support it), then the context itself.
 *
 * @example await createGroup(groupId, kp, priv, conversationExtensions(context), impl, config)
 */
export function conversationExtensions(context: ConversationContext): Extension[] {
  return [
    {
      extensionType: 'required_capabilities',
      extensionData: encodeRequiredCapabilities({
        extensionTypes: [CONVERSATION_CONTEXT_EXTENSION],
        proposalTypes: [],
        credentialTypes: [],
      }),
    },
    { extensionType: CONVERSATION_CONTEXT_EXTENSION, extensionData: encodeConversationContext(context) },
  ]
}

/**
 * The raw conversation context extensions of a group context: zero, one or (malformed) several.
 *
 * @example const [only] = conversationContextExtensions(state.groupContext)
 */
export function conversationContextExtensions(groupContext: GroupContext): Uint8Array[] {
  return groupContext.extensions
    .filter((e) => e.extensionType === CONVERSATION_CONTEXT_EXTENSION)
    .map((e) => e.extensionData)
}

/** Encodes an MLS message for an envelope payload. */
export function encodeMls(message: MLSMessage): Uint8Array {
  return encodeMlsMessage(message)
}

/** Decodes an MLS message from an envelope payload; a malformed one is an `MlsRejectedError`. */
export function decodeMls(payload: Uint8Array, messageId?: Hex): MLSMessage {
  let decoded: ReturnType<typeof decodeMlsMessage>
  try {
    decoded = decodeMlsMessage(payload, 0)
  } catch (cause) {
    throw new MlsRejectedError({ messageId, reason: 'MLS message does not decode', cause })
  }
  if (!decoded || decoded[1] !== payload.length)
    throw new MlsRejectedError({ messageId, reason: 'MLS message does not decode' })
  return decoded[0]
}

/**
 * Finds the sending leaf of a private message and returns its Sealpost identity, using the epoch the message was
 * sent in (current or retained). MLS then authenticates the content against that leaf's signature key.
 *
 * @example const { identity, leafIndex } = await senderOf(state, privateMessage, impl)
 */
export async function senderOf(
  state: ClientState,
  message: PrivateMessage,
  impl: CiphersuiteImpl,
): Promise<{ identity: DeviceIdentity; leafIndex: number } | undefined> {
  const epochData =
    message.epoch === state.groupContext.epoch
      ? { senderDataSecret: state.keySchedule.senderDataSecret, ratchetTree: state.ratchetTree }
      : state.historicalReceiverData.get(message.epoch)
  if (!epochData) return undefined
  const senderData = await decryptSenderData(message, epochData.senderDataSecret, impl).catch(() => undefined)
  if (!senderData) return undefined
  const node = epochData.ratchetTree[senderData.leafIndex * 2]
  if (node?.nodeType !== 'leaf') return undefined
  const identity = identityOf(node.leaf.credential)
  return identity && { identity, leafIndex: senderData.leafIndex }
}

/** Identities of every member in the current epoch, with their leaf indexes. */
export function membersOf(state: ClientState): { identity: DeviceIdentity; leafIndex: number }[] {
  const members: { identity: DeviceIdentity; leafIndex: number }[] = []
  state.ratchetTree.forEach((node, index) => {
    if (index % 2 !== 0 || node?.nodeType !== 'leaf') return
    const identity = identityOf(node.leaf.credential)
    if (identity) members.push({ identity, leafIndex: index / 2 })
  })
  return members
}

/**
 * Encodes the private half of a key package for the device store (sealed there): JSON of its three keys in hex.
 *
 * @example store.putKeyPackage({ ref, publicPackage, privatePackage: encodePrivateKeyPackage(privatePackage) })
 */
export function encodePrivateKeyPackage(p: PrivateKeyPackage): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({
      initPrivateKey: bytesToHex(p.initPrivateKey),
      hpkePrivateKey: bytesToHex(p.hpkePrivateKey),
      signaturePrivateKey: bytesToHex(p.signaturePrivateKey),
    }),
  )
}

/**
 * Decodes what {@link encodePrivateKeyPackage} wrote.
 *
 * @example const privatePackage = decodePrivateKeyPackage(stored.privatePackage)
 */
export function decodePrivateKeyPackage(bytes: Uint8Array): PrivateKeyPackage {
  const raw = JSON.parse(new TextDecoder().decode(bytes))
  const h = (x: string) => Uint8Array.from(Buffer.from(x.slice(2), 'hex'))
  return {
    initPrivateKey: h(raw.initPrivateKey),
    hpkePrivateKey: h(raw.hpkePrivateKey),
    signaturePrivateKey: h(raw.signaturePrivateKey),
  }
}
