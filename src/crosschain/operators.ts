/** The off-chain roles of one Hyperlane route built together: a validator per key on the origin, a relayer to the destination. */
import type { Client, LocalAccount } from 'viem'
import type { WriteClient } from '../chain/sendAndWait.js'
import type { CheckpointStore } from './checkpointStore.js'
import type { HyperlaneCore } from './deploy.js'
import { Relayer } from './relayer.js'
import { Validator } from './validator.js'

/**
 * Parameters of {@link routeOperators}.
 *
 * @example
 * const p: RouteOperatorsParameters = {
 *   origin: { client: clientA, core: coreA },
 *   destination: { client: clientB, wallet: relayerWalletB, core: coreB },
 *   validators: keys.map((account, i) => ({ account, store: stores[i] })),
 *   confirmations: 2,
 * }
 */
export type RouteOperatorsParameters = {
  /** The origin chain: its client and Hyperlane core (domain, MerkleTreeHook, Mailbox, deployment block). */
  origin: {
    client: Client
    core: Pick<HyperlaneCore, 'domain' | 'mailbox' | 'merkleTreeHook' | 'deployBlock'>
  }
  /** The destination chain: its client, the relayer's wallet there, and its core. */
  destination: { client: Client; wallet: WriteClient; core: Pick<HyperlaneCore, 'domain' | 'mailbox'> }
  /** One entry per validator: its key (in the destination ISM's list) and where it publishes its signatures. */
  validators: readonly { account: LocalAccount; store: CheckpointStore }[]
  /** Confirmations each validator waits for on the origin before signing (≥ 1). */
  confirmations: number
}

/**
 * The validators and the relayer of one route, reading the origin from its Mailbox's deployment block; the relayer
 * reads every validator's store. Nothing runs until you `poll()` or `start()` them.
 *
 * @example
 * const { validators, relayer } = routeOperators({ origin, destination, validators: keys, confirmations: 1 })
 * for (const v of validators) await v.poll()
 * const outcomes = await relayer.poll()
 */
export function routeOperators(parameters: RouteOperatorsParameters): {
  validators: Validator[]
  relayer: Relayer
} {
  const { origin, destination, confirmations } = parameters
  const validators = parameters.validators.map(
    ({ account, store }) =>
      new Validator({
        client: origin.client,
        account,
        origin: origin.core.domain,
        merkleTreeHook: origin.core.merkleTreeHook,
        confirmations,
        store,
        fromBlock: origin.core.deployBlock,
      }),
  )
  const relayer = new Relayer({
    origin: { client: origin.client, mailbox: origin.core.mailbox, fromBlock: origin.core.deployBlock },
    destination: {
      client: destination.client,
      wallet: destination.wallet,
      mailbox: destination.core.mailbox,
      domain: destination.core.domain,
    },
    stores: parameters.validators.map((v) => v.store),
  })
  return { validators, relayer }
}
