/** Opening what a client runs on: the deployment, the chain (checked), the device keys, its store and the registry watcher. */

import type { CiphersuiteImpl } from 'ts-mls'
import { createPublicClient, getAddress, http, type PublicClient } from 'viem'
import type { LocalAccount } from 'viem/accounts'
import { mapChainError, WrongChainError } from '../chain/errors.js'
import { RegistryWatcher } from '../chain/registryWatcher.js'
import { getMlsCiphersuite } from '../crypto/mls.js'
import { DEFAULT_FINALITY } from '../protocol/messageState.js'
import { DeviceStore } from '../store/deviceStore.js'
import { resolvePassphrase } from '../store/keystore.js'
import { INLINE_COMMIT_BYTES, INLINE_GROUP_INFO_BYTES } from './byReference.js'
import { type Deployment, readDeployment } from './deployment.js'
import type { DeviceKeys } from './identity.js'
import { openDeviceKeys } from './openDevice.js'
import { finishPendingRotation } from './rotateDevice.js'
import { offlineTransport, type Transport } from './transport.js'
import type { ClientParameters, GroupAcceptPolicy } from './types.js'
import type { ClockPolicy } from './verifyStatement.js'
import { INLINE_TREE_BYTES } from './welcomeTree.js'

/**
 * Everything a `Client` is built from, opened and checked, with the defaults applied.
 *
 * @example const parts: ClientParts = await openClient({ account, home, rpc, transport })
 */
export type ClientParts = {
  device: DeviceKeys
  /** The account's key, when given (registering and revoking need it). */
  wallet: LocalAccount | undefined
  submitter: LocalAccount | undefined
  chainId: number
  deployment: Deployment
  publicClient: PublicClient
  /** Started: synced up to the chain head. */
  watcher: RegistryWatcher
  transport: Transport
  store: DeviceStore
  impl: CiphersuiteImpl
  clock: Partial<ClockPolicy> | undefined
  rpc: string
  finality: number
  logAnchorEvery: number
  pollingInterval: number
  inlineTreeBytes: number
  inlineCommitBytes: number
  inlineGroupInfoBytes: number
  groupAccept: GroupAcceptPolicy
}

/**
 * Reads the deployment (given, or recorded under `home`), checks the RPC serves its chain (`WrongChainError`),
 * unlocks or creates the device keys, opens the device store and starts the registry watcher (closing the store
 * again if the watcher cannot start).
 *
 * @example const client = new Client(await openClient(parameters))
 */
export async function openClient(parameters: ClientParameters): Promise<ClientParts> {
  const deployment = parameters.deployment ?? readDeployment(parameters.home)
  const publicClient = createPublicClient({
    transport: http(parameters.rpc, { retryCount: 1 }),
  }) as PublicClient
  const chainId = await publicClient.getChainId().catch((err) => {
    throw mapChainError(err)
  })
  if (chainId !== deployment.chainId)
    throw new WrongChainError({ expected: deployment.chainId, actual: chainId })
  const accountAddress = getAddress(
    typeof parameters.account === 'string' ? parameters.account : parameters.account.address,
  )
  const opened = await openDeviceKeys({ ...parameters, accountAddress })
  const impl = await getMlsCiphersuite(opened.mls.ciphersuite)
  const store = DeviceStore.open({ path: `${opened.dir}/state.sqlite`, storageKey: opened.storageKey })
  const watcher = new RegistryWatcher({
    publicClient,
    registry: deployment.keyRegistry,
    fromBlock: deployment.deployBlock,
    ...(parameters.pollingInterval ? { pollingInterval: parameters.pollingInterval } : {}),
  })
  try {
    await watcher.start()
  } catch (err) {
    store.close()
    throw mapChainError(err)
  }
  // A rotation stopped between its transaction and the key file's rename is finished here (key-management.md §6).
  const device = parameters.keys
    ? opened
    : await finishPendingRotation({
        device: opened,
        watcher,
        passphrase: resolvePassphrase({ passphrase: parameters.passphrase }),
      })
  return {
    device,
    wallet: typeof parameters.account === 'string' ? undefined : parameters.account,
    submitter: parameters.submitter,
    chainId,
    deployment,
    publicClient,
    watcher,
    transport: parameters.transport ?? offlineTransport,
    store,
    impl,
    clock: parameters.clock,
    rpc: parameters.rpc,
    finality: parameters.finality ?? DEFAULT_FINALITY,
    logAnchorEvery: parameters.logAnchorEvery ?? 32,
    pollingInterval: parameters.pollingInterval ?? 1000,
    inlineTreeBytes: parameters.inlineTreeBytes ?? INLINE_TREE_BYTES,
    inlineCommitBytes: parameters.inlineCommitBytes ?? INLINE_COMMIT_BYTES,
    inlineGroupInfoBytes: parameters.inlineGroupInfoBytes ?? INLINE_GROUP_INFO_BYTES,
    groupAccept: parameters.groups?.accept ?? 'anyone',
  }
}
