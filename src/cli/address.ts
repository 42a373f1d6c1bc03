/** Account addresses typed on the command line: checked (format and EIP-55 checksum) with a typed error. */
import { type Address, getAddress, isAddress } from 'viem'
import { AddressArgumentError } from './errors.js'

/**
 * Parses an account address argument. All-lower or all-upper hex is accepted as is; mixed case must carry a valid
 * EIP-55 checksum.
 *
 * @example parseAddressArg('0x70997970c51812dc3a010c7d01b50e0d17dc79c8', 'PEER') // '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
 */
export function parseAddressArg(value: string, what: string): Address {
  if (!/^0x[0-9a-fA-F]{40}$/.test(value)) {
    const reason = !value.startsWith('0x')
      ? 'it does not start with 0x'
      : /^0x[0-9a-fA-F]*$/.test(value)
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
