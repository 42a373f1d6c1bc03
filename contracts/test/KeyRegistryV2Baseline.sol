// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

/// @title KeyRegistryV2Baseline (bench only): the KeyRegistry as of commit 3a053c0, before the one-slot layout
/// @notice Maps Ethereum accounts to their device keys (ECDSA P-256 statement key + MLS signature key).
/// Every change is authorized by an EIP-712 signature of the account (EOA or ERC-1271) and may be
/// submitted by anyone. The full history stays queryable: "which keys were valid at block B".
/// A new P-256 key must come with a proof of possession for the account, checked here with the P256VERIFY
/// precompile (EIP-7951), so nobody can register (squat) someone else's key. The MLS key's proof of
/// possession (`mlsPop`) is covered by the account's signature and emitted in DeviceAdded; clients check it.
contract KeyRegistryV2Baseline is EIP712, Nonces {
    /// @dev Public view of a device record.
    struct Device {
        bytes32 p256X;
        bytes32 p256Y;
        bytes mlsKey;
        uint64 addedAt;
        uint64 revokedAt; // 0 = active
    }

    /// @dev Element returned by getDevices().
    struct DeviceInfo {
        bytes32 deviceId;
        bytes32 p256X;
        bytes32 p256Y;
        bytes mlsKey;
        uint64 addedAt;
        uint64 revokedAt;
    }

    /// @dev A new device's keys with their proofs of possession (argument of addDevice and rotateDevice).
    /// (popR, popS): the device's P-256 signature of the proof-of-possession message (see _checkP256Pop);
    /// mlsPop: the MLS key's signature (docs/protocol.md section 2), emitted for clients to check.
    struct NewDevice {
        bytes32 p256X;
        bytes32 p256Y;
        bytes mlsKey;
        bytes32 popR;
        bytes32 popS;
        bytes mlsPop;
    }

    /// @dev Storage layout: owner and both block numbers share one slot.
    struct Stored {
        bytes32 p256X;
        bytes32 p256Y;
        address owner;
        uint40 addedAt;
        uint40 revokedAt;
        bytes mlsKey;
    }

    bytes32 public constant ADD_DEVICE_TYPEHASH = keccak256(
        "AddDevice(address account,bytes32 p256X,bytes32 p256Y,bytes mlsKey,bytes mlsPop,uint256 nonce,uint256 deadline)"
    );
    bytes32 public constant REVOKE_DEVICE_TYPEHASH =
        keccak256("RevokeDevice(address account,bytes32 deviceId,uint256 nonce,uint256 deadline)");
    bytes32 public constant ROTATE_DEVICE_TYPEHASH = keccak256(
        "RotateDevice(address account,bytes32 oldDeviceId,bytes32 p256X,bytes32 p256Y,bytes mlsKey,bytes mlsPop,uint256 nonce,uint256 deadline)"
    );

    /// @notice Largest accepted MLS signature key (ML-DSA-87 public key size).
    uint256 public constant MAX_MLS_KEY_LENGTH = 2592;
    /// @notice Largest accepted MLS proof of possession (ML-DSA-87 signature size).
    uint256 public constant MAX_MLS_POP_LENGTH = 4627;
    /// @notice Domain label of the P-256 proof of possession (followed by a 0x00 byte).
    string public constant P256_POP_LABEL = "sealpost/v2/pop-p256";

    /// @dev EIP-7951 P256VERIFY precompile (Osaka): input hash ‖ r ‖ s ‖ x ‖ y, output 32-byte 1 or empty.
    address private constant P256_VERIFY = address(0x100);

    // P-256 (secp256r1) field prime and curve coefficient b (a = -3).
    uint256 private constant P256_P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffff;
    uint256 private constant P256_B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b;

    mapping(bytes32 deviceId => Stored) private _devices;
    mapping(address account => bytes32[]) private _deviceIds;

    event DeviceAdded(
        address indexed account, bytes32 indexed deviceId, bytes32 p256X, bytes32 p256Y, bytes mlsKey, bytes mlsPop
    );
    event DeviceRevoked(address indexed account, bytes32 indexed deviceId);
    event DeviceRotated(address indexed account, bytes32 indexed oldDeviceId, bytes32 indexed newDeviceId);

    error InvalidSignature();
    /// @dev `nonce` is not the account's current nonces(account) (replayed or future authorization).
    error InvalidNonce(uint256 expected);
    error SignatureExpired(uint256 deadline);
    error DuplicateKey(bytes32 deviceId);
    error UnknownDevice(bytes32 deviceId);
    error DeviceAlreadyRevoked(bytes32 deviceId);
    error MalformedKey();
    /// @dev The P-256 proof of possession does not verify for this account, chain, registry and key pair.
    error InvalidProofOfPossession();

    constructor() EIP712("Sealpost KeyRegistry", "2") {}

    /// @notice Registers a device for `account`, authorized by the account's EIP-712 signature over
    /// `nonce` (must equal nonces(account)) and `deadline`, and by the device's proofs of possession.
    function addDevice(
        address account,
        NewDevice calldata device,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external returns (bytes32 deviceId) {
        _checkNonceAndDeadline(account, nonce, deadline);
        bytes32 structHash = keccak256(
            abi.encode(
                ADD_DEVICE_TYPEHASH,
                account,
                device.p256X,
                device.p256Y,
                keccak256(device.mlsKey),
                keccak256(device.mlsPop),
                nonce,
                deadline
            )
        );
        _checkSignature(account, structHash, signature);
        _useNonce(account);
        deviceId = _add(account, device);
    }

    /// @notice Revokes one of `account`'s devices from this block on.
    function revokeDevice(
        address account,
        bytes32 deviceId,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        _checkNonceAndDeadline(account, nonce, deadline);
        bytes32 structHash = keccak256(abi.encode(REVOKE_DEVICE_TYPEHASH, account, deviceId, nonce, deadline));
        _checkSignature(account, structHash, signature);
        _useNonce(account);
        _revoke(account, deviceId);
    }

    /// @notice Atomically revokes `oldDeviceId` and registers a new device for `account`.
    function rotateDevice(
        address account,
        bytes32 oldDeviceId,
        NewDevice calldata device,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external returns (bytes32 newDeviceId) {
        _checkNonceAndDeadline(account, nonce, deadline);
        _checkSignature(account, _rotateStructHash(account, oldDeviceId, device, nonce, deadline), signature);
        _useNonce(account);
        _revoke(account, oldDeviceId);
        newDeviceId = _add(account, device);
        emit DeviceRotated(account, oldDeviceId, newDeviceId);
    }

    /// @notice Every device ever registered for `account`, in registration order (revoked ones included).
    function getDevices(address account) external view returns (DeviceInfo[] memory devices) {
        bytes32[] storage ids = _deviceIds[account];
        devices = new DeviceInfo[](ids.length);
        for (uint256 i = 0; i < ids.length; ++i) {
            Stored storage s = _devices[ids[i]];
            devices[i] = DeviceInfo(ids[i], s.p256X, s.p256Y, s.mlsKey, s.addedAt, s.revokedAt);
        }
    }

    /// @notice The owner and record of `deviceId`; account is address(0) for an unknown device.
    function getDevice(bytes32 deviceId) external view returns (address account, Device memory device) {
        Stored storage s = _devices[deviceId];
        return (s.owner, Device(s.p256X, s.p256Y, s.mlsKey, s.addedAt, s.revokedAt));
    }

    /// @notice True iff `deviceId` belongs to `account` and was active at `blockNumber`.
    function isValidAt(address account, bytes32 deviceId, uint256 blockNumber) external view returns (bool) {
        Stored storage s = _devices[deviceId];
        return s.owner == account && account != address(0) && s.addedAt <= blockNumber
            && (s.revokedAt == 0 || blockNumber < s.revokedAt);
    }

    /// @notice The EIP-712 domain separator of this registry.
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    function _rotateStructHash(
        address account,
        bytes32 oldDeviceId,
        NewDevice calldata device,
        uint256 nonce,
        uint256 deadline
    ) private pure returns (bytes32) {
        return keccak256(
            abi.encode(
                ROTATE_DEVICE_TYPEHASH,
                account,
                oldDeviceId,
                device.p256X,
                device.p256Y,
                keccak256(device.mlsKey),
                keccak256(device.mlsPop),
                nonce,
                deadline
            )
        );
    }

    /// @dev Checks, in this order, that `nonce` is the account's current nonce (else InvalidNonce) and
    /// that `deadline` has not passed (else SignatureExpired). Callers then check the signature and only
    /// then consume the nonce, so an ERC-1271 wallet sees the unconsumed nonce while validating.
    function _checkNonceAndDeadline(address account, uint256 nonce, uint256 deadline) private view {
        uint256 expected = nonces(account);
        if (nonce != expected) revert InvalidNonce(expected);
        if (block.timestamp > deadline) revert SignatureExpired(deadline);
    }

    function _checkSignature(address account, bytes32 structHash, bytes calldata signature) private view {
        if (!SignatureChecker.isValidSignatureNowCalldata(account, _hashTypedDataV4(structHash), signature)) {
            revert InvalidSignature();
        }
    }

    function _add(address account, NewDevice calldata device) private returns (bytes32 deviceId) {
        bytes32 p256X = device.p256X;
        bytes32 p256Y = device.p256Y;
        bytes calldata mlsKey = device.mlsKey;
        if (mlsKey.length == 0 || mlsKey.length > MAX_MLS_KEY_LENGTH) revert MalformedKey();
        if (device.mlsPop.length > MAX_MLS_POP_LENGTH) revert MalformedKey();
        _checkP256Point(uint256(p256X), uint256(p256Y));
        _checkP256Pop(account, device);
        deviceId = keccak256(abi.encodePacked(p256X, p256Y));
        Stored storage s = _devices[deviceId];
        if (s.owner != address(0)) revert DuplicateKey(deviceId);
        s.p256X = p256X;
        s.p256Y = p256Y;
        s.owner = account;
        s.addedAt = uint40(block.number);
        s.mlsKey = mlsKey;
        _deviceIds[account].push(deviceId);
        emit DeviceAdded(account, deviceId, p256X, p256Y, mlsKey, device.mlsPop);
    }

    function _revoke(address account, bytes32 deviceId) private {
        Stored storage s = _devices[deviceId];
        if (s.owner != account || account == address(0)) revert UnknownDevice(deviceId);
        if (s.revokedAt != 0) revert DeviceAlreadyRevoked(deviceId);
        s.revokedAt = uint40(block.number);
        emit DeviceRevoked(account, deviceId);
    }

    /// @dev Reverts InvalidProofOfPossession unless (r, s) is a P-256 signature by (x, y) of
    /// sha256(P256_POP_LABEL ‖ 0x00 ‖ chainid ‖ this ‖ account ‖ x ‖ y ‖ keccak256(mlsKey)) (189 bytes packed).
    /// Fails closed: without the precompile the call returns no data.
    function _checkP256Pop(address account, NewDevice calldata d) private view {
        bytes32 h = sha256(
            abi.encodePacked(
                P256_POP_LABEL, bytes1(0x00), block.chainid, address(this), account, d.p256X, d.p256Y, keccak256(d.mlsKey)
            )
        );
        (bool ok, bytes memory out) = P256_VERIFY.staticcall(abi.encodePacked(h, d.popR, d.popS, d.p256X, d.p256Y));
        if (!ok || out.length != 32 || abi.decode(out, (uint256)) != 1) revert InvalidProofOfPossession();
    }

    /// @dev Reverts MalformedKey unless (x, y) is an affine point on P-256: y^2 = x^3 - 3x + b (mod p).
    function _checkP256Point(uint256 x, uint256 y) private pure {
        if (x >= P256_P || y >= P256_P) revert MalformedKey();
        uint256 lhs = mulmod(y, y, P256_P);
        uint256 rhs = addmod(
            mulmod(mulmod(x, x, P256_P), x, P256_P), addmod(mulmod(P256_P - 3, x, P256_P), P256_B, P256_P), P256_P
        );
        if (lhs != rhs) revert MalformedKey();
    }
}
