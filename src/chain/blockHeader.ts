/** A block's RLP-encoded header, rebuilt from the RPC's JSON and checked against the block hash. */
import { type Client, type Hex, keccak256, numberToHex, toRlp } from 'viem'
import { ChainRequestError, withChainErrors } from './errors.js'

type RawBlock = Record<string, Hex | null | undefined | unknown>

// Header fields in RLP order; `q` marks integers (minimal big-endian, 0 as the empty string).
const FIELDS: readonly (readonly [string, 'bytes' | 'q', 'always' | 'optional'])[] = [
  ['parentHash', 'bytes', 'always'],
  ['sha3Uncles', 'bytes', 'always'],
  ['miner', 'bytes', 'always'],
  ['stateRoot', 'bytes', 'always'],
  ['transactionsRoot', 'bytes', 'always'],
  ['receiptsRoot', 'bytes', 'always'],
  ['logsBloom', 'bytes', 'always'],
  ['difficulty', 'q', 'always'],
  ['number', 'q', 'always'],
  ['gasLimit', 'q', 'always'],
  ['gasUsed', 'q', 'always'],
  ['timestamp', 'q', 'always'],
  ['extraData', 'bytes', 'always'],
  ['mixHash', 'bytes', 'always'],
  ['nonce', 'bytes', 'always'],
  ['baseFeePerGas', 'q', 'optional'], // London
  ['withdrawalsRoot', 'bytes', 'optional'], // Shanghai
  ['blobGasUsed', 'q', 'optional'], // Cancun
  ['excessBlobGas', 'q', 'optional'],
  ['parentBeaconBlockRoot', 'bytes', 'optional'],
  ['requestsHash', 'bytes', 'optional'], // Prague
]

/**
 * The RLP encoding of block `blockNumber`'s header (what keccak256 hashes to the block hash), or undefined if the
 * chain has no such block yet. Throws `ChainRequestError` if the rebuilt header does not hash to the block's hash
 * (a chain with header fields this encoder does not know).
 *
 * @example const header = await getBlockHeaderRlp(publicClient, statement.block.number + 1n)
 */
export async function getBlockHeaderRlp(client: Client, blockNumber: bigint): Promise<Hex | undefined> {
  const raw = (await withChainErrors(() =>
    client.request({ method: 'eth_getBlockByNumber', params: [numberToHex(blockNumber), false] } as never),
  )) as RawBlock | null
  if (!raw) return undefined
  const items: Hex[] = []
  for (const [name, kind, presence] of FIELDS) {
    const value = raw[name]
    if (value === undefined || value === null) {
      if (presence === 'always') throw mismatch(blockNumber, `field ${name} is missing`)
      break
    }
    items.push(kind === 'q' ? quantity(value as Hex) : (value as Hex))
  }
  const rlp = toRlp(items)
  if (keccak256(rlp) !== String(raw.hash).toLowerCase())
    throw mismatch(blockNumber, 'the rebuilt header does not hash to the block hash')
  return rlp
}

function quantity(value: Hex): Hex {
  const digits = value.slice(2).replace(/^0+/, '')
  if (digits.length === 0) return '0x'
  return `0x${digits.length % 2 === 1 ? `0${digits}` : digits}`
}

function mismatch(blockNumber: bigint, reason: string): ChainRequestError {
  return new ChainRequestError({ cause: new Error(`Block ${blockNumber} header: ${reason}.`) })
}
