/** Hyperlane's incremental Merkle tree (libs/Merkle.sol, depth 32, keccak256), as a validator rebuilds it from logs. */
import { concatHex, type Hex, keccak256 } from 'viem'

const DEPTH = 32
const ZERO: Hex = `0x${'00'.repeat(32)}`

/** Z_0 = 0, Z_{i+1} = keccak256(Z_i ‖ Z_i): the roots of empty subtrees (MerkleLib's Z_0 … Z_31). */
const zeroHashes: Hex[] = (() => {
  const z: Hex[] = [ZERO]
  for (let i = 1; i < DEPTH; i++) z.push(keccak256(concatHex([z[i - 1]!, z[i - 1]!])))
  return z
})()

/**
 * An incremental Merkle tree: `branch` and `count`, as MerkleLib.Tree. Immutable: {@link insertLeaf} returns a new one.
 *
 * @example
 * let tree = emptyMerkleTree(); tree = insertLeaf(tree, messageId); merkleRoot(tree)
 */
export type MerkleTree = { readonly branch: readonly Hex[]; readonly count: number }

/** The tree with no leaf. @example merkleRoot(emptyMerkleTree()) */
export function emptyMerkleTree(): MerkleTree {
  return { branch: Array<Hex>(DEPTH).fill(ZERO), count: 0 }
}

/**
 * The tree with `leaf` appended (MerkleLib.insert).
 *
 * @example
 * const next = insertLeaf(tree, messageId) // leaf index = tree.count
 */
export function insertLeaf(tree: MerkleTree, leaf: Hex): MerkleTree {
  const branch = [...tree.branch]
  const count = tree.count + 1
  let size = count
  let node = leaf
  for (let i = 0; i < DEPTH; i++) {
    if ((size & 1) === 1) {
      branch[i] = node
      return { branch, count }
    }
    node = keccak256(concatHex([branch[i]!, node]))
    size = Math.floor(size / 2)
  }
  return { branch, count } // unreachable below 2^32 leaves (the hook reverts at 2^32 - 1)
}

/**
 * The root of `tree` (MerkleLib.root): what MerkleTreeHook.root() returns after the same insertions.
 *
 * @example
 * merkleRoot(insertLeaf(emptyMerkleTree(), id))
 */
export function merkleRoot(tree: MerkleTree): Hex {
  let current = ZERO
  for (let i = 0; i < DEPTH; i++) {
    const bit = Math.floor(tree.count / 2 ** i) % 2
    current =
      bit === 1
        ? keccak256(concatHex([tree.branch[i]!, current]))
        : keccak256(concatHex([current, zeroHashes[i]!]))
  }
  return current
}
