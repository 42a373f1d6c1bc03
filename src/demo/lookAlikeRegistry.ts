/** An attacker's contract for the demo's attack 3: a look-alike KeyRegistry that maps any key to any account. */
import type { Abi, Hex } from 'viem'

/**
 * ABI of KeyRegistryLookAlike (contracts/test/KeyRegistryLookAlike.sol): `set` registers a key to anyone, and the
 * views `getDevice` and `isValidAt` answer like KeyRegistry's.
 *
 * @example await wallet.writeContract({ address, abi: lookAlikeRegistryAbi, functionName: 'set', args })
 */
export const lookAlikeRegistryAbi = [
  {
    inputs: [
      {
        internalType: 'bytes32',
        name: 'deviceId',
        type: 'bytes32',
      },
    ],
    name: 'getDevice',
    outputs: [
      {
        internalType: 'address',
        name: 'account',
        type: 'address',
      },
      {
        components: [
          {
            internalType: 'bytes32',
            name: 'p256X',
            type: 'bytes32',
          },
          {
            internalType: 'bytes32',
            name: 'p256Y',
            type: 'bytes32',
          },
          {
            internalType: 'bytes',
            name: 'mlsKey',
            type: 'bytes',
          },
          {
            internalType: 'uint64',
            name: 'addedAt',
            type: 'uint64',
          },
          {
            internalType: 'uint64',
            name: 'revokedAt',
            type: 'uint64',
          },
        ],
        internalType: 'struct KeyRegistryLookAlike.Device',
        name: 'device',
        type: 'tuple',
      },
    ],
    stateMutability: 'view',
    type: 'function',
  },
  {
    inputs: [
      {
        internalType: 'address',
        name: 'account',
        type: 'address',
      },
      {
        internalType: 'bytes32',
        name: 'deviceId',
        type: 'bytes32',
      },
      {
        internalType: 'uint256',
        name: 'blockNumber',
        type: 'uint256',
      },
    ],
    name: 'isValidAt',
    outputs: [
      {
        internalType: 'bool',
        name: '',
        type: 'bool',
      },
    ],
    stateMutability: 'view',
    type: 'function',
  },
  {
    inputs: [
      {
        internalType: 'bytes32',
        name: 'deviceId',
        type: 'bytes32',
      },
      {
        internalType: 'address',
        name: 'account',
        type: 'address',
      },
      {
        internalType: 'bytes32',
        name: 'p256X',
        type: 'bytes32',
      },
      {
        internalType: 'bytes32',
        name: 'p256Y',
        type: 'bytes32',
      },
    ],
    name: 'set',
    outputs: [],
    stateMutability: 'nonpayable',
    type: 'function',
  },
] as const satisfies Abi

/**
 * Creation bytecode of KeyRegistryLookAlike, compiled with the shipped contracts' solc settings (so the demo needs no
 * compiler at run time); lookAlikeRegistry.test.ts checks it against a fresh compile of the source.
 *
 * @example await wallet.deployContract({ abi: lookAlikeRegistryAbi, bytecode: lookAlikeRegistryBytecode })
 */
export const lookAlikeRegistryBytecode =
  ('0x6080604052348015600e575f5ffd5b506105bb8061001c5f395ff3fe608060405234801561000f575f5ffd5b5060043610' +
    '61003f575f3560e01c80636a7f745e14610043578063e4006e931461006d578063f0f86f7114610090575b5f5ffd5b610056' +
    '6100513660046102fc565b6100a5565b604051610064929190610313565b60405180910390f35b61008061007b3660046103' +
    'bb565b6101cf565b6040519015158152602001610064565b6100a361009e3660046103eb565b61022d565b005b6040805160' +
    'a080820183525f80835260208084018290526060848601819052840182905260808401829052858252818152848220546001' +
    '8083528684208751958601885280548652908101549285019290925260028201805493966001600160a01b03909216949293' +
    '84928401919061011d90610423565b80601f0160208091040260200160405190810160405280929190818152602001828054' +
    '61014990610423565b80156101945780601f1061016b57610100808354040283529160200191610194565b820191905f5260' +
    '205f20905b81548152906001019060200180831161017757829003601f168201915b50505091835250506003919091015467' +
    'ffffffffffffffff8082166020840152600160401b9091041660409091015291959194509092505050565b5f828152602081' +
    '905260408120546001600160a01b0385811691161480156101ff57506001600160a01b03841615155b801561022557505f83' +
    '81526001602052604090206003015467ffffffffffffffff168210155b949350505050565b5f848152602081815260408083' +
    '2080546001600160a01b0319166001600160a01b038816179055805160a08101825285815280830185815282518085018452' +
    '858152828401908152600160608401819052608084018790528a875294859052929094208151815593519284019290925551' +
    '90919060028201906102b090826104c6565b5060608201516003909101805460809093015167ffffffffffffffff90811660' +
    '0160401b026fffffffffffffffffffffffffffffffff1990941692169190911791909117905550505050565b5f6020828403' +
    '121561030c575f5ffd5b5035919050565b60018060a01b038316815260406020820152815160408201526020820151606082' +
    '01525f604083015160a0608084015280518060e0850152806020830161010086015e5f610100828601015267ffffffffffff' +
    'ffff60608601511660a085015267ffffffffffffffff60808601511660c0850152610100601f19601f830116850101925050' +
    '509392505050565b80356001600160a01b03811681146103b6575f5ffd5b919050565b5f5f5f606084860312156103cd575f' +
    '5ffd5b6103d6846103a0565b95602085013595506040909401359392505050565b5f5f5f5f608085870312156103fe575f5f' +
    'fd5b8435935061040e602086016103a0565b93969395505050506040820135916060013590565b600181811c908216806104' +
    '3757607f821691505b60208210810361045557634e487b7160e01b5f52602260045260245ffd5b50919050565b634e487b71' +
    '60e01b5f52604160045260245ffd5b601f8211156104c157828211156104c157805f5260205f20601f840160051c60208510' +
    '1561049a57505f5b90810190601f840160051c035f5b818110156104bd575f838201556001016104a8565b5050505b505050' +
    '565b815167ffffffffffffffff8111156104e0576104e061045b565b6104f4816104ee8454610423565b8461046f565b6020' +
    '601f821160018114610526575f831561050f5750848201515b5f19600385901b1c1916600184901b17845561057e565b5f84' +
    '815260208120601f198516915b828110156105555787850151825560209485019460019092019101610535565b5084821015' +
    '61057257868401515f19600387901b60f8161c191681555b505060018360011b0184555b505050505056fea2646970667358' +
    '2212207e63b97a9cc4e889e862ac3faffa7b32a52067ed4893e7be27b4d7691426476464736f6c63430008250033') as Hex
