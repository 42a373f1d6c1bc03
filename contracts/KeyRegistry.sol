// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

/// @title Sealpost KeyRegistry
/// @notice Maps Ethereum accounts to their device keys (ECDSA P-256 statement key + MLS signature key).
/// Every change is authorized by an EIP-712 signature of the account (EOA or ERC-1271) and may be
/// submitted by anyone. The full history stays queryable: "which keys were valid at block B".
contract KeyRegistry is EIP712, Nonces {
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
        "AddDevice(address account,bytes32 p256X,bytes32 p256Y,bytes mlsKey,uint256 nonce,uint256 deadline)"
    );
    bytes32 public constant REVOKE_DEVICE_TYPEHASH =
        keccak256("RevokeDevice(address account,bytes32 deviceId,uint256 nonce,uint256 deadline)");
    bytes32 public constant ROTATE_DEVICE_TYPEHASH = keccak256(
        "RotateDevice(address account,bytes32 oldDeviceId,bytes32 p256X,bytes32 p256Y,bytes mlsKey,uint256 nonce,uint256 deadline)"
    );

    /// @notice Largest accepted MLS signature key (ML-DSA-87 public key size).
    uint256 public constant MAX_MLS_KEY_LENGTH = 2592;

    // P-256 (secp256r1) field prime and curve coefficient b (a = -3).
    uint256 private constant P256_P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffff;
    uint256 private constant P256_B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b;

    mapping(bytes32 deviceId => Stored) private _devices;
    mapping(address account => bytes32[]) private _deviceIds;

    event DeviceAdded(address indexed account, bytes32 indexed deviceId, bytes32 p256X, bytes32 p256Y, bytes mlsKey);
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

    constructor() EIP712("Sealpost KeyRegistry", "1") {}

    /// @notice Registers a device for `account`, authorized by the account's EIP-712 signature over
    /// `nonce` (must equal nonces(account)) and `deadline`.
    function addDevice(
        address account,
        bytes32 p256X,
        bytes32 p256Y,
        bytes calldata mlsKey,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external returns (bytes32 deviceId) {
        _checkNonceAndDeadline(account, nonce, deadline);
        bytes32 structHash =
            keccak256(abi.encode(ADD_DEVICE_TYPEHASH, account, p256X, p256Y, keccak256(mlsKey), nonce, deadline));
        _checkSignature(account, structHash, signature);
        _useNonce(account);
        deviceId = _add(account, p256X, p256Y, mlsKey);
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
        bytes32 p256X,
        bytes32 p256Y,
        bytes calldata mlsKey,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external returns (bytes32 newDeviceId) {
        _checkNonceAndDeadline(account, nonce, deadline);
        bytes32 structHash =
            _rotateStructHash(account, oldDeviceId, p256X, p256Y, keccak256(mlsKey), nonce, deadline);
        _checkSignature(account, structHash, signature);
        _useNonce(account);
        _revoke(account, oldDeviceId);
        newDeviceId = _add(account, p256X, p256Y, mlsKey);
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
        bytes32 p256X,
        bytes32 p256Y,
        bytes32 mlsKeyHash,
        uint256 nonce,
        uint256 deadline
    ) private pure returns (bytes32) {
        return keccak256(
            abi.encode(ROTATE_DEVICE_TYPEHASH, account, oldDeviceId, p256X, p256Y, mlsKeyHash, nonce, deadline)
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

    function _add(address account, bytes32 p256X, bytes32 p256Y, bytes calldata mlsKey)
        private
        returns (bytes32 deviceId)
    {
        if (mlsKey.length == 0 || mlsKey.length > MAX_MLS_KEY_LENGTH) revert MalformedKey();
        _checkP256Point(uint256(p256X), uint256(p256Y));
        deviceId = keccak256(abi.encodePacked(p256X, p256Y));
        Stored storage s = _devices[deviceId];
        if (s.owner != address(0)) revert DuplicateKey(deviceId);
        s.p256X = p256X;
        s.p256Y = p256Y;
        s.owner = account;
        s.addedAt = uint40(block.number);
        s.mlsKey = mlsKey;
        _deviceIds[account].push(deviceId);
        emit DeviceAdded(account, deviceId, p256X, p256Y, mlsKey);
    }

    function _revoke(address account, bytes32 deviceId) private {
        Stored storage s = _devices[deviceId];
        if (s.owner != account || account == address(0)) revert UnknownDevice(deviceId);
        if (s.revokedAt != 0) revert DeviceAlreadyRevoked(deviceId);
        s.revokedAt = uint40(block.number);
        emit DeviceRevoked(account, deviceId);
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
