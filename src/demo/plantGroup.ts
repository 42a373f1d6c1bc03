/** Attack 1 of issue 9: an outsider builds a "1:1" group with ts-mls from her own device and plants it in two inboxes. */
import { createCommit, createGroup, type KeyPackage, zeroOutUint8Array } from 'ts-mls'
import { type Address, type Hex, hexToBytes } from 'viem'
import type { Client } from '../client/Client.js'
import type { DeviceKeys } from '../client/identity.js'
import {
  conversationExtensions,
  createKeyPackage,
  decodeMls,
  encodeMls,
  mlsClientConfig,
  registryAuthService,
} from '../client/mls.js'
import { getMlsCiphersuite } from '../crypto/mls.js'
import { directContext, directGroupId } from '../protocol/conversationContext.js'
import { createEnvelope } from '../protocol/envelope.js'
import { inboxTopic } from '../protocol/topics.js'
import { DemoAttackError } from './errors.js'

/**
 * The planted group: its id, and the id of the Welcome envelope posted into each victim device's inbox.
 *
 * @example const { groupId, welcomes } = await plantDirectGroup({ builder, keys, victims: [alice, bob] })
 */
export type PlantedGroup = { groupId: Hex; welcomes: Map<Hex, Hex> }

/**
 * Mallory's attack with ts-mls directly: she takes one key package of each victim device from the relay (anyone
 * may), creates a group from her own registered device carrying a well-formed direct context for the two victims'
 * accounts (the canonical group id for a nonce of her choosing) while keeping her own leaf, adds the victims in one
 * commit and posts the Welcome into each victim's inbox. Each victim must refuse it (rule `foreign-member`).
 * Throws if a victim has no key package left.
 *
 * @example const planted = await plantDirectGroup({ builder: mallory, keys: malloryKeys, victims: [alice, bob], nonce })
 */
export async function plantDirectGroup({
  builder,
  keys,
  victims,
  nonce,
}: {
  /** The outsider's live client (registered, connected to the relay). */
  builder: Client
  /** The outsider's own device keys (`loadDevice` of her home). */
  keys: DeviceKeys
  /** Exactly two victim devices of two accounts. */
  victims: readonly [Client, Client]
  nonce: Hex
}): Promise<PlantedGroup> {
  const attack = 'plant a 1:1 group'
  const impl = await getMlsCiphersuite(builder.ciphersuite)
  const keyPackages: KeyPackage[] = []
  for (const victim of victims) {
    const envelope = await builder.transport.takeKeyPackage({ deviceId: victim.deviceId })
    if (!envelope)
      throw new DemoAttackError({ attack, reason: `no key package left for device ${victim.deviceId}` })
    const message = decodeMls(envelope.payload)
    if (message.wireformat !== 'mls_key_package')
      throw new DemoAttackError({ attack, reason: 'the relay handed out no key package' })
    keyPackages.push(message.keyPackage)
  }
  const pair = {
    chainId: builder.chainId,
    registry: builder.watcher.registry,
    a: victims[0].account as Address,
    b: victims[1].account as Address,
    nonce,
  }
  const groupId = directGroupId(pair)
  const own = await createKeyPackage({ identity: builder.identity, mls: keys.mls, impl })
  const config = mlsClientConfig(
    registryAuthService({ chainId: builder.chainId, lookup: async (id) => builder.watcher.device(id) }),
  )
  const state = await createGroup(
    hexToBytes(groupId),
    own.publicPackage,
    own.privatePackage,
    conversationExtensions(directContext(pair)),
    impl,
    config,
  )
  const commit = await createCommit(
    { state, cipherSuite: impl },
    {
      extraProposals: keyPackages.map((keyPackage) => ({
        proposalType: 'add' as const,
        add: { keyPackage },
      })),
      ratchetTreeExtension: true,
    },
  )
  commit.consumed.forEach(zeroOutUint8Array)
  if (!commit.welcome) throw new DemoAttackError({ attack, reason: 'ts-mls made no Welcome' })
  const payload = encodeMls({ version: 'mls10', wireformat: 'mls_welcome', welcome: commit.welcome })
  const welcomes = new Map<Hex, Hex>()
  for (const victim of victims) {
    const envelope = createEnvelope({ kind: 'welcome', topic: inboxTopic(victim.deviceId), payload })
    await builder.transport.publish(envelope)
    welcomes.set(victim.deviceId, envelope.id)
  }
  return { groupId, welcomes }
}
