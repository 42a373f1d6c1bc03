/**
 * A Hyperlane validator in TypeScript: follows the origin MerkleTreeHook, waits `confirmations` blocks, and signs one
 * checkpoint (CheckpointLib digest) per inserted message into its checkpoint store.
 */
import type { Address, Client, Hex, LocalAccount } from 'viem'
import { getBlockNumber, getContractEvents, readContract } from 'viem/actions'
import { withChainErrors } from '../chain/errors.js'
import { type SignedCheckpoint, signCheckpoint } from './checkpoint.js'
import type { CheckpointStore } from './checkpointStore.js'
import { CheckpointRootMismatchError } from './errors.js'
import { merkleTreeHookAbi } from './hyperlaneAbi.js'
import { emptyMerkleTree, insertLeaf, type MerkleTree, merkleRoot } from './merkleTree.js'
import { PollLoop } from './pollLoop.js'

/**
 * Parameters of a {@link Validator}.
 *
 * @example
 * const p: ValidatorParameters = { client, account, origin: 31337, merkleTreeHook, confirmations: 3, store, fromBlock: 0n }
 */
export type ValidatorParameters = {
  /** A client of the origin chain. */
  client: Client
  /** The validator's signing key (an address in the destination ISM's validator list). */
  account: LocalAccount
  /** Hyperlane domain of the origin chain. */
  origin: number
  merkleTreeHook: Address
  /** A log is signed once its block has this many confirmations (head - block + 1 ≥ confirmations; ≥ 1). */
  confirmations: number
  store: CheckpointStore
  /** First block to read (the hook's deployment block). */
  fromBlock: bigint
}

/**
 * A validator: {@link Validator.poll} signs every checkpoint that became final since the last call; {@link
 * Validator.start} polls on a timer. It never reads a block with fewer than `confirmations` confirmations, so a
 * reorg shallower than that cannot make it sign a message that vanishes. It rebuilds the hook's tree from the
 * InsertedIntoTree logs and checks its root against the hook's `root()` at each block before signing
 * (CheckpointRootMismatchError otherwise).
 *
 * @example
 * const v = new Validator({ client, account, origin: 31337, merkleTreeHook, confirmations: 3, store, fromBlock })
 * await v.poll() // the checkpoints signed in this pass
 */
export class Validator {
  readonly address: Address
  private readonly p: ValidatorParameters
  private tree: MerkleTree = emptyMerkleTree()
  private next: bigint
  private loop: PollLoop<SignedCheckpoint[]> | undefined

  constructor(parameters: ValidatorParameters) {
    this.p = { ...parameters, confirmations: Math.max(1, parameters.confirmations) }
    this.address = parameters.account.address
    this.next = parameters.fromBlock
  }

  /** Number of leaves signed so far (the next index to sign). @example v.signedCount */
  get signedCount(): number {
    return this.tree.count
  }

  /** The first origin block not read yet. @example v.nextBlock */
  get nextBlock(): bigint {
    return this.next
  }

  /**
   * One pass: reads the hook's logs from the next unread block to the newest block with enough confirmations,
   * signs their checkpoints in index order and publishes them. Returns what it signed.
   *
   * @example
   * const signed = await validator.poll()
   */
  async poll(): Promise<SignedCheckpoint[]> {
    const { client, merkleTreeHook } = this.p
    const head = await withChainErrors(() => getBlockNumber(client, { cacheTime: 0 }))
    const safe = head - BigInt(this.p.confirmations) + 1n
    if (safe < this.next) return []
    const logs = await withChainErrors(() =>
      getContractEvents(client, {
        address: merkleTreeHook,
        abi: merkleTreeHookAbi,
        eventName: 'InsertedIntoTree',
        fromBlock: this.next,
        toBlock: safe,
        strict: true,
      }),
    )
    const signed: SignedCheckpoint[] = []
    let tree = this.tree
    for (let i = 0; i < logs.length; i++) {
      const log = logs[i]!
      const { messageId, index } = log.args
      if (index !== tree.count) {
        throw new CheckpointRootMismatchError({
          index,
          detail: `expected leaf index ${tree.count} (a log was missed)`,
        })
      }
      tree = insertLeaf(tree, messageId)
      const root = merkleRoot(tree)
      const lastOfBlock = logs[i + 1]?.blockNumber !== log.blockNumber
      if (lastOfBlock) await this.checkRoot(root, index, log.blockNumber)
      signed.push(
        await signCheckpoint(this.p.account, {
          origin: this.p.origin,
          merkleTreeHook,
          root,
          index,
          messageId,
        }),
      )
    }
    for (const s of signed) this.p.store.put(s)
    this.tree = tree
    this.next = safe + 1n
    return signed
  }

  private async checkRoot(root: Hex, index: number, blockNumber: bigint): Promise<void> {
    const onChain = await withChainErrors(() =>
      readContract(this.p.client, {
        address: this.p.merkleTreeHook,
        abi: merkleTreeHookAbi,
        functionName: 'root',
        blockNumber,
      }),
    )
    if (onChain !== root) {
      throw new CheckpointRootMismatchError({ index, detail: `local root ${root}, on-chain root ${onChain}` })
    }
  }

  /**
   * Polls every `intervalMs` until {@link Validator.stop}; a failed pass is reported to `onError` and retried.
   *
   * @example
   * validator.start(1000, (e) => console.error(e))
   */
  start(intervalMs: number, onError?: (err: unknown) => void): void {
    if (this.loop?.active) return
    this.loop = new PollLoop(() => this.poll(), intervalMs, onError)
    this.loop.start()
  }

  /** Stops polling and waits for a pass in progress. @example await validator.stop() */
  async stop(): Promise<void> {
    await this.loop?.stop()
  }
}
