// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title KeyRegistryLookAlike (test only, issue 9 attack 3)
/// @notice Answers KeyRegistry's reads with whatever its deployer set: a forger's key "registered" to anyone. Like
/// KeyRegistry it keeps a one-slot record per device (deviceRecord) and emits DeviceAdded with the keys.
contract KeyRegistryLookAlike {
    struct DeviceRecord {
        uint32 account;
        uint40 addedAt;
        uint40 revokedAt;
        bytes18 mlsKeyHash;
    }

    mapping(address => uint32) private _index;
    mapping(bytes32 => DeviceRecord) private _devices;
    uint32 private _accountCount;

    event DeviceAdded(
        address indexed account, bytes32 indexed deviceId, bytes32 p256X, bytes32 p256Y, bytes mlsKey, bytes mlsPop
    );

    function set(bytes32 deviceId, address account, bytes32 p256X, bytes32 p256Y) external {
        if (_index[account] == 0) _index[account] = ++_accountCount;
        // "Added" at block 1, so the forged key is valid at any block a forged statement names.
        _devices[deviceId] = DeviceRecord(_index[account], 1, 0, bytes18(keccak256("")));
        emit DeviceAdded(account, deviceId, p256X, p256Y, "", "");
    }

    function deviceRecord(bytes32 deviceId)
        external
        view
        returns (uint32 account, uint40 addedAt, uint40 revokedAt, bytes18 mlsKeyHash)
    {
        DeviceRecord memory r = _devices[deviceId];
        return (r.account, r.addedAt, r.revokedAt, r.mlsKeyHash);
    }

    function isValidAt(address account, bytes32 deviceId, uint256 blockNumber) external view returns (bool) {
        uint32 index = _index[account];
        return index != 0 && _devices[deviceId].account == index && _devices[deviceId].addedAt <= blockNumber;
    }
}
