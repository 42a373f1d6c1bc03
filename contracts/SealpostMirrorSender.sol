// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @dev The part of Hyperlane's IMailbox (@hyperlane-xyz/core contracts/interfaces/IMailbox.sol) this sender calls.
interface IMirrorMailbox {
    function dispatch(uint32 destinationDomain, bytes32 recipientAddress, bytes calldata messageBody)
        external
        payable
        returns (bytes32 messageId);
}

/// @dev The KeyRegistry views the sender reads (contracts/KeyRegistry.sol).
interface IMirrorKeyRegistry {
    function accountIndex(address account) external view returns (uint32);
    function deviceRecord(bytes32 deviceId)
        external
        view
        returns (uint32 account, uint40 addedAt, uint40 revokedAt, bytes18 mlsKeyHash);
}

/// @dev The MessageAnchor view the sender reads (contracts/MessageAnchor.sol).
interface IMirrorMessageAnchor {
    function anchorOf(address submitter, bytes32 root)
        external
        view
        returns (uint40 blockNumber, uint32 timestamp, uint24 leafCount);
}

/// @title Sealpost mirror sender (origin side of cross-chain mirroring)
/// @notice Dispatches snapshots of this chain's KeyRegistry device records and MessageAnchor anchors through this
/// chain's Hyperlane Mailbox. It reads every value it sends from the registry and the anchor contract itself, so the
/// caller (a keeper, or anyone) chooses only *which* records to send and where, never their content: a mirror that
/// trusts this sender trusts the registry's state as of the dispatching block. Permissionless, no owner.
/// Payload (docs/cross-chain.md): abi.encode(uint8 kind, uint256 originBlock, Snapshot[] items), kind 1 = devices
/// (DeviceSnapshot), kind 2 = anchors (AnchorSnapshot); originBlock is this chain's block.number at dispatch.
contract SealpostMirrorSender {
    /// @notice One device record as of `originBlock`.
    struct DeviceSnapshot {
        address account;
        bytes32 deviceId;
        uint40 addedAt;
        uint40 revokedAt;
        bytes18 mlsKeyHash;
    }

    /// @notice One anchor as of `originBlock`.
    struct AnchorSnapshot {
        address submitter;
        bytes32 root;
        uint40 blockNumber;
        uint32 timestamp;
        uint24 leafCount;
    }

    uint8 public constant KIND_DEVICES = 1;
    uint8 public constant KIND_ANCHORS = 2;

    IMirrorMailbox public immutable mailbox;
    IMirrorKeyRegistry public immutable keyRegistry;
    IMirrorMessageAnchor public immutable messageAnchor;

    /// @dev `accounts` and the other list differ in length, or both are empty.
    error BadBatch();
    /// @dev `deviceId` is not a device of `account` in the KeyRegistry.
    error UnknownDevice(address account, bytes32 deviceId);
    /// @dev `submitter` never anchored `root` in the MessageAnchor.
    error NotAnchored(address submitter, bytes32 root);

    constructor(address mailbox_, address keyRegistry_, address messageAnchor_) {
        mailbox = IMirrorMailbox(mailbox_);
        keyRegistry = IMirrorKeyRegistry(keyRegistry_);
        messageAnchor = IMirrorMessageAnchor(messageAnchor_);
    }

    /// @notice Dispatches the current records of `deviceIds` (each owned by the account at the same position) to
    /// `recipient` on `destination`; returns the Hyperlane message id. msg.value pays the Mailbox's hooks.
    function mirrorDevices(uint32 destination, bytes32 recipient, address[] calldata accounts, bytes32[] calldata deviceIds)
        external
        payable
        returns (bytes32)
    {
        if (accounts.length == 0 || accounts.length != deviceIds.length) revert BadBatch();
        DeviceSnapshot[] memory items = new DeviceSnapshot[](accounts.length);
        for (uint256 i = 0; i < accounts.length; i++) {
            (uint32 index, uint40 addedAt, uint40 revokedAt, bytes18 mlsKeyHash) = keyRegistry.deviceRecord(deviceIds[i]);
            if (index == 0 || keyRegistry.accountIndex(accounts[i]) != index) {
                revert UnknownDevice(accounts[i], deviceIds[i]);
            }
            items[i] = DeviceSnapshot(accounts[i], deviceIds[i], addedAt, revokedAt, mlsKeyHash);
        }
        return mailbox.dispatch{value: msg.value}(
            destination, recipient, abi.encode(KIND_DEVICES, block.number, items)
        );
    }

    /// @notice Dispatches the anchors `submitters[i]` made of `roots[i]` to `recipient` on `destination`; returns the
    /// Hyperlane message id. msg.value pays the Mailbox's hooks.
    function mirrorAnchors(uint32 destination, bytes32 recipient, address[] calldata submitters, bytes32[] calldata roots)
        external
        payable
        returns (bytes32)
    {
        if (submitters.length == 0 || submitters.length != roots.length) revert BadBatch();
        AnchorSnapshot[] memory items = new AnchorSnapshot[](submitters.length);
        for (uint256 i = 0; i < submitters.length; i++) {
            (uint40 blockNumber, uint32 timestamp, uint24 leafCount) = messageAnchor.anchorOf(submitters[i], roots[i]);
            if (leafCount == 0) revert NotAnchored(submitters[i], roots[i]);
            items[i] = AnchorSnapshot(submitters[i], roots[i], blockNumber, timestamp, leafCount);
        }
        return mailbox.dispatch{value: msg.value}(
            destination, recipient, abi.encode(KIND_ANCHORS, block.number, items)
        );
    }
}
