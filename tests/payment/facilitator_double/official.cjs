// The OFFICIAL x402 facilitator code (npm @x402/core x402Facilitator with
// @x402/evm registerExactEvmScheme, which registers the v2 and the v1 exact
// EVM schemes) running against a CHAIN STAND-IN instead of a blockchain.
//
// Real: every check the facilitator makes (payload shape, network, EIP-712
// domain, signature recovery through viem, recipient, time window, amount,
// the diagnosis after a failed simulation), its invalidReason codes and its
// settle flow.
// Stand-in (this file, a test double): the FacilitatorEvmSigner the
// facilitator reads the chain through. It answers like Base Sepolia USDC
// (FiatTokenV2_2, EIP-712 name "USDC", version "2"):
//  - getCode: the asset has code, every other address is an EOA (no smart wallets);
//  - balanceOf: every account holds 1,000,000 USDC;
//  - authorizationState: the nonces this stand-in has settled;
//  - transferWithAuthorization (simulated through readContract, executed
//    through writeContract): FiatTokenV2's rules: validAfter < now <
//    validBefore, unused nonce, v in {27, 28}, low s, the recovered signer is
//    `from`, enough balance; executing it marks the nonce used;
//  - waitForTransactionReceipt: success with the Transfer log.
// "now" is the clock given per request (block.timestamp and Date.now() of
// the facilitator), so recorded payments can be judged at a fixed time.
'use strict';

const { createRequire } = require('node:module');
const path = require('node:path');

const HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;
const DEFAULT_BALANCE = 1_000_000n * 1_000_000n;
const V1_CHAIN_IDS = { 'base-sepolia': 84532, base: 8453 };

/** Loads the official packages from `modulesDir` (a directory holding node_modules). */
function loadOfficial(modulesDir) {
  const require = createRequire(path.join(path.resolve(modulesDir), 'package.json'));
  return {
    viem: require('viem'),
    evm: require('@x402/evm'),
    evmFacilitator: require('@x402/evm/exact/facilitator'),
    core: require('@x402/core/facilitator'),
  };
}

function chainIdOf(network) {
  if (typeof network === 'string' && network.startsWith('eip155:')) return Number(network.slice(7));
  return V1_CHAIN_IDS[network];
}

class RevertError extends Error {}

/** The chain stand-in shared by every request of one facilitator: balances and used nonces. */
class ChainStandIn {
  constructor(official, { tokenName = 'USDC', tokenVersion = '2' } = {}) {
    this.official = official;
    this.tokenName = tokenName;
    this.tokenVersion = tokenVersion;
    this.usedNonces = new Set();
    this.spent = new Map();
    this.receipts = new Map();
    this.facilitatorAddress = '0x90F79bf6EB2c4f870365E785982E1f101E93b906'; // Hardhat #3 (address only)
  }

