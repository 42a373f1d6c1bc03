// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {SealpostMirrorSender} from "./SealpostMirrorSender.sol";

/// @title Sealpost mirror (destination side of cross-chain mirroring)
/// @notice Records the KeyRegistry device records and MessageAnchor anchors of one origin chain, as dispatched by
/// that chain's SealpostMirrorSender through Hyperlane. It implements Hyperlane's IMessageRecipient (`handle`) and
/// ISpecifiesInterchainSecurityModule (`interchainSecurityModule`, a StaticMessageIdMultisigIsm fixed at deployment),
/// accepts `handle` only from its Mailbox, and checks the origin domain and the sender itself: a multisig ISM checks
/// signatures, not where a message comes from. Device records merge monotonically (a revocation is final, the
/// newest snapshot block wins), so messages may arrive in any order. No owner: nothing changes after deployment.
contract SealpostMirror {
    /// @dev One storage word plus one: account, added and revoked blocks; key hash and the newest snapshot block.
    struct Device {
        address account;
        uint40 addedAt;
        uint40 revokedAt;
        bytes18 mlsKeyHash;
        uint40 syncedAt;
    }

    struct Anchor {
        uint40 blockNumber;
        uint32 timestamp;
        uint24 leafCount;
    }

    address public immutable mailbox;
    address public immutable interchainSecurityModule;
    uint32 public immutable originDomain;
    bytes32 public immutable originSender;

    mapping(bytes32 deviceId => Device) private _devices;
    mapping(address submitter => mapping(bytes32 root => Anchor)) private _anchors;

    /// @notice A device snapshot of origin block `originBlock` was merged.
    event DeviceMirrored(
        address indexed account, bytes32 indexed deviceId, uint40 addedAt, uint40 revokedAt, uint256 originBlock
    );
    /// @notice An anchor of the origin chain was recorded (once per submitter and root).
    event AnchorMirrored(bytes32 indexed root, address indexed submitter, uint40 blockNumber, uint24 leafCount);

    error NotMailbox(address caller);
    error UnexpectedOrigin(uint32 origin);
    error UnexpectedSender(bytes32 sender);
    error UnknownPayloadKind(uint8 kind);
    /// @dev A snapshot names another account than the one already recorded for the device.
    error ConflictingDevice(bytes32 deviceId);

    constructor(address mailbox_, address ism_, uint32 originDomain_, bytes32 originSender_) {
        mailbox = mailbox_;
        interchainSecurityModule = ism_;
        originDomain = originDomain_;
        originSender = originSender_;
    }

    /// @notice Hyperlane delivery (IMessageRecipient). Not payable: a delivery carrying value reverts.
    function handle(uint32 origin, bytes32 sender, bytes calldata body) external {
        if (msg.sender != mailbox) revert NotMailbox(msg.sender);
        if (origin != originDomain) revert UnexpectedOrigin(origin);
        if (sender != originSender) revert UnexpectedSender(sender);
        uint8 kind = abi.decode(body, (uint8));
        if (kind == 1) {
            (, uint256 originBlock, SealpostMirrorSender.DeviceSnapshot[] memory items) =
                abi.decode(body, (uint8, uint256, SealpostMirrorSender.DeviceSnapshot[]));
            for (uint256 i = 0; i < items.length; i++) {
                _mergeDevice(items[i], originBlock);
            }
        } else if (kind == 2) {
            (,, SealpostMirrorSender.AnchorSnapshot[] memory items) =
                abi.decode(body, (uint8, uint256, SealpostMirrorSender.AnchorSnapshot[]));
            for (uint256 i = 0; i < items.length; i++) {
                SealpostMirrorSender.AnchorSnapshot memory a = items[i];
                if (_anchors[a.submitter][a.root].leafCount != 0) continue;
                _anchors[a.submitter][a.root] = Anchor(a.blockNumber, a.timestamp, a.leafCount);
                emit AnchorMirrored(a.root, a.submitter, a.blockNumber, a.leafCount);
            }
        } else {
            revert UnknownPayloadKind(kind);
        }
    }

    /// @notice The mirrored record of `deviceId`: its account, added and revoked origin blocks (0 = not revoked as
    /// of `syncedAt`), the first 18 bytes of keccak256(mlsKey), and the newest origin block a snapshot of it was
    /// taken at. All zero for a device never mirrored.
    function deviceRecord(bytes32 deviceId)
        external
        view
        returns (address account, uint40 addedAt, uint40 revokedAt, bytes18 mlsKeyHash, uint40 syncedAt)
    {
        Device memory d = _devices[deviceId];
        return (d.account, d.addedAt, d.revokedAt, d.mlsKeyHash, d.syncedAt);
    }

    /// @notice True iff the mirror knows that `deviceId` belonged to `account` and was active at origin block
    /// `originBlock`: added at or before it, and either revoked after it, or not revoked and mirrored as of a
    /// snapshot at or after it (a later block is "not yet mirrored": false).
    function isValidAt(address account, bytes32 deviceId, uint256 originBlock) public view returns (bool) {
        Device memory d = _devices[deviceId];
        if (d.account == address(0) || d.account != account || d.addedAt > originBlock) return false;
        return d.revokedAt != 0 ? originBlock < d.revokedAt : originBlock <= d.syncedAt;
    }

    /// @notice isValidAt for keys given in calldata, as KeyRegistry.isValidKeyAt.
    function isValidKeyAt(address account, bytes32 p256X, bytes32 p256Y, bytes32 mlsKeyHash, uint256 originBlock)
        external
        view
        returns (bool)
    {
        bytes32 deviceId = keccak256(abi.encodePacked(p256X, p256Y));
        return isValidAt(account, deviceId, originBlock) && _devices[deviceId].mlsKeyHash == bytes18(mlsKeyHash);
    }

    /// @notice The mirrored anchor `submitter` made of `root` on the origin chain, as MessageAnchor.anchorOf there:
    /// origin block, its timestamp, batch size; three zeros when not (yet) mirrored.
    function anchorOf(address submitter, bytes32 root)
        external
        view
        returns (uint40 blockNumber, uint32 timestamp, uint24 leafCount)
    {
        Anchor memory a = _anchors[submitter][root];
        return (a.blockNumber, a.timestamp, a.leafCount);
    }

    function _mergeDevice(SealpostMirrorSender.DeviceSnapshot memory s, uint256 originBlock) private {
        Device storage d = _devices[s.deviceId];
        if (d.account == address(0)) {
            d.account = s.account;
            d.addedAt = s.addedAt;
            d.mlsKeyHash = s.mlsKeyHash;
        } else if (d.account != s.account) {
            revert ConflictingDevice(s.deviceId);
        }
        if (d.revokedAt == 0 && s.revokedAt != 0) d.revokedAt = s.revokedAt;
        if (originBlock > d.syncedAt) d.syncedAt = uint40(originBlock);
        emit DeviceMirrored(s.account, s.deviceId, d.addedAt, d.revokedAt, originBlock);
    }
}
