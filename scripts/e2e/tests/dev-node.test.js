// A real `--dev` node, driven by @polkadot/api: it produces and finalises blocks, describes its token,
// and executes a balance transfer with the exact fee accounted.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { connect, devAccounts, sendAndInclude, waitForHeader } from '../lib/chain.js';
import { startNode } from '../lib/node.js';

describe('dev node', () => {
  let node;
  let api;

  before(async () => {
    node = await startNode({ chain: 'dev' });
    api = await connect(node.wsUrl);
  });

  after(async () => {
    if (api) await api.disconnect();
    if (node) await node.stop();
  });

  test('produces blocks (best >= 3) and finalises them (finalized >= 1)', async () => {
    await waitForHeader(api, { timeoutMs: 90_000, predicate: (h) => h.number.toNumber() >= 3 });
    await waitForHeader(api, { finalized: true, timeoutMs: 90_000, predicate: (h) => h.number.toNumber() >= 1 });
    const finalizedHash = await api.rpc.chain.getFinalizedHead();
    const finalized = await api.rpc.chain.getHeader(finalizedHash);
    assert.ok(finalized.number.toNumber() >= 1);
  });

  test('chain properties name the MDL token with 12 decimals and SS58 format 42', async () => {
    const properties = await api.rpc.system.properties();
    assert.deepEqual(properties.tokenSymbol.unwrap().map((s) => s.toString()), ['MDL']);
    assert.deepEqual(properties.tokenDecimals.unwrap().map((d) => d.toNumber()), [12]);
    assert.equal(properties.ss58Format.unwrap().toNumber(), 42);
    assert.equal(api.runtimeVersion.specName.toString(), 'modelchain');
    assert.equal((await api.rpc.system.chain()).toString(), 'modelchain Development');
  });

  test('transferKeepAlive from Alice to Bob moves the amount and charges exactly the quoted fee', async () => {
    const { alice, bob } = devAccounts();
    const amount = 1_234_567_890_123n; // 1.234567890123 MDL
    const tx = api.tx.balances.transferKeepAlive(bob.address, amount);
    const quote = await tx.paymentInfo(alice);

    const aliceBefore = (await api.query.system.account(alice.address)).data.free.toBigInt();
    const bobBefore = (await api.query.system.account(bob.address)).data.free.toBigInt();

    const { blockHash, events } = await sendAndInclude(api, tx, alice);

    const transfer = events.find(({ event }) => api.events.balances.Transfer.is(event));
    assert.ok(transfer, 'Transfer event emitted');
    const [from, to, value] = transfer.event.data;
    assert.equal(from.toString(), alice.address);
    assert.equal(to.toString(), bob.address);
    assert.equal(value.toBigInt(), amount);

    const feePaid = events.find(({ event }) => api.events.transactionPayment.TransactionFeePaid.is(event));
    assert.ok(feePaid, 'TransactionFeePaid event emitted');
    const fee = feePaid.event.data.actualFee.toBigInt();
    assert.ok(fee > 0n, 'a fee was charged');
    assert.equal(fee, quote.partialFee.toBigInt(), 'charged fee equals the paymentInfo quote');
    assert.equal(feePaid.event.data.tip.toBigInt(), 0n);
    assert.ok(events.some(({ event }) => api.events.system.ExtrinsicSuccess.is(event)));

    const at = await api.at(blockHash);
    const aliceAfter = (await at.query.system.account(alice.address)).data.free.toBigInt();
    const bobAfter = (await at.query.system.account(bob.address)).data.free.toBigInt();
    assert.equal(aliceAfter, aliceBefore - amount - fee);
    assert.equal(bobAfter, bobBefore + amount);
  });
});
