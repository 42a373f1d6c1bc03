/** A member's group state as its disk keeps it, and whether that saved state still opens a later message. */
import { join } from 'node:path'
import { makePskIndex, processPrivateMessage } from 'ts-mls'
import type { Hex } from 'viem'
import type { Client } from '../client/Client.js'
import { loadDevice } from '../client/identity.js'
import { decodeMls, deserializeGroupState, mlsClientConfig, registryAuthService } from '../client/mls.js'
import { getMlsCiphersuite } from '../crypto/mls.js'
import type { Envelope } from '../protocol/envelope.js'
import { DeviceStore } from '../store/deviceStore.js'
import { DemoAttackError } from './errors.js'
import { DEMO_PASSPHRASE, type DemoNetwork, type DemoParty } from './parties.js'

/**
 * The serialized MLS state of group `groupId` in `party`'s device store on disk, read with the device's keys (what a
 * thief of the device, or its own modified software, keeps). Throws `DemoAttackError` if the device holds no such
 * group.
 *
 * @example const saved = await readSavedGroupState(network, dave, ops.id)
 */
export async function readSavedGroupState(
  network: Pick<DemoNetwork, 'dir'>,
  party: DemoParty,
  groupId: Hex,
): Promise<Uint8Array> {
  const keys = await loadDevice({
    home: join(network.dir, party.name),
    name: party.device ?? 'default',
    passphrase: DEMO_PASSPHRASE,
  })
  const store = DeviceStore.open({ path: join(keys.dir, 'state.sqlite'), storageKey: keys.storageKey })
  try {
    const group = store.getGroup(groupId)
    if (!group)
      throw new DemoAttackError({
        attack: 'read a saved group state',
        reason: `${party.name} holds no ${groupId}`,
      })
    return group.state
  } finally {
    store.close()
  }
}

/**
 * What a saved state made of a message: `opened` if MLS decrypted it, otherwise the reason ts-mls gave; `epoch` is
 * the saved state's.
 *
 * @example const { opened, reason } = await openWithSavedState({ client: dave, saved, envelope: sent.envelope })
 */
export type SavedStateAttempt =
  | { opened: true; epoch: bigint }
  | { opened: false; epoch: bigint; reason: string }

/**
 * Tries to decrypt `envelope` (a group message) with a saved group state, as ts-mls would on the device that saved
 * it, outside Sealpost's client: no policy, no relay. `client` only lends its registry view and suite.
 *
 * @example const attempt = await openWithSavedState({ client: dave, saved, envelope: sent.envelope })
 */
export async function openWithSavedState({
  client,
  saved,
  envelope,
}: {
  client: Client
  saved: Uint8Array
  envelope: Envelope
}): Promise<SavedStateAttempt> {
  const config = mlsClientConfig(
    registryAuthService({ chainId: client.chainId, lookup: async (id) => client.watcher.device(id) }),
  )
  const state = deserializeGroupState(saved, config)
  const epoch = state.groupContext.epoch
  const message = decodeMls(envelope.payload)
  if (message.wireformat !== 'mls_private_message')
    return { opened: false, epoch, reason: `not a private message (${message.wireformat})` }
  const impl = await getMlsCiphersuite(client.ciphersuite)
  try {
    await processPrivateMessage(state, message.privateMessage, makePskIndex(state, {}), impl)
    return { opened: true, epoch }
  } catch (err) {
    return { opened: false, epoch, reason: `${(err as Error).name}: ${(err as Error).message}` }
  }
}
