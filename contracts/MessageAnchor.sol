// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MerkleInclusion} from "./MerkleInclusion.sol";

/// @title Sealpost MessageAnchor (v2)
/// @notice Timestamps Merkle roots of message-statement batches. Anyone may anchor; anchors are namespaced
/// by submitter, so a root anchored by someone else (directly or through any contract) never blocks or
/// changes the caller's own anchor of the same root. Trees follow RFC 6962 section 2.1 (SHA-256, 0x00 leaf
/// prefix, 0x01 node prefix), proofs follow RFC 9162 section 2.1.3.2.
contract MessageAnchor {
    /// @dev One storage slot: 40 + 32 + 24 bits. leafCount is never 0 for an existing anchor.
    struct Anchor {
        uint40 blockNumber;
        uint32 timestamp;
        uint24 leafCount;
    }

    /// @notice Largest accepted `meta` blob in bytes.
    uint256 public constant MAX_META_LENGTH = 1024;
    /// @notice Largest batch size (uint24).
    uint256 public constant MAX_LEAF_COUNT = 2 ** 24 - 1;

    mapping(address submitter => mapping(bytes32 root => Anchor)) private _anchors;

    /// @notice Emitted once per (submitter, root). The block number and timestamp are not repeated here:
    /// they are in the log's block (and in anchorOf(submitter, root)). `submitter` is msg.sender.
    event Anchored(bytes32 indexed root, address indexed submitter, uint256 leafCount, bytes meta);

    error ZeroRoot();
    /// @dev msg.sender already anchored `root` (only the caller's own anchors collide).
    error AlreadyAnchored(bytes32 root);
    error InvalidLeafCount(uint256 leafCount);
    error MetaTooLarge(uint256 length);
    error InvalidProof();

    /// @notice Anchors `root`, the RFC 6962 root of a batch of `leafCount` leaves, under msg.sender.
    function anchor(bytes32 root, uint256 leafCount, bytes calldata meta) external {
        if (root == bytes32(0)) revert ZeroRoot();
        if (leafCount == 0 || leafCount > MAX_LEAF_COUNT) revert InvalidLeafCount(leafCount);
        if (meta.length > MAX_META_LENGTH) revert MetaTooLarge(meta.length);
        // The casts cannot truncate: leafCount <= MAX_LEAF_COUNT was checked, block numbers fit 40 bits,
        // timestamps fit 32 bits until 2106.
        Anchor storage a = _anchors[msg.sender][root];
        if (a.leafCount != 0) revert AlreadyAnchored(root);
        _anchors[msg.sender][root] = Anchor(uint40(block.number), uint32(block.timestamp), uint24(leafCount));
        emit Anchored(root, msg.sender, leafCount, meta);
    }

    /// @notice The anchor `submitter` made of `root`; all zero if it never anchored it.
    function anchorOf(address submitter, bytes32 root)
        external
        view
        returns (uint40 blockNumber, uint32 timestamp, uint24 leafCount)
    {
        Anchor memory a = _anchors[submitter][root];
        return (a.blockNumber, a.timestamp, a.leafCount);
    }

    /// @notice True iff `submitter` anchored `root` and `path` proves `leaf` at `index` in its tree.
    function verifyInclusion(address submitter, bytes32 root, bytes32 leaf, uint256 index, bytes32[] calldata path)
        external
        view
        returns (bool)
    {
        Anchor memory a = _anchors[submitter][root];
        if (a.leafCount == 0) return false;
        (bool ok, bytes32 computed) = MerkleInclusion.computeRoot(leaf, index, a.leafCount, path);
        return ok && computed == root;
    }

    /// @notice Root implied by an inclusion proof (RFC 9162 section 2.1.3.2); reverts InvalidProof on
    /// a malformed proof (index >= treeSize, wrong path length).
    function computeRoot(bytes32 leaf, uint256 index, uint256 treeSize, bytes32[] calldata path)
        external
        pure
        returns (bytes32)
    {
        (bool ok, bytes32 r) = MerkleInclusion.computeRoot(leaf, index, treeSize, path);
        if (!ok) revert InvalidProof();
        return r;
    }
}
