// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Sealpost MessageAnchor
/// @notice Timestamps Merkle roots of message-statement batches. Anyone may anchor; a root is
/// anchored once. Trees follow RFC 6962 section 2.1 (SHA-256, 0x00 leaf prefix, 0x01 node prefix),
/// proofs follow RFC 9162 section 2.1.3.2.
contract MessageAnchor {
    /// @dev One storage slot: 160 + 40 + 32 + 24 bits.
    struct Anchor {
        address submitter;
        uint40 blockNumber;
        uint32 timestamp;
        uint24 leafCount;
    }

    /// @notice Largest accepted `meta` blob in bytes.
    uint256 public constant MAX_META_LENGTH = 1024;
    /// @notice Largest batch size (uint24).
    uint256 public constant MAX_LEAF_COUNT = 2 ** 24 - 1;

    /// @notice Anchored roots; submitter is address(0) for a root never anchored.
    mapping(bytes32 root => Anchor) public anchors;

    /// @notice Emitted once per anchored root. The block number and timestamp are not repeated here:
    /// they are in the log's block (and in anchors(root)).
    event Anchored(bytes32 indexed root, address indexed submitter, uint256 leafCount, bytes meta);

    error ZeroRoot();
    error AlreadyAnchored(bytes32 root);
    error InvalidLeafCount(uint256 leafCount);
    error MetaTooLarge(uint256 length);
    error InvalidProof();

    /// @notice Anchors `root`, the RFC 6962 root of a batch of `leafCount` leaves.
    function anchor(bytes32 root, uint256 leafCount, bytes calldata meta) external {
        if (root == bytes32(0)) revert ZeroRoot();
        if (leafCount == 0 || leafCount > MAX_LEAF_COUNT) revert InvalidLeafCount(leafCount);
        if (meta.length > MAX_META_LENGTH) revert MetaTooLarge(meta.length);
        // One mapping lookup for the check and the write; the optimizer merges the member writes into a
        // single SSTORE of the packed slot. The casts cannot truncate: leafCount <= MAX_LEAF_COUNT was
        // checked, block numbers fit 40 bits, timestamps fit 32 bits until 2106.
        Anchor storage a = anchors[root];
        if (a.submitter != address(0)) revert AlreadyAnchored(root);
        a.submitter = msg.sender;
        a.blockNumber = uint40(block.number);
        a.timestamp = uint32(block.timestamp);
        a.leafCount = uint24(leafCount);
        emit Anchored(root, msg.sender, leafCount, meta);
    }

    /// @notice True iff `root` is anchored and `path` proves `leaf` at `index` in its tree.
    function verifyInclusion(bytes32 root, bytes32 leaf, uint256 index, bytes32[] calldata path)
        external
        view
        returns (bool)
    {
        Anchor memory a = anchors[root];
        if (a.submitter == address(0)) return false;
        (bool ok, bytes32 computed) = _computeRoot(leaf, index, a.leafCount, path);
        return ok && computed == root;
    }

    /// @notice Root implied by an inclusion proof (RFC 9162 section 2.1.3.2); reverts InvalidProof on
    /// a malformed proof (index >= treeSize, wrong path length).
    function computeRoot(bytes32 leaf, uint256 index, uint256 treeSize, bytes32[] calldata path)
        external
        pure
        returns (bytes32)
    {
        (bool ok, bytes32 r) = _computeRoot(leaf, index, treeSize, path);
        if (!ok) revert InvalidProof();
        return r;
    }

    function _computeRoot(bytes32 leaf, uint256 index, uint256 treeSize, bytes32[] calldata path)
        private
        pure
        returns (bool ok, bytes32 r)
    {
        if (index >= treeSize) return (false, bytes32(0));
        uint256 fn = index;
        uint256 sn = treeSize - 1;
        r = sha256(abi.encodePacked(bytes1(0x00), leaf));
        for (uint256 i = 0; i < path.length; ++i) {
            if (sn == 0) return (false, bytes32(0));
            bytes32 p = path[i];
            if (fn & 1 == 1 || fn == sn) {
                r = sha256(abi.encodePacked(bytes1(0x01), p, r));
                if (fn & 1 == 0) {
                    while (fn & 1 == 0 && fn != 0) {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            } else {
                r = sha256(abi.encodePacked(bytes1(0x01), r, p));
            }
            fn >>= 1;
            sn >>= 1;
        }
        if (sn != 0) return (false, bytes32(0));
        return (true, r);
    }
}
