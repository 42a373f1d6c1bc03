// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title KeyRegistryLookAlike (test only, issue 9 attack 3)
/// @notice Answers KeyRegistry's views with whatever its deployer set: a forger's key "registered" to anyone.
contract KeyRegistryLookAlike {
    struct Device {
        bytes32 p256X;
        bytes32 p256Y;
        bytes mlsKey;
        uint64 addedAt;
        uint64 revokedAt;
    }

    mapping(bytes32 => address) private _owners;
    mapping(bytes32 => Device) private _devices;

    function set(bytes32 deviceId, address account, bytes32 p256X, bytes32 p256Y) external {
        _owners[deviceId] = account;
        _devices[deviceId] = Device(p256X, p256Y, "", 1, 0);
    }

    function getDevice(bytes32 deviceId) external view returns (address account, Device memory device) {
        return (_owners[deviceId], _devices[deviceId]);
    }

    function isValidAt(address account, bytes32 deviceId, uint256 blockNumber) external view returns (bool) {
        return _owners[deviceId] == account && account != address(0) && _devices[deviceId].addedAt <= blockNumber;
    }
}
