// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {StatementVerifier} from "../StatementVerifier.sol";

/// @title SignedEscrow (example consumer of StatementVerifier)
/// @notice Holds ether for `beneficiary` and pays it out once `signer` (an account, through any of its registered
/// devices) has sent the agreed instruction as a Sealpost message and that message was anchored in time. The
/// instruction is fixed when the escrow is made, by its v2 body hash: sha256("sealpost/v2/body" ‖ 0x00 ‖ 0x01 ‖ text)
/// for a text body, so only that exact text releases it. Anyone may submit the proof; the ether goes to the
/// beneficiary only.
contract SignedEscrow {
    StatementVerifier public immutable verifier;
    address public immutable signer;
    address payable public immutable beneficiary;
    bytes32 public immutable instructionBodyHash;
    bool public released;

    event Released(address indexed signer, bytes32 indexed deviceId, bytes32 leaf, uint256 amount);

    error AlreadyReleased();
    error WrongSigner(address account);
    error WrongInstruction(bytes32 bodyHash);
    error PayoutFailed();

    constructor(StatementVerifier verifier_, address signer_, address payable beneficiary_, bytes32 bodyHash_)
        payable
    {
        verifier = verifier_;
        signer = signer_;
        beneficiary = beneficiary_;
        instructionBodyHash = bodyHash_;
    }

    /// @notice Pays the escrow out given a verified statement of `signer` whose body is the instruction. The arguments
    /// are StatementVerifier.verify's; any failing check reverts with the verifier's error.
    function release(
        bytes calldata statement,
        bytes calldata signature,
        bytes32 deviceId,
        bytes32 p256X,
        bytes32 p256Y,
        bytes calldata successorHeader,
        StatementVerifier.Receipt calldata receipt
    ) external {
        if (released) revert AlreadyReleased();
        StatementVerifier.Verdict memory v =
            verifier.verify(statement, signature, deviceId, p256X, p256Y, successorHeader, receipt);
        if (v.account != signer) revert WrongSigner(v.account);
        if (v.bodyHash != instructionBodyHash) revert WrongInstruction(v.bodyHash);
        released = true;
        uint256 amount = address(this).balance;
        emit Released(v.account, v.deviceId, v.leaf, amount);
        (bool ok,) = beneficiary.call{value: amount}("");
        if (!ok) revert PayoutFailed();
    }
}
