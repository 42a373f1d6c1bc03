/** CAIP-10 account ids (`eip155:<chainId>:<address>`): formatting and parsing. */
import { type Address, getAddress, isAddress } from 'viem'
import { ValidationError } from '../errors.js'

/** A CAIP-10 account id does not parse as `eip155:<chainId>:<address>`. @example new InvalidCaip10Error({ reason: 'unsupported namespace' }) */
export class InvalidCaip10Error extends ValidationError {
  override name = 'InvalidCaip10Error' as const
  constructor({ reason }: { reason: string }) {
    super('CAIP-10 account id is invalid.', {
      metaMessages: [`Reason: ${reason}`],
      code: 'SEALPOST_INVALID_CAIP10',
    })
  }
}

/** An EVM account on a chain. @example const account: Caip10Account = { chainId: 1, address } */
export type Caip10Account = { chainId: number; address: Address }

/**
 * `eip155:<chainId>:<checksummed address>`.
 *
 * @example toCaip10({ chainId: 1, address: '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266' })
 * // 'eip155:1:0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
 */
export function toCaip10({ chainId, address }: Caip10Account): string {
  if (typeof chainId !== 'number' || !Number.isSafeInteger(chainId) || chainId <= 0)
    throw new InvalidCaip10Error({ reason: 'chainId must be a positive safe integer' })
  if (typeof address !== 'string' || !isAddress(address))
    throw new InvalidCaip10Error({ reason: 'address must be a 20-byte address with a valid checksum' })
  return `eip155:${chainId}:${getAddress(address)}`
}

const CAIP10 = /^eip155:([1-9][0-9]{0,15}):(0x[0-9a-fA-F]{40})$/

/**
 * Parses `eip155:<chainId>:<address>` (decimal chain id without leading zeros; lower-case or checksummed
 * address). Returns the checksummed address.
 *
 * @example parseCaip10('eip155:31337:0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266') // { chainId: 31337, address }
 */
export function parseCaip10(value: string): Caip10Account {
  if (typeof value !== 'string') throw new InvalidCaip10Error({ reason: 'must be a string' })
  const match = CAIP10.exec(value)
  if (!match) throw new InvalidCaip10Error({ reason: 'expected eip155:<chainId>:<0x-address>' })
  const chainId = Number(match[1])
  if (!Number.isSafeInteger(chainId)) throw new InvalidCaip10Error({ reason: 'chainId is too large' })
  const address = match[2]!
  if (!isAddress(address)) throw new InvalidCaip10Error({ reason: 'address checksum is wrong' })
  return { chainId, address: getAddress(address) }
}