  /** A FacilitatorEvmSigner for one request judged at unix second `now` on `chainId`. */
  signer(now, chainId, asset) {
    const { viem, evm } = this.official;
    const chain = this;
    const assetAddress = viem.getAddress(asset);
    const balanceOf = (account) => DEFAULT_BALANCE - (chain.spent.get(account.toLowerCase()) ?? 0n);
    const nonceKey = (from, nonce) => `${from.toLowerCase()}/${String(nonce).toLowerCase()}`;

    const transferWithAuthorization = (args, commit) => {
      const [from, to, value, validAfter, validBefore, nonce, ...sig] = args;
      const t = BigInt(now);
      if (!(t > BigInt(validAfter))) throw new RevertError('FiatTokenV2: authorization is not yet valid');
      if (!(t < BigInt(validBefore))) throw new RevertError('FiatTokenV2: authorization is expired');
      if (chain.usedNonces.has(nonceKey(from, nonce))) throw new RevertError('FiatTokenV2: authorization is used or canceled');
      let v, r, s;
      if (sig.length === 3) [v, r, s] = sig;
      else {
        const parsed = viem.parseSignature(sig[0]);
        v = parsed.v ?? BigInt(parsed.yParity);
        r = parsed.r;
        s = parsed.s;
      }
      if (BigInt(s) > HALF_ORDER) throw new RevertError("ECRecover: invalid signature 's' value");
      if (Number(v) !== 27 && Number(v) !== 28) throw new RevertError("ECRecover: invalid signature 'v' value");
      const digest = viem.hashTypedData({
        domain: { name: chain.tokenName, version: chain.tokenVersion, chainId, verifyingContract: assetAddress },
        types: evm.authorizationTypes,
        primaryType: 'TransferWithAuthorization',
        message: { from, to, value: BigInt(value), validAfter: BigInt(validAfter), validBefore: BigInt(validBefore), nonce },
      });
      return viem.recoverAddress({ hash: digest, signature: viem.serializeSignature({ r, s, v: BigInt(v) }) }).then((signer) => {
        if (!viem.isAddressEqual(signer, from)) throw new RevertError('FiatTokenV2: invalid signature');
        if (balanceOf(from) < BigInt(value)) throw new RevertError('ERC20: transfer amount exceeds balance');
        if (commit) {
          chain.usedNonces.add(nonceKey(from, nonce));
          chain.spent.set(from.toLowerCase(), (chain.spent.get(from.toLowerCase()) ?? 0n) + BigInt(value));
        }
        return { from, to, value: BigInt(value), nonce };
      });
    };

    const call = async (functionName, args = []) => {
      switch (functionName) {
        case 'balanceOf': return balanceOf(args[0]);
        case 'name': return chain.tokenName;
        case 'version': return chain.tokenVersion;
        case 'authorizationState': return chain.usedNonces.has(nonceKey(args[0], args[1]));
        case 'transferWithAuthorization': await transferWithAuthorization(args, false); return undefined;
        default: throw new RevertError(`chain stand-in: no function ${functionName}`);
      }
    };

    return {
      getAddresses: () => [chain.facilitatorAddress],
      async getCode({ address }) {
        return viem.isAddressEqual(address, assetAddress) ? '0x6080604052' : '0x';
      },
      async readContract({ address, functionName, args }) {
        if (functionName === 'tryAggregate') {
          const [, calls] = args;
          const results = [];
          for (const { target, callData } of calls) {
            try {
              if (!viem.isAddressEqual(target, assetAddress)) throw new RevertError('no code');
              const decoded = viem.decodeFunctionData({ abi: evm.eip3009ABI, data: callData });
              const result = await call(decoded.functionName, decoded.args);
              const returnData = result === undefined ? '0x'
                : viem.encodeFunctionResult({ abi: evm.eip3009ABI, functionName: decoded.functionName, result });
              results.push({ success: true, returnData });
            } catch {
              results.push({ success: false, returnData: '0x' });
            }
          }
          return results;
        }
        if (!viem.isAddressEqual(address, assetAddress)) throw new RevertError('chain stand-in: call to an address without code');
        return call(functionName, args);
      },
      async verifyTypedData(params) { return viem.verifyTypedData(params); },
      async writeContract({ address, functionName, args }) {
        if (functionName !== 'transferWithAuthorization' || !viem.isAddressEqual(address, assetAddress))
          throw new RevertError(`chain stand-in: cannot execute ${functionName}`);
        const transfer = await transferWithAuthorization(args, true);
        const hash = viem.keccak256(viem.toHex(`${transfer.from}/${transfer.nonce}`));
        chain.receipts.set(hash, {
          status: 'success',
          logs: [{
            address: assetAddress,
            topics: [
              viem.keccak256(viem.toHex('Transfer(address,address,uint256)')),
              viem.pad(transfer.from.toLowerCase()),
              viem.pad(transfer.to.toLowerCase()),
            ],
            data: viem.pad(viem.toHex(transfer.value)),
            blockNumber: 1n, blockHash: viem.pad('0x01'), logIndex: 0, transactionHash: hash, transactionIndex: 0, removed: false,
          }],
        });
        return hash;
      },
      async sendTransaction() { throw new RevertError('chain stand-in: sendTransaction is not supported'); },
      async waitForTransactionReceipt({ hash }) {
        const receipt = chain.receipts.get(hash);
        if (!receipt) throw new Error(`chain stand-in: no transaction ${hash}`);
        return receipt;
      },
    };
  }
}

/**
 * The official facilitator over the chain stand-in. verify/settle(payload,
 * requirements, now) judge at unix second `now`; calls are serialised
 * because the facilitator's clock (Date.now) is swapped during each.
 */
function createOfficialFacilitator(official, options = {}) {
  const chain = new ChainStandIn(official, options);
  let queue = Promise.resolve();
  const run = (method, payload, requirements, now) => {
    const job = queue.then(async () => {
      const facilitator = new official.core.x402Facilitator();
      const network = requirements.network;
      const chainId = chainIdOf(network);
      if (!chainId) throw new Error(`chain stand-in: unknown network ${network}`);
      const signer = chain.signer(now, chainId, requirements.asset);
      const v2Network = `eip155:${chainId}`;
      official.evmFacilitator.registerExactEvmScheme(facilitator, { signer, networks: v2Network });
      const realNow = Date.now;
      Date.now = () => now * 1000;
      try {
        return await facilitator[method](payload, requirements);
      } finally {
        Date.now = realNow;
      }
    });
    queue = job.catch(() => undefined);
    return job;
  };
  return {
    chain,
    verify: (payload, requirements, now) => run('verify', payload, requirements, now),
    settle: (payload, requirements, now) => run('settle', payload, requirements, now),
  };
}

module.exports = { loadOfficial, createOfficialFacilitator, ChainStandIn };
