// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

/// @title Sealpost KeyRegistry (v2 authorizations, one-slot device records)
/// @notice Maps Ethereum accounts to their device keys (ECDSA P-256 statement key + MLS signature key).
/// Every change is authorized by an EIP-712 signature of the account (EOA or ERC-1271) and may be
/// submitted by anyone. "Which keys were valid at block B" stays answerable on chain (isValidAt, isValidKeyAt):
/// each device is one storage slot (owning account's index, added and revoked blocks, and the first 18 bytes of
/// keccak256(mlsKey)); the device id commits to the P-256 key. The keys themselves live in the DeviceAdded event,
/// from which clients read them. A new P-256 key must come with a proof of possession for the account, checked
/// here with the P256VERIFY precompile (EIP-7951), so nobody can register (squat) someone else's key. The MLS
/// key's proof of possession (`mlsPop`) is covered by the account's signature and emitted in DeviceAdded.
contract KeyRegistry is EIP712 {
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

    /// @dev One slot per account: the next authorization's nonce and the account's index (0 = none yet).
    struct AccountState {
        uint64 nonce;
        uint32 index;
    }

    /// @dev One slot per device (32 + 40 + 40 + 144 bits).
    struct DeviceRecord {
        uint32 account; // index of the owning account (AccountState.index); 0 = unknown device
        uint40 addedAt;
        uint40 revokedAt; // 0 = active
        bytes18 mlsKeyHash; // first 18 bytes of keccak256(mlsKey)
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

    mapping(address account => AccountState) private _accounts;
    mapping(bytes32 deviceId => DeviceRecord) private _devices;
    /// @dev Number of accounts that ever registered a device (the last index handed out).
    uint32 private _accountCount;
    /// @dev Shares _accountCount's slot and keeps it non-zero, so handing out the first index costs 2,900 gas
    /// (a non-zero slot update), not 20,000.
    bool private _accountCountSlotInUse = true;

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
        AccountState memory state = _checkNonceAndDeadline(account, nonce, deadline);
        bytes32 mlsKeyHash = keccak256(device.mlsKey);
        bytes32 structHash = keccak256(
            abi.encode(
                ADD_DEVICE_TYPEHASH,
                account,
                device.p256X,
                device.p256Y,
                mlsKeyHash,
                keccak256(device.mlsPop),
                nonce,
                deadline
            )
        );
        _checkSignature(account, structHash, signature);
        deviceId = _add(account, _useNonce(account, state), device, mlsKeyHash);
    }

    /// @notice Revokes one of `account`'s devices from this block on.
    function revokeDevice(
        address account,
        bytes32 deviceId,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        AccountState memory state = _checkNonceAndDeadline(account, nonce, deadline);
        bytes32 structHash = keccak256(abi.encode(REVOKE_DEVICE_TYPEHASH, account, deviceId, nonce, deadline));
        _checkSignature(account, structHash, signature);
        _revoke(account, _useNonce(account, state), deviceId);
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
        AccountState memory state = _checkNonceAndDeadline(account, nonce, deadline);
        bytes32 mlsKeyHash = keccak256(device.mlsKey);
        _checkSignature(
            account, _rotateStructHash(account, oldDeviceId, device, mlsKeyHash, nonce, deadline), signature
        );
        uint32 index = _useNonce(account, state);
        _revoke(account, index, oldDeviceId);
        newDeviceId = _add(account, index, device, mlsKeyHash);
        emit DeviceRotated(account, oldDeviceId, newDeviceId);
    }

    /// @notice The nonce the next authorization of `account` must be signed with.
    function nonces(address account) external view returns (uint256) {
        return _accounts[account].nonce;
    }

    /// @notice The index the registry gave `account` with its first device (1, 2, ...); 0 if it never had one.
    function accountIndex(address account) external view returns (uint32) {
        return _accounts[account].index;
    }

    /// @notice The stored record of `deviceId`: owning account's index (0 = unknown device), the blocks it was
    /// added and revoked in (0 = active), and the first 18 bytes of keccak256(mlsKey). The keys themselves are in
    /// the DeviceAdded event of block `addedAt` whose `deviceId` topic is this id.
    function deviceRecord(bytes32 deviceId)
        external
        view
        returns (uint32 account, uint40 addedAt, uint40 revokedAt, bytes18 mlsKeyHash)
    {
        DeviceRecord memory r = _devices[deviceId];
        return (r.account, r.addedAt, r.revokedAt, r.mlsKeyHash);
    }

    /// @notice True iff `deviceId` belongs to `account` and was active at `blockNumber`
    /// (addedAt <= blockNumber, and not revoked at or before blockNumber).
    function isValidAt(address account, bytes32 deviceId, uint256 blockNumber) public view returns (bool) {
        uint32 index = _accounts[account].index;
        DeviceRecord memory r = _devices[deviceId];
        return index != 0 && r.account == index && r.addedAt <= blockNumber
            && (r.revokedAt == 0 || blockNumber < r.revokedAt);
    }

    /// @notice True iff the device with P-256 key (p256X, p256Y) and an MLS key hashing (keccak256) to
    /// `mlsKeyHash` belonged to `account` and was active at `blockNumber`: the check an on-chain verifier makes
    /// for keys given in calldata.
    function isValidKeyAt(address account, bytes32 p256X, bytes32 p256Y, bytes32 mlsKeyHash, uint256 blockNumber)
        external
        view
        returns (bool)
    {
        bytes32 deviceId = keccak256(abi.encodePacked(p256X, p256Y));
        return isValidAt(account, deviceId, blockNumber) && _devices[deviceId].mlsKeyHash == bytes18(mlsKeyHash);
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
        bytes32 mlsKeyHash,
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
                mlsKeyHash,
                keccak256(device.mlsPop),
                nonce,
                deadline
            )
        );
    }

    /// @dev Checks, in this order, that `nonce` is the account's current nonce (else InvalidNonce) and
    /// that `deadline` has not passed (else SignatureExpired), and returns the account's state. Callers then
    /// check the signature and only then consume the nonce, so an ERC-1271 wallet sees the unconsumed nonce.
    function _checkNonceAndDeadline(address account, uint256 nonce, uint256 deadline)
        private
        view
        returns (AccountState memory state)
    {
        state = _accounts[account];
        if (nonce != state.nonce) revert InvalidNonce(state.nonce);
        if (block.timestamp > deadline) revert SignatureExpired(deadline);
    }

    /// @dev Consumes the nonce (one write of the account's slot) and returns the account's index, handing out
    /// the next one to an account without.
    function _useNonce(address account, AccountState memory state) private returns (uint32 index) {
        index = state.index;
        if (index == 0) index = ++_accountCount;
        _accounts[account] = AccountState(state.nonce + 1, index);
    }

    /// @dev Accepts an ECDSA signature recovering to `account` (an EOA, or an EIP-7702 account's own key), else
    /// asks `account` through ERC-1271 (OpenZeppelin SignatureChecker).
    function _checkSignature(address account, bytes32 structHash, bytes calldata signature) private view {
        bytes32 digest = _hashTypedDataV4(structHash);
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == account) return;
        if (!SignatureChecker.isValidERC1271SignatureNowCalldata(account, digest, signature)) {
            revert InvalidSignature();
        }
    }

    function _add(address account, uint32 index, NewDevice calldata device, bytes32 mlsKeyHash)
        private
        returns (bytes32 deviceId)
    {
        bytes32 p256X = device.p256X;
        bytes32 p256Y = device.p256Y;
        bytes calldata mlsKey = device.mlsKey;
        if (mlsKey.length == 0 || mlsKey.length > MAX_MLS_KEY_LENGTH) revert MalformedKey();
        if (device.mlsPop.length > MAX_MLS_POP_LENGTH) revert MalformedKey();
        _checkP256Point(uint256(p256X), uint256(p256Y));
        _checkP256Pop(account, p256X, p256Y, device.popR, device.popS, mlsKeyHash);
        deviceId = keccak256(abi.encodePacked(p256X, p256Y));
        if (_devices[deviceId].account != 0) revert DuplicateKey(deviceId);
        _devices[deviceId] = DeviceRecord(index, uint40(block.number), 0, bytes18(mlsKeyHash));
        emit DeviceAdded(account, deviceId, p256X, p256Y, mlsKey, device.mlsPop);
    }

    function _revoke(address account, uint32 index, bytes32 deviceId) private {
        DeviceRecord storage r = _devices[deviceId];
        if (r.account != index) revert UnknownDevice(deviceId);
        if (r.revokedAt != 0) revert DeviceAlreadyRevoked(deviceId);
        r.revokedAt = uint40(block.number);
        emit DeviceRevoked(account, deviceId);
    }

    /// @dev Reverts InvalidProofOfPossession unless (r, s) is a P-256 signature by (x, y) of
    /// sha256(P256_POP_LABEL ‖ 0x00 ‖ chainid ‖ this ‖ account ‖ x ‖ y ‖ keccak256(mlsKey)) (189 bytes packed).
    /// Fails closed: without the precompile the call returns no data.
    function _checkP256Pop(address account, bytes32 x, bytes32 y, bytes32 r, bytes32 s, bytes32 mlsKeyHash)
        private
        view
    {
        bytes32 h =
            sha256(abi.encodePacked(P256_POP_LABEL, bytes1(0x00), block.chainid, address(this), account, x, y, mlsKeyHash));
        bool valid;
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, h)
            mstore(add(p, 0x20), r)
            mstore(add(p, 0x40), s)
            mstore(add(p, 0x60), x)
            mstore(add(p, 0x80), y)
            mstore(0x00, 0)
            let ok := staticcall(gas(), 0x100, p, 0xa0, 0x00, 0x20) // P256_VERIFY
            valid := and(ok, and(eq(returndatasize(), 0x20), eq(mload(0x00), 1)))
        }
        if (!valid) revert InvalidProofOfPossession();
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
