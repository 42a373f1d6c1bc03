/** Typed ABI fragments of the Hyperlane functions and events Sealpost calls (checked against the shipped ABIs by test). */
import { parseAbi } from 'viem'

/**
 * Mailbox (contracts/Mailbox.sol, interfaces/IMailbox.sol).
 *
 * @example
 * await readContract(client, { address: mailbox, abi: mailboxAbi, functionName: 'delivered', args: [id] })
 */
export const mailboxAbi = parseAbi([
  'function initialize(address _owner, address _defaultIsm, address _defaultHook, address _requiredHook)',
  'function dispatch(uint32 destinationDomain, bytes32 recipientAddress, bytes messageBody) payable returns (bytes32)',
  'function process(bytes _metadata, bytes _message) payable',
  'function delivered(bytes32 _id) view returns (bool)',
  'function recipientIsm(address _recipient) view returns (address)',
  'function localDomain() view returns (uint32)',
  'function nonce() view returns (uint32)',
  'function defaultIsm() view returns (address)',
  'function defaultHook() view returns (address)',
  'function requiredHook() view returns (address)',
  'event Dispatch(address indexed sender, uint32 indexed destination, bytes32 indexed recipient, bytes message)',
  'event DispatchId(bytes32 indexed messageId)',
  'event ProcessId(bytes32 indexed messageId)',
])

/**
 * MerkleTreeHook (contracts/hooks/MerkleTreeHook.sol).
 *
 * @example
 * await readContract(client, { address: hook, abi: merkleTreeHookAbi, functionName: 'root' })
 */
export const merkleTreeHookAbi = parseAbi([
  'function root() view returns (bytes32)',
  'function count() view returns (uint32)',
  'function latestCheckpoint() view returns (bytes32, uint32)',
  'event InsertedIntoTree(bytes32 messageId, uint32 index)',
])

/**
 * StaticMessageIdMultisigIsmFactory (contracts/libs/StaticAddressSetFactory.sol).
 *
 * @example
 * await readContract(client, { address: factory, abi: multisigIsmFactoryAbi, functionName: 'getAddress', args: [validators, 2] })
 */
export const multisigIsmFactoryAbi = parseAbi([
  'function deploy(address[] _values, uint8 _threshold) returns (address)',
  'function getAddress(address[] _values, uint8 _threshold) view returns (address)',
])

/**
 * StaticMessageIdMultisigIsm (contracts/isms/multisig/StaticMultisigIsm.sol, AbstractMultisigIsm.sol).
 *
 * @example
 * const [validators, threshold] = await readContract(client, { address: ism, abi: multisigIsmAbi, functionName: 'validatorsAndThreshold', args: [message] })
 */
export const multisigIsmAbi = parseAbi([
  'function validatorsAndThreshold(bytes) pure returns (address[], uint8)',
  'function verify(bytes _metadata, bytes _message) view returns (bool)',
  'function moduleType() view returns (uint8)',
])
