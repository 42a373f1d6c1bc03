/** Account addresses typed on the command line: `0x…` or CAIP-10 `eip155:<chainId>:0x…`, checked with typed errors. */
import { statSync } from 'node:fs'
import { type Address, getAddress, isAddress } from 'viem'
import { readDeploymentFile } from '../client/deployment.js'
import { InvalidCaip10Error, parseCaip10 } from '../protocol/caip10.js'
import { AccountChainError, AddressArgumentError } from './errors.js'

/**
 * Parses an account address argument: `0x` and 40 hex digits, or a CAIP-10 account id `eip155:<chainId>:0x…` whose
 * chain is one of `chains` (the chains this command is configured for; none by default, so a command that passes
 * none takes plain addresses only). All-lower or all-upper hex is accepted as is; mixed case must carry a valid
 * EIP-55 checksum. Throws `AddressArgumentError` for a malformed value, `AccountChainError` for another chain.
 *
 * @example parseAddressArg('0x70997970c51812dc3a010c7d01b50e0d17dc79c8', 'PEER') // '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
 * @example parseAddressArg('eip155:31337:0x70997970C51812dc3A010C7d01b50e0d17dc79C8', 'PEER', [31337]) // '0x7099…79C8'
 */
export function parseAddressArg(value: string, what: string, chains: readonly number[] = []): Address {
  if (!value.startsWith('0x')) return parseCaip10Arg(value, what, chains)
  if (!/^0x[0-9a-fA-F]{40}$/.test(value)) {
    const reason = /^0x[0-9a-fA-F]*$/.test(value)
      ? `it has ${value.length - 2} hex digits, not 40`
      : 'it has characters that are not hex digits'
    throw new AddressArgumentError({ what, value, reason })
  }
  const digits = value.slice(2)
  const oneCase = digits === digits.toLowerCase() || digits === digits.toUpperCase()
  if (!oneCase && !isAddress(value, { strict: true }))
    throw new AddressArgumentError({
      what,
      value,
      reason: 'its mixed-case EIP-55 checksum does not match (a typo?)',
    })
  return getAddress(value.toLowerCase())
}

function parseCaip10Arg(value: string, what: string, chains: readonly number[]): Address {
  if (!value.includes(':'))
    throw new AddressArgumentError({ what, value, reason: 'it does not start with 0x (nor eip155:)' })
  let account: ReturnType<typeof parseCaip10>
  try {
    account = parseCaip10(value)
  } catch (err) {
    if (!(err instanceof InvalidCaip10Error)) throw err
    const reason = err.metaMessages[0]?.replace(/^Reason: /, '') ?? 'not CAIP-10'
    throw new AddressArgumentError({ what, value, reason: `not a CAIP-10 EVM account: ${reason}` })
  }
  if (!chains.includes(account.chainId)) throw new AccountChainError({ what, account: value, chains })
  return account.address
}

/**
 * The chains account arguments may name: the chain of the pinned deployment (`--deployment`, SEALPOST_DEPLOYMENT,
 * `<home>/deployment.json`), or none when there is no readable one.
 *
 * @example parseAddressArg(arg, 'PEER', configuredChains(ctx))
 */
export function configuredChains({ deploymentFile }: { deploymentFile: string }): number[] {
  try {
    if (!statSync(deploymentFile).isFile()) return []
    return [readDeploymentFile(deploymentFile).chainId]
  } catch {
    return []
  }
}
