// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title RFC 6962 inclusion proofs
/// @notice The root an inclusion proof leads to, for MessageAnchor and StatementVerifier alike: trees follow RFC 6962
/// section 2.1 (SHA-256, 0x00 leaf prefix, 0x01 node prefix), proofs RFC 9162 section 2.1.3.2.
library MerkleInclusion {
    /// @return ok false when the proof does not fit a tree of treeSize leaves (index out of range, path too short
    /// or too long); r the root it leads to when ok.
    function computeRoot(bytes32 leaf, uint256 index, uint256 treeSize, bytes32[] calldata path)
        internal
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
