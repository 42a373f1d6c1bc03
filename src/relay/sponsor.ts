/** The relay's sponsor: submits users' signed KeyRegistry operations under a stated policy (docs/protocol.md §9.9). */
import {
  type Account,
  type Address,
  type Chain,
  type Hex,
  isAddressEqual,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem'
import { estimateContractGas, estimateFeesPerGas, simulateContract } from 'viem/actions'
import { keyRegistryAbi } from '../../contracts/artifacts/KeyRegistry.js'
import { ContractRevertError, mapChainError, SponsorRefusedError } from '../chain/errors.js'
import { sendAndWait } from '../chain/sendAndWait.js'
import { type SponsorRequest, type SponsorResult, sponsorCall } from '../chain/sponsor.js'

/**
 * The sponsor's policy. Defaults in {@link defaultSponsorPolicy}.
 *
 * @example const policy: SponsorPolicy = { ...defaultSponsorPolicy, perAccount: 3 }
 */
export type SponsorPolicy = {
  /** Requests one IP address may make per window (every request counts, refused ones too). */
  perIp: number
  /** Operations one account may have sponsored per window (counted once the simulation succeeded). */
  perAccount: number
  /** Length of the rate-limit window, in ms. */
  windowMs: number
  /** Most gas one operation may use (estimated before sending; the transaction's gas limit). */
  gasCap: bigint
  /** Most wei the sponsor spends per UTC day (estimated cost reserved before sending, actual cost counted). */
  dailyBudgetWei: bigint
}

/**
 * The default policy: 20 requests per IP and 5 operations per account per hour, 2,000,000 gas per operation, 0.1
 * ether per day.
 *
 * @example defaultSponsorPolicy.perAccount // 5
 */
export const defaultSponsorPolicy: Readonly<SponsorPolicy> = Object.freeze({
  perIp: 20,
  perAccount: 5,
  windowMs: 3_600_000,
  gasCap: 2_000_000n,
  dailyBudgetWei: 100_000_000_000_000_000n,
})

/**
 * What the sponsor needs: the chain, the account that pays, this deployment's registry, and a clock.
 *
 * @example createSponsor({ publicClient, walletClient, registry, chainId, policy: { perIp: 5 } })
 */
export type SponsorOptions = {
  publicClient: PublicClient
  /** A wallet client carrying the sponsor account. */
  walletClient: WalletClient<Transport, Chain | undefined, Account>
  registry: Address
  chainId: number
  policy?: Partial<SponsorPolicy> | undefined
  now?: (() => number) | undefined
}

/**
 * A running sponsor.
 *
 * @example const result = await sponsor.submit(request, '127.0.0.1')
 */
export type Sponsor = {
  readonly policy: Readonly<SponsorPolicy>
  readonly account: Address
  /** Checks the policy, simulates, then sends and waits for one confirmation. Throws `SponsorRefusedError`. */
  submit(request: SponsorRequest, ip: string): Promise<SponsorResult>
  /** Wei spent (and reserved) today. */
  spentToday(): bigint
}

/** A fixed-window counter per key. */
function windowCounter(limit: number, windowMs: number, now: () => number) {
  const counts = new Map<string, { start: number; n: number }>()
  return {
    /** Takes one unit; returns the ms to wait when the key is over its limit. */
    take(key: string): number | undefined {
      const t = now()
      let c = counts.get(key)
      if (!c || t - c.start >= windowMs) {
        c = { start: t, n: 0 }
        counts.set(key, c)
      }
      if (c.n >= limit) return c.start + windowMs - t
      c.n++
      if (counts.size > 10_000) for (const [k, v] of counts) if (t - v.start >= windowMs) counts.delete(k)
      return undefined
    },
  }
}

/**
 * Creates the sponsor. Policy, in order: the request names this deployment's chain and KeyRegistry; the IP is
 * within `perIp`; the call simulates without reverting (a revert refuses with the contract's reason, nothing
 * sent); the account is within `perAccount`; the gas estimate is within `gasCap`; the estimated cost fits today's
 * budget. Then one transaction at a time is sent from the sponsor account. The EIP-712 signature is the only
 * authority: the relay never holds a user key, and the contract rejects anything the account did not sign.
 *
 * @example
 * const sponsor = createSponsor({ publicClient, walletClient, registry: deployment.keyRegistry, chainId })
 */
export function createSponsor(options: SponsorOptions): Sponsor {
  const policy: SponsorPolicy = { ...defaultSponsorPolicy, ...options.policy }
  const now = options.now ?? Date.now
  const perIp = windowCounter(policy.perIp, policy.windowMs, now)
  const perAccount = windowCounter(policy.perAccount, policy.windowMs, now)
  const sponsorAccount = options.walletClient.account
  let day = -1
  let spent = 0n
  const today = () => {
    const d = Math.floor(now() / 86_400_000)
    if (d !== day) {
      day = d
      spent = 0n
    }
  }
  let queue: Promise<unknown> = Promise.resolve()
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn)
    queue = run.catch(() => undefined)
    return run
  }

  async function submit(request: SponsorRequest, ip: string): Promise<SponsorResult> {
    if (request.chainId !== options.chainId || !isAddressEqual(request.registry, options.registry))
      throw new SponsorRefusedError({
        reason: 'wrong-registry',
        detail: `this relay sponsors KeyRegistry ${options.registry} on chain ${options.chainId} only`,
      })
    const ipWait = perIp.take(ip)
    if (ipWait !== undefined)
      throw new SponsorRefusedError({ reason: 'rate-limited', detail: 'per IP', retryAfterMs: ipWait })
    const call = {
      address: options.registry,
      abi: keyRegistryAbi,
      ...sponsorCall(request),
      account: sponsorAccount,
    }
    try {
      await simulateContract(options.publicClient, call as never)
    } catch (err) {
      const mapped = mapChainError(err)
      if (mapped instanceof ContractRevertError)
        throw new SponsorRefusedError({ reason: 'reverted', errorName: mapped.errorName, cause: mapped })
      throw new SponsorRefusedError({ reason: 'failed', detail: 'simulation did not run', cause: mapped })
    }
    const accountWait = perAccount.take(request.account.toLowerCase())
    if (accountWait !== undefined)
      throw new SponsorRefusedError({
        reason: 'rate-limited',
        detail: 'per account',
        retryAfterMs: accountWait,
      })
    return serial(async () => {
      let gas: bigint
      let price: bigint
      try {
        gas = await estimateContractGas(options.publicClient, call as never)
        price = (await estimateFeesPerGas(options.publicClient)).maxFeePerGas
      } catch (err) {
        throw new SponsorRefusedError({
          reason: 'failed',
          detail: 'gas estimate failed',
          cause: mapChainError(err),
        })
      }
      if (gas > policy.gasCap)
        throw new SponsorRefusedError({ reason: 'gas-cap', detail: `estimate ${gas} > cap ${policy.gasCap}` })
      const reserve = gas * price
      today()
      if (spent + reserve > policy.dailyBudgetWei)
        throw new SponsorRefusedError({
          reason: 'budget-exhausted',
          retryAfterMs: (day + 1) * 86_400_000 - now(),
        })
      spent += reserve
      try {
        const { hash, blockNumber, gasUsed, receipt } = await sendAndWait(
          options.walletClient,
          { address: options.registry, abi: keyRegistryAbi, ...sponsorCall(request) },
          undefined,
        )
        spent += gasUsed * receipt.effectiveGasPrice - reserve
        return { hash: hash as Hex, blockNumber, gasUsed }
      } catch (err) {
        spent -= reserve
        throw new SponsorRefusedError({ reason: 'failed', detail: 'the transaction failed', cause: err })
      }
    })
  }

  return {
    policy,
    account: sponsorAccount.address,
    submit,
    spentToday: () => {
      today()
      return spent
    },
  }
}
