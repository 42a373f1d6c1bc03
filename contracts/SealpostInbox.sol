// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @dev The part of Hyperlane's IMailbox (@hyperlane-xyz/core contracts/interfaces/IMailbox.sol) the inbox calls.
interface IInboxMailbox {
    function dispatch(uint32 destinationDomain, bytes32 recipientAddress, bytes calldata messageBody)
        external
        payable
        returns (bytes32 messageId);
}

/// @title Sealpost inbox (a sealed envelope across two chains through Hyperlane)
/// @notice Carries Sealpost envelopes (docs/protocol.md §2: MLS-sealed, signed by the sender's device key, unreadable
/// to the chain) from one chain to another: `send` dispatches an envelope through this chain's Mailbox to the inbox
/// enrolled for the destination domain; `handle` (Hyperlane's IMessageRecipient) takes a delivery only from its
/// Mailbox, only from an enrolled (origin domain, sender inbox) pair, refuses an envelope id it delivered before, and
/// emits the envelope under its topic for the recipients' clients, which verify it exactly as one from a relay. The
/// ISM (`interchainSecurityModule`, a StaticMessageIdMultisigIsm) and the pairs are fixed at deployment; no owner.
contract SealpostInbox {
    /// @notice Envelope v1 header: magic "SP" (2), version (1), kind (1), topic (32), id (32), payload length (4).
    uint256 public constant ENVELOPE_HEADER_BYTES = 72;

    address public immutable mailbox;
    address public immutable interchainSecurityModule;

    /// @notice The inbox enrolled on each remote domain (left-padded address; zero = none).
    mapping(uint32 domain => bytes32 inbox) public remoteInbox;
    /// @notice Block at which an envelope id was delivered here (0 = never).
    mapping(bytes32 envelopeId => uint256 blockNumber) public deliveredAt;

    /// @notice An envelope from `origin` was delivered; `topic` and `envelopeId` are the envelope's own header fields.
    event EnvelopeReceived(bytes32 indexed topic, bytes32 indexed envelopeId, uint32 indexed origin, bytes envelope);

    error NotMailbox(address caller);
    error UnexpectedOrigin(uint32 origin);
    error UnexpectedSender(bytes32 sender);
    error UnknownDestination(uint32 destination);
    /// @dev Not an envelope v1: too short, wrong magic or version, or a payload length that does not match.
    error MalformedEnvelope();
    /// @dev The envelope id was delivered to this inbox before (a replay through a fresh Hyperlane message).
    error EnvelopeReplayed(bytes32 envelopeId);
    /// @dev The constructor's domain and inbox lists differ in length, or name a domain twice or a zero inbox.
    error BadRemotes();

    constructor(address mailbox_, address ism_, uint32[] memory domains, bytes32[] memory inboxes) {
        if (domains.length != inboxes.length) revert BadRemotes();
        mailbox = mailbox_;
        interchainSecurityModule = ism_;
        for (uint256 i = 0; i < domains.length; i++) {
            if (inboxes[i] == bytes32(0) || remoteInbox[domains[i]] != bytes32(0)) revert BadRemotes();
            remoteInbox[domains[i]] = inboxes[i];
        }
    }

    /// @notice Dispatches `envelope` (v1 bytes) to the inbox enrolled for `destination`; returns the Hyperlane
    /// message id. msg.value pays the Mailbox's hooks.
    function send(uint32 destination, bytes calldata envelope) external payable returns (bytes32) {
        bytes32 remote = remoteInbox[destination];
        if (remote == bytes32(0)) revert UnknownDestination(destination);
        _header(envelope);
        return IInboxMailbox(mailbox).dispatch{value: msg.value}(destination, remote, envelope);
    }

    /// @notice Hyperlane delivery (IMessageRecipient). Not payable: a delivery carrying value reverts.
    function handle(uint32 origin, bytes32 sender, bytes calldata body) external {
        if (msg.sender != mailbox) revert NotMailbox(msg.sender);
        bytes32 remote = remoteInbox[origin];
        if (remote == bytes32(0)) revert UnexpectedOrigin(origin);
        if (sender != remote) revert UnexpectedSender(sender);
        (bytes32 topic, bytes32 id) = _header(body);
        if (deliveredAt[id] != 0) revert EnvelopeReplayed(id);
        deliveredAt[id] = block.number;
        emit EnvelopeReceived(topic, id, origin, body);
    }

    /// @dev Checks the envelope v1 framing and returns its topic and id (the id's hash is the clients' to check).
    function _header(bytes calldata e) private pure returns (bytes32 topic, bytes32 id) {
        if (e.length < ENVELOPE_HEADER_BYTES || e[0] != 0x53 || e[1] != 0x50 || e[2] != 0x01) {
            revert MalformedEnvelope();
        }
        if (uint32(bytes4(e[68:72])) != e.length - ENVELOPE_HEADER_BYTES) revert MalformedEnvelope();
        topic = bytes32(e[4:36]);
        id = bytes32(e[36:68]);
    }
}
