import { createPublicClient, createWalletClient, http } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { anvilPrivateKeys } from '../chain/anvil.js'
import { AnchorerOptionsError } from './errors.js'
import { type AnchorerOptions, anchorerDefaults, MAX_LEAF_COUNT, resolveAnchorerOptions } from './options.js'

const transport = http('http://127.0.0.1:9') // never called: options are checked before any request
const base: AnchorerOptions = {
  walletClient: createWalletClient({ account: privateKeyToAccount(anvilPrivateKeys[0]), transport }),
  publicClient: createPublicClient({ transport, pollingInterval: 250 }),
  contract: '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512',
  db: { path: ':memory:' },
}

const optionOf = (options: AnchorerOptions) => {
  try {
    resolveAnchorerOptions(options)
  } catch (err) {
    expect(err).toBeInstanceOf(AnchorerOptionsError)
    expect((err as AnchorerOptionsError).code).toBe('SEALPOST_ANCHORER_BAD_OPTIONS')
    return (err as AnchorerOptionsError).metaMessages[0]
  }
  return undefined
}

describe('resolveAnchorerOptions', () => {
  it('fills in the defaults, polling at the public client interval', () => {
    expect(resolveAnchorerOptions(base)).toEqual({ ...anchorerDefaults, pollingIntervalMs: 250 })
    expect(resolveAnchorerOptions({ ...base, batchSize: 4, retry: { factor: 3 } })).toMatchObject({
      batchSize: 4,
      retryFactor: 3,
    })
  })

  it('names the first bad option', () => {
    expect(optionOf({ ...base, batchSize: 0 })).toBe('Option: batchSize')
    expect(optionOf({ ...base, batchSize: MAX_LEAF_COUNT })).toBe('Option: batchSize') // one slot kept for a salt
    expect(optionOf({ ...base, batchSize: 1.5 })).toBe('Option: batchSize')
    expect(optionOf({ ...base, confirmations: 0 })).toBe('Option: confirmations')
    expect(optionOf({ ...base, batchIntervalMs: Number.NaN })).toBe('Option: batchIntervalMs')
    expect(optionOf({ ...base, retry: { maxMs: 0 } })).toBe('Option: retry.maxMs')
    expect(
      optionOf({
        ...base,
        walletClient: createWalletClient({ transport }) as AnchorerOptions['walletClient'],
      }),
    ).toBe('Option: walletClient')
    expect(optionOf({ ...base, db: undefined })).toBe('Option: db')
    expect(optionOf(base)).toBeUndefined()
  })
})
