/** CAIP-10 account ids (`eip155:<chainId>:<address>`): the generic syntax, and EVM accounts parsed and formatted. */
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
 * The three parts of any CAIP-10 account id (CAIP-2 namespace and reference, then the account address).
 *
 * @example const { namespace, reference, address }: Caip10Parts = splitCaip10('bip122:000000000019d6689c085ae165831e93:128Lkh3S7CkDTBZ8W7BbpsN3YYizJMp8p6')
 */
export type Caip10Parts = { namespace: string; reference: string; address: string }

// CAIP-10 (ChainAgnostic/CAIPs, CAIPs/caip-10.md): account_id = chain_id ":" account_address, chain_id (CAIP-2) =
// [-a-z0-9]{3,8} ":" [-_a-zA-Z0-9]{1,32}, account_address = [-.%a-zA-Z0-9]{1,128}.
const SYNTAX = /^([-a-z0-9]{3,8}):([-_a-zA-Z0-9]{1,32}):([-.%a-zA-Z0-9]{1,128})$/
// The eip155 namespace: a decimal chain id without leading zeros, a 20-byte hex address.
const CHAIN_ID = /^[1-9][0-9]{0,15}$/
const EVM_ADDRESS = /^0x[0-9a-fA-F]{40}$/

/**
 * Splits any CAIP-10 account id into its parts, checking only the generic syntax (any namespace).
 *
 * @example splitCaip10('eip155:1:0xab16a96D359eC26a11e2C2b3d8f8B8942d5Bfcdb') // { namespace: 'eip155', reference: '1', address: '0xab16…' }
 */
export function splitCaip10(value: string): Caip10Parts {
  if (typeof value !== 'string') throw new InvalidCaip10Error({ reason: 'must be a string' })
  const match = SYNTAX.exec(value)
  if (!match) throw new InvalidCaip10Error({ reason: 'expected <namespace>:<reference>:<address> (CAIP-10)' })
  return { namespace: match[1]!, reference: match[2]!, address: match[3]! }
}

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

/**
 * Parses an EVM account id `eip155:<chainId>:<address>` (decimal chain id without leading zeros). The address may be
 * EIP-55 checksummed, or all lower or all upper case; mixed case must carry a valid checksum. With `strict`, only the
 * checksummed form is taken (the eip155 namespace's profile of CAIP-10: other forms "will not validate in
 * EIP155-conformant systems"). Returns the checksummed address.
 *
 * @example parseCaip10('eip155:31337:0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266') // { chainId: 31337, address }
 */
export function parseCaip10(value: string, { strict = false }: { strict?: boolean } = {}): Caip10Account {
  const { namespace, reference, address } = splitCaip10(value)
  if (namespace !== 'eip155')
    throw new InvalidCaip10Error({ reason: `namespace ${namespace} is not eip155 (EVM chains)` })
  if (!CHAIN_ID.test(reference))
    throw new InvalidCaip10Error({ reason: 'the eip155 chain id is a decimal number without leading zeros' })
  const chainId = Number(reference)
  if (!Number.isSafeInteger(chainId)) throw new InvalidCaip10Error({ reason: 'chainId is too large' })
  if (!EVM_ADDRESS.test(address))
    throw new InvalidCaip10Error({ reason: 'expected eip155:<chainId>:<0x-address>' })
  const checksummed = getAddress(address.toLowerCase())
  const digits = address.slice(2)
  const oneCase = digits === digits.toLowerCase() || digits === digits.toUpperCase()
  if (address !== checksummed && (strict || !oneCase))
    throw new InvalidCaip10Error({ reason: 'address checksum is wrong' })
  return { chainId, address: checksummed }
}
