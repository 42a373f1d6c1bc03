import { createWalletClient, http } from 'viem'
import { describe, expect, it } from 'vitest'
import { messageAnchorAbi } from '../../contracts/artifacts/MessageAnchor.js'
import { UsageError } from '../errors.js'
import { deploySealpost } from './deploy.js'
import { NoAccountError } from './errors.js'
import { sendAndWait } from './sendAndWait.js'

// No request leaves the process: the missing account is detected before anything is sent.
const noAccount = createWalletClient({ transport: http('http://127.0.0.1:9') })

describe('sendAndWait', () => {
  it('refuses a client without an account, with a typed usage error', async () => {
    const err = await sendAndWait(
      noAccount,
      { address: `0x${'11'.repeat(20)}`, abi: messageAnchorAbi, functionName: 'anchor', args: [] },
      undefined,
    ).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NoAccountError)
    expect(err).toBeInstanceOf(UsageError)
    expect(err).toMatchObject({ name: 'NoAccountError', code: 'SEALPOST_CHAIN_NO_ACCOUNT' })
    expect((err as NoAccountError).shortMessage).toMatchInlineSnapshot(
      `"The client has no account to send the transaction from."`,
    )
  })

  it('deploySealpost refuses the same way', async () => {
    const err = await deploySealpost(noAccount, noAccount).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NoAccountError)
    expect((err as NoAccountError).shortMessage).toBe(
      'The client has no account to deploy the contracts from.',
    )
  })
})
