// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title RecoverableWallet (test and bench only)
/// @notice A minimal ERC-1271 smart-contract account: a hash is signed when its owner key signed it (ECDSA over the
/// hash as given). A guardian (a multisig or a social-recovery module in a real wallet) may replace a lost owner key.
contract RecoverableWallet is IERC1271 {
    address public owner;
    address public immutable guardian;

    event OwnerReplaced(address indexed previousOwner, address indexed newOwner);

    error NotGuardian();

    constructor(address owner_, address guardian_) {
        owner = owner_;
        guardian = guardian_;
    }

    /// @notice ERC-1271: the magic value iff `signature` is the owner's ECDSA signature of `hash`.
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(hash, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == owner) return IERC1271.isValidSignature.selector;
        return 0xffffffff;
    }

    /// @notice Account recovery: the guardian installs a new owner key; signatures of the old one stop counting.
    function replaceOwner(address newOwner) external {
        if (msg.sender != guardian) revert NotGuardian();
        emit OwnerReplaced(owner, newOwner);
        owner = newOwner;
    }
}
