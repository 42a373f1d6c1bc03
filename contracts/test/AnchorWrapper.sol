// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @dev Test-only (issue 9, attack 4): the part of MessageAnchor a front-runner calls.
interface IMessageAnchor {
    function anchor(bytes32 root, uint256 leafCount, bytes calldata meta) external;
}

/// @title AnchorWrapper (test only)
/// @notice Anchors a root through a contract, so the transaction's `to` is not MessageAnchor.
contract AnchorWrapper {
    function relay(IMessageAnchor target, bytes32 root, uint256 leafCount) external {
        target.anchor(root, leafCount, "wrapper");
    }
}

/// @title AnchorLookAlike (test only)
/// @notice Emits an event identical to MessageAnchor's `Anchored` without anchoring anything.
contract AnchorLookAlike {
    event Anchored(bytes32 indexed root, address indexed submitter, uint256 leafCount, bytes meta);

    function fake(bytes32 root, address submitter, uint256 leafCount) external {
        emit Anchored(root, submitter, leafCount, "");
    }
}
