/** The recipients commitment of a v2 message statement: an RFC 6962 Merkle tree over the member accounts. */
import { type Address, getAddress, type Hex, isAddress } from 'viem'
import { ValidationError } from '../errors.js'
import { LABEL_RECIPIENTS, labelledHash } from './labels.js'
import { buildMerkleTree, inclusionProof, type MerkleTree, verifyInclusion } from './merkle.js'

/**
 * An inclusion proof of one account in a recipients tree (RFC 9162 audit path).
 *
 * @example const proof: RecipientProof = { index: 1, treeSize: 2, path: ['0x…'] }
 */
export type RecipientProof = { index: number; treeSize: number; path: Hex[] }

/** A recipients list holds something that is not an address, or a chain id that is not usable. @example new InvalidRecipientsError({ reason: 'not an address' }) */
export class InvalidRecipientsError extends ValidationError {
  override name = 'InvalidRecipientsError' as const
  constructor({ reason }: { reason: string }) {
    super('Recipients are invalid.', {
      metaMessages: [`Reason: ${reason}`],
      code: 'SEALPOST_INVALID_RECIPIENTS',
    })
  }
}

/**
 * A recipients leaf's data: SHA-256(`sealpost/v2/recipients` || 0x00 || chainId u64 || account 20).
 *
 * @example recipientLeaf(31337, '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266') // '0x…' (32 bytes)
 */
export function recipientLeaf(chainId: number, account: Address): Hex {
  if (!Number.isSafeInteger(chainId) || chainId <= 0)
    throw new InvalidRecipientsError({ reason: 'chainId must be a positive safe integer' })
  if (typeof account !== 'string' || !isAddress(account, { strict: false }))
    throw new InvalidRecipientsError({ reason: `${String(account)} is not an address` })
  const id = new Uint8Array(8)
  new DataView(id.buffer).setBigUint64(0, BigInt(chainId), false)
  const digest = labelledHash(LABEL_RECIPIENTS, id, Buffer.from(account.slice(2), 'hex'))
  return `0x${Buffer.from(digest).toString('hex')}`
}

/**
 * The accounts in tree order: checksummed, deduplicated, ascending by their 20 bytes.
 *
 * @example sortedRecipients([bob, alice, bob]) // [alice, bob] if alice < bob
 */
export function sortedRecipients(accounts: readonly Address[]): Address[] {
  const unique = new Map<string, Address>()
  for (const account of accounts) {
    if (typeof account !== 'string' || !isAddress(account, { strict: false }))
      throw new InvalidRecipientsError({ reason: `${String(account)} is not an address` })
    unique.set(account.toLowerCase(), getAddress(account))
  }
  return [...unique.keys()].sort().map((key) => unique.get(key)!)
}

function recipientsTree(
  chainId: number,
  accounts: readonly Address[],
): { tree: MerkleTree; sorted: Address[] } {
  const sorted = sortedRecipients(accounts)
  return { tree: buildMerkleTree(sorted.map((a) => recipientLeaf(chainId, a))), sorted }
}

/**
 * The statement's `recipientsRoot`: the RFC 6962 root over `recipientLeaf(chainId, account)` of every account, in
 * ascending order without duplicates (so the same set gives the same root whatever the input order).
 *
 * @example const root = recipientsRoot(31337, [alice, bob])
 */
export function recipientsRoot(chainId: number, accounts: readonly Address[]): Hex {
  return recipientsTree(chainId, accounts).tree.root
}

/**
 * The proof that `account` is one of `accounts` (undefined if it is not): what a log entry keeps, so a transcript
 * shows "I was a recipient" without naming the other members.
 *
 * @example const proof = recipientProof(31337, [alice, bob], bob)
 */
export function recipientProof(
  chainId: number,
  accounts: readonly Address[],
  account: Address,
): RecipientProof | undefined {
  const { tree, sorted } = recipientsTree(chainId, accounts)
  const index = sorted.findIndex((a) => a.toLowerCase() === account.toLowerCase())
  if (index < 0) return undefined
  return { index, treeSize: tree.size, path: inclusionProof(tree, index) }
}

/**
 * True iff `proof` leads from `account`'s leaf to `root`. Never throws (a malformed proof is false).
 *
 * @example verifyRecipientProof({ chainId: 31337, account: bob, proof, root: statement.recipientsRoot }) // true
 */
export function verifyRecipientProof({
  chainId,
  account,
  proof,
  root,
}: {
  chainId: number
  account: Address
  proof: unknown
  root: Hex
}): boolean {
  try {
    const p = proof as RecipientProof
    if (typeof p !== 'object' || p === null || !Array.isArray(p.path)) return false
    return verifyInclusion({
      leaf: recipientLeaf(chainId, account),
      index: p.index,
      treeSize: p.treeSize,
      path: p.path,
      root,
    })
  } catch {
    return false
  }
}
