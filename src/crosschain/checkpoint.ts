/**
 * Hyperlane checkpoints: the digest validators sign (libs/CheckpointLib.sol) and the MessageIdMultisigIsm metadata
 * (isms/libs/MessageIdMultisigIsmMetadata.sol) of @hyperlane-xyz/core.
 */
import {
  type Address,
  concatHex,
  encodePacked,
  type Hex,
  hashMessage,
  keccak256,
  type LocalAccount,
  numberToHex,
  recoverAddress,
} from 'viem'
import { addressToBytes32 } from './message.js'

/**
 * A checkpoint: the origin domain, its MerkleTreeHook, the tree's root after leaf `index`, and that leaf (the
 * message id).
 *
 * @example
 * const c: Checkpoint = { origin: 31337, merkleTreeHook, root, index: 0, messageId }
 */
export type Checkpoint = { origin: number; merkleTreeHook: Address; root: Hex; index: number; messageId: Hex }

/**
 * A checkpoint with one validator's 65-byte signature (r ‖ s ‖ v) over {@link checkpointDigest}.
 *
 * @example
 * const s: SignedCheckpoint = await signCheckpoint(account, checkpoint)
 */
export type SignedCheckpoint = { checkpoint: Checkpoint; signature: Hex }

/**
 * CheckpointLib.domainHash: keccak256(uint32 origin ‖ bytes32 merkleTreeHook ‖ "HYPERLANE").
 *
 * @example
 * checkpointDomainHash(31337, merkleTreeHook)
 */
export function checkpointDomainHash(origin: number, merkleTreeHook: Address): Hex {
  return keccak256(
    encodePacked(['uint32', 'bytes32', 'string'], [origin, addressToBytes32(merkleTreeHook), 'HYPERLANE']),
  )
}

/** keccak256(domainHash ‖ root ‖ uint32 index ‖ messageId): what the EIP-191 prefix wraps. */
function innerHash(checkpoint: Checkpoint): Hex {
  return keccak256(
    encodePacked(
      ['bytes32', 'bytes32', 'uint32', 'bytes32'],
      [
        checkpointDomainHash(checkpoint.origin, checkpoint.merkleTreeHook),
        checkpoint.root,
        checkpoint.index,
        checkpoint.messageId,
      ],
    ),
  )
}

/**
 * CheckpointLib.digest: the EIP-191 personal-message hash ("\x19Ethereum Signed Message:\n32" ‖ h) of
 * h = keccak256(domainHash ‖ root ‖ uint32 index ‖ messageId). The ISM recovers each signer from this digest.
 *
 * @example
 * recoverAddress({ hash: checkpointDigest(c), signature })
 */
export function checkpointDigest(checkpoint: Checkpoint): Hex {
  return hashMessage({ raw: innerHash(checkpoint) })
}

/**
 * Signs a checkpoint as a Hyperlane validator does (EIP-191 over the inner hash, v = 27 or 28).
 *
 * @example
 * const signed = await signCheckpoint(privateKeyToAccount(key), checkpoint)
 */
export async function signCheckpoint(
  account: LocalAccount,
  checkpoint: Checkpoint,
): Promise<SignedCheckpoint> {
  return { checkpoint, signature: await account.signMessage({ message: { raw: innerHash(checkpoint) } }) }
}

/**
 * The address that signed `signed` (ECDSA recovery over {@link checkpointDigest}); throws on a malformed signature.
 *
 * @example
 * const validator = await checkpointSigner(signed)
 */
export function checkpointSigner(signed: SignedCheckpoint): Promise<Address> {
  return recoverAddress({ hash: checkpointDigest(signed.checkpoint), signature: signed.signature })
}

/**
 * MessageIdMultisigIsm metadata: bytes32 origin MerkleTreeHook ‖ bytes32 root ‖ uint32 index ‖ the signatures,
 * 65 bytes each, in the order of the ISM's validator list. The ISM reads exactly `threshold` signatures: fewer make
 * its calldata slice revert without a reason; extra ones are ignored.
 *
 * @example
 * const metadata = encodeMessageIdMultisigMetadata({ checkpoint, signatures: [sigA, sigC] })
 */
export function encodeMessageIdMultisigMetadata({
  checkpoint,
  signatures,
}: {
  checkpoint: Checkpoint
  signatures: readonly Hex[]
}): Hex {
  return concatHex([
    addressToBytes32(checkpoint.merkleTreeHook),
    checkpoint.root,
    numberToHex(checkpoint.index, { size: 4 }),
    ...signatures,
  ])
}
