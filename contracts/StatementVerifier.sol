// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MerkleInclusion} from "./MerkleInclusion.sol";

/// @dev The KeyRegistry reads the verifier makes.
interface IKeyRegistryRecords {
    function accountIndex(address account) external view returns (uint32);
    function deviceRecord(bytes32 deviceId)
        external
        view
        returns (uint32 account, uint40 addedAt, uint40 revokedAt, bytes18 mlsKeyHash);
}

/// @dev The MessageAnchor read the verifier makes.
interface IMessageAnchorRecords {
    function anchorOf(address submitter, bytes32 root)
        external
        view
        returns (uint40 blockNumber, uint32 timestamp, uint24 leafCount);
}

/// @title Sealpost StatementVerifier
/// @notice Proves on chain who signed a Sealpost message statement (v2, type 1) and when: the device's P-256
/// signature (EIP-7951 P256VERIFY precompile) with the key the KeyRegistry held at the statement's referenced block,
/// the statement's RFC 6962 inclusion in a root MessageAnchor recorded, and the two-sided time bounds of protocol
/// section 11.1 (made after the referenced block, anchored within `anchorWindow` seconds of the block after it and
/// before any revocation of the device). `verify` returns the verdict or reverts with the first failing check's
/// typed error, in the order of docs/protocol.md section 15.
contract StatementVerifier {
    /// @notice Where the statement's leaf was anchored: who anchored `root`, and the leaf's RFC 9162 audit path.
    struct Receipt {
        address submitter;
        bytes32 root;
        uint256 index;
        uint256 treeSize;
        bytes32[] path;
    }

    /// @notice What a verified statement proves: who signed what, referencing which block, anchored when.
    struct Verdict {
        address account;
        bytes32 deviceId;
        bytes32 conversation;
        uint64 epoch;
        bytes32 recipientsRoot;
        uint64 seq;
        uint64 sentAt;
        uint64 referencedBlock;
        bytes32 bodyHash;
        bytes32 leaf;
        uint64 anchorBlock;
        uint64 anchorTimestamp;
    }

    /// @notice Size of an encoded v2 message statement.
    uint256 public constant STATEMENT_BYTES = 274;
    /// @notice Domain label of the statement signature input (followed by a 0x00 byte and the statement).
    string public constant STATEMENT_LABEL = "sealpost/v2/statement";
    /// @notice Domain label of the statement's Merkle leaf (followed by 0x00, the statement and the signature).
    string public constant LEAF_LABEL = "sealpost/v2/leaf";

    /// @notice The KeyRegistry whose device records the verifier trusts (a statement must name it).
    IKeyRegistryRecords public immutable registry;
    /// @notice The MessageAnchor whose anchors the verifier trusts.
    IMessageAnchorRecords public immutable anchors;
    /// @notice W_anchor in seconds: the longest accepted time from the block after the referenced one to the anchor.
    uint256 public immutable anchorWindow;

    /// @dev EIP-2935 block hash history contract (Prague): the last 8191 block hashes.
    address private constant HISTORY = 0x0000F90827F1C53a10cb7A02335B175320002935;
    uint256 private constant HISTORY_WINDOW = 8191;
    // P-256 group order and its half (low-S bound).
    uint256 private constant P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551;
    uint256 private constant P256_HALF_N = 0x7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8;

    /// @dev Block hashes saved by rememberBlock, so statements stay verifiable after the hash left the EVM's reach.
    mapping(uint256 blockNumber => bytes32) private _remembered;

    event BlockRemembered(uint256 indexed blockNumber, bytes32 blockHash);

    /// @dev Not 274 bytes, or not version 2 type 1.
    error MalformedStatement();
    /// @dev Not 64 bytes (r ‖ s).
    error MalformedSignature();
    error WrongChain(uint256 expected, uint256 actual);
    error WrongRegistry(address expected, address actual);
    /// @dev The device id given is not the statement's.
    error DeviceMismatch(bytes32 deviceId, bytes32 statementDevice);
    /// @dev keccak256(p256X ‖ p256Y) is not the device id.
    error KeyMismatch(bytes32 deviceId);
    /// @dev The registry has no such device for the statement's account.
    error DeviceNotRegistered(address account, bytes32 deviceId);
    /// @dev The hash of the block after the referenced one is not available (the current block or later, or older
    /// than EIP-2935's window and not remembered).
    error BlockUnavailable(uint256 blockNumber);
    error MalformedHeader();
    /// @dev The header is not the block after the referenced one, or its parent is not the statement's block hash.
    error BlockReferenceMismatch(uint256 blockNumber);
    /// @dev r or s outside [1, n-1], or s > n/2.
    error NonCanonicalSignature();
    error StatementSignatureInvalid();
    error KeyNotYetValid(bytes32 deviceId, uint256 addedAt, uint256 referencedBlock);
    error KeyRevoked(bytes32 deviceId, uint256 revokedAt, uint256 referencedBlock);
    /// @dev The audit path is malformed for (index, treeSize) or does not lead to the receipt's root.
    error NotIncluded(bytes32 leaf, bytes32 root);
    error NotAnchored(address submitter, bytes32 root);
    error TreeSizeMismatch(uint256 anchored, uint256 claimed);
    error AnchorNotAfterBlock(uint256 anchorBlock, uint256 referencedBlock);
    error AnchorWindowExceeded(uint256 lagSeconds, uint256 windowSeconds);
    error RevokedBeforeAnchor(bytes32 deviceId, uint256 revokedAt, uint256 anchorBlock);

    constructor(address keyRegistry, address messageAnchor, uint256 anchorWindowSeconds) {
        registry = IKeyRegistryRecords(keyRegistry);
        anchors = IMessageAnchorRecords(messageAnchor);
        anchorWindow = anchorWindowSeconds;
    }

    /// @notice Verifies that the device `deviceId` with P-256 key (p256X, p256Y) signed `statement` (274 bytes)
    /// with `signature` (64 bytes r ‖ s), that the statement was made after its referenced block (`successorHeader`
    /// is the RLP header of the block after it) and anchored per `receipt` in time. Reverts with the first failing
    /// check's error.
    function verify(
        bytes calldata statement,
        bytes calldata signature,
        bytes32 deviceId,
        bytes32 p256X,
        bytes32 p256Y,
        bytes calldata successorHeader,
        Receipt calldata receipt
    ) external view returns (Verdict memory v) {
        if (statement.length != STATEMENT_BYTES || statement[0] != 0x02 || statement[1] != 0x01) {
            revert MalformedStatement();
        }
        if (signature.length != 64) revert MalformedSignature();
        v = _fields(statement);
        _checkChain(statement);
        if (v.deviceId != deviceId) revert DeviceMismatch(deviceId, v.deviceId);
        if (keccak256(abi.encodePacked(p256X, p256Y)) != deviceId) revert KeyMismatch(deviceId);
        (uint40 addedAt, uint40 revokedAt) = _deviceOf(v.account, deviceId);
        uint256 successorTime = _checkBlockReference(v.referencedBlock, bytes32(statement[178:210]), successorHeader);
        _checkSignature(statement, signature, p256X, p256Y);
        if (addedAt > v.referencedBlock) revert KeyNotYetValid(deviceId, addedAt, v.referencedBlock);
        if (revokedAt != 0 && revokedAt <= v.referencedBlock) revert KeyRevoked(deviceId, revokedAt, v.referencedBlock);
        v.leaf = leafOf(statement, signature);
        (v.anchorBlock, v.anchorTimestamp) = _checkAnchor(v.leaf, receipt);
        if (v.anchorBlock <= v.referencedBlock) revert AnchorNotAfterBlock(v.anchorBlock, v.referencedBlock);
        if (v.anchorTimestamp > successorTime && v.anchorTimestamp - successorTime > anchorWindow) {
            revert AnchorWindowExceeded(v.anchorTimestamp - successorTime, anchorWindow);
        }
        if (revokedAt != 0 && revokedAt <= v.anchorBlock) revert RevokedBeforeAnchor(deviceId, revokedAt, v.anchorBlock);
    }

    /// @notice The statement's Merkle leaf: sha256("sealpost/v2/leaf" ‖ 0x00 ‖ statement ‖ signature).
    function leafOf(bytes calldata statement, bytes calldata signature) public pure returns (bytes32) {
        return sha256(abi.encodePacked(LEAF_LABEL, bytes1(0x00), statement, signature));
    }

    /// @notice Saves the hash of `blockNumber` (one of the last 8191 blocks) so that statements referencing the block
    /// before it stay verifiable afterwards. Anyone may call it; a saved hash never changes.
    function rememberBlock(uint256 blockNumber) external {
        bytes32 h = _liveBlockHash(blockNumber);
        if (h == bytes32(0)) revert BlockUnavailable(blockNumber);
        if (_remembered[blockNumber] != bytes32(0)) return;
        _remembered[blockNumber] = h;
        emit BlockRemembered(blockNumber, h);
    }

    /// @notice The hash of `blockNumber` as the verifier sees it: live (BLOCKHASH, EIP-2935) or remembered; 0 if none.
    function blockHashOf(uint256 blockNumber) public view returns (bytes32 h) {
        h = _liveBlockHash(blockNumber);
        if (h == bytes32(0)) h = _remembered[blockNumber];
    }

    function _fields(bytes calldata s) private pure returns (Verdict memory v) {
        v.account = address(bytes20(s[30:50]));
        v.deviceId = bytes32(s[50:82]);
        v.conversation = bytes32(s[82:114]);
        v.epoch = uint64(bytes8(s[114:122]));
        v.recipientsRoot = bytes32(s[122:154]);
        v.seq = uint64(bytes8(s[154:162]));
        v.sentAt = uint64(bytes8(s[162:170]));
        v.referencedBlock = uint64(bytes8(s[170:178]));
        v.bodyHash = bytes32(s[210:242]);
    }

    function _checkChain(bytes calldata s) private view {
        uint256 chainId = uint64(bytes8(s[2:10]));
        if (chainId != block.chainid) revert WrongChain(block.chainid, chainId);
        address named = address(bytes20(s[10:30]));
        if (named != address(registry)) revert WrongRegistry(address(registry), named);
    }

    function _deviceOf(address account, bytes32 deviceId) private view returns (uint40 addedAt, uint40 revokedAt) {
        uint32 index = registry.accountIndex(account);
        uint32 owner;
        (owner, addedAt, revokedAt,) = registry.deviceRecord(deviceId);
        if (index == 0 || owner != index) revert DeviceNotRegistered(account, deviceId);
    }

    /// @dev Checks that `header` is block ref+1 and its parent hash is the statement's block hash; returns its time.
    function _checkBlockReference(uint256 ref, bytes32 refHash, bytes calldata header) private view returns (uint256) {
        bytes32 known = blockHashOf(ref + 1);
        if (known == bytes32(0)) revert BlockUnavailable(ref + 1);
        if (keccak256(header) != known) revert BlockReferenceMismatch(ref);
        (bytes32 parentHash, uint256 timestamp) = _parseHeader(header);
        if (parentHash != refHash) revert BlockReferenceMismatch(ref);
        return timestamp;
    }

    function _checkSignature(bytes calldata statement, bytes calldata signature, bytes32 x, bytes32 y) private view {
        uint256 r = uint256(bytes32(signature[0:32]));
        uint256 s = uint256(bytes32(signature[32:64]));
        if (r == 0 || r >= P256_N || s == 0 || s > P256_HALF_N) revert NonCanonicalSignature();
        bytes32 h = sha256(abi.encodePacked(STATEMENT_LABEL, bytes1(0x00), statement));
        bool valid;
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, h)
            mstore(add(p, 0x20), r)
            mstore(add(p, 0x40), s)
            mstore(add(p, 0x60), x)
            mstore(add(p, 0x80), y)
            mstore(0x00, 0)
            let ok := staticcall(gas(), 0x100, p, 0xa0, 0x00, 0x20) // P256VERIFY (EIP-7951)
            valid := and(ok, and(eq(returndatasize(), 0x20), eq(mload(0x00), 1)))
        }
        if (!valid) revert StatementSignatureInvalid();
    }

    function _checkAnchor(bytes32 leaf, Receipt calldata receipt)
        private
        view
        returns (uint64 anchorBlock, uint64 anchorTimestamp)
    {
        (bool ok, bytes32 computed) = MerkleInclusion.computeRoot(leaf, receipt.index, receipt.treeSize, receipt.path);
        if (!ok || computed != receipt.root) revert NotIncluded(leaf, receipt.root);
        (uint40 blockNumber, uint32 timestamp, uint24 leafCount) = anchors.anchorOf(receipt.submitter, receipt.root);
        if (leafCount == 0) revert NotAnchored(receipt.submitter, receipt.root);
        if (leafCount != receipt.treeSize) revert TreeSizeMismatch(leafCount, receipt.treeSize);
        return (blockNumber, timestamp);
    }

    /// @dev BLOCKHASH for the last 256 blocks, else the EIP-2935 history contract for the last 8191; 0 otherwise.
    function _liveBlockHash(uint256 n) private view returns (bytes32 h) {
        if (n >= block.number) return bytes32(0);
        if (block.number - n <= 256) return blockhash(n);
        if (block.number - n > HISTORY_WINDOW) return bytes32(0);
        (bool ok, bytes memory out) = HISTORY.staticcall(abi.encode(n));
        if (ok && out.length == 32) h = abi.decode(out, (bytes32));
    }

    /// @dev Reads field 0 (parent hash) and field 11 (timestamp) of an RLP-encoded block header.
    function _parseHeader(bytes calldata header) private pure returns (bytes32 parentHash, uint256 timestamp) {
        if (header.length < 3 || uint8(header[0]) < 0xf8) revert MalformedHeader();
        uint256 lenOfLen = uint8(header[0]) - 0xf7;
        if (lenOfLen > 2) revert MalformedHeader();
        uint256 payload = 0;
        for (uint256 i = 1; i <= lenOfLen; ++i) {
            payload = (payload << 8) | uint8(header[i]);
        }
        uint256 o = 1 + lenOfLen;
        if (o + payload != header.length) revert MalformedHeader();
        for (uint256 field = 0; field <= 11; ++field) {
            (uint256 start, uint256 len) = _item(header, o);
            if (field == 0) {
                if (len != 32) revert MalformedHeader();
                parentHash = bytes32(header[start:start + 32]);
            } else if (field == 11) {
                if (len > 8) revert MalformedHeader();
                for (uint256 i = 0; i < len; ++i) {
                    timestamp = (timestamp << 8) | uint8(header[start + i]);
                }
            }
            o = start + len;
        }
    }

    /// @dev The data offset and length of the RLP string at `o` (headers' first 12 fields are strings).
    function _item(bytes calldata b, uint256 o) private pure returns (uint256 start, uint256 len) {
        if (o >= b.length) revert MalformedHeader();
        uint8 p = uint8(b[o]);
        if (p < 0x80) return (o, 1);
        if (p < 0xb8) {
            start = o + 1;
            len = p - 0x80;
        } else if (p < 0xc0) {
            uint256 lenOfLen = p - 0xb7;
            if (lenOfLen > 2 || o + lenOfLen >= b.length) revert MalformedHeader();
            for (uint256 i = 1; i <= lenOfLen; ++i) {
                len = (len << 8) | uint8(b[o + i]);
            }
            start = o + 1 + lenOfLen;
        } else {
            revert MalformedHeader();
        }
        if (start + len > b.length) revert MalformedHeader();
    }
}
