// A production network from its operators' declaration, as the README tells operators to start one:
// `build-spec --chain production:<operators.json> --raw`, then a validator node on that spec. It has no
// sudo, referenda take days, and the declared validator produces and finalises blocks.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';

import { connect, devAccounts, sendAndInclude, waitForHeader } from '../lib/chain.js';
import { runToExit, startNode } from '../lib/node.js';

const UNIT = 10n ** 12n;

describe('production network', () => {
  let dir;
  let node;
  let api;
  let accounts;

  /** The operators' declaration: Alice validates with a 2 000 MDL bond; Bob is endowed. */
  function declaration({ bond = '2000 MDL' } = {}) {
    const grandpa = new Keyring({ type: 'ed25519', ss58Format: 42 }).addFromUri('//Alice');
    return {
      name: 'modelchain Production Test',
      id: 'modelchain_production_test',
      endowments: [
        { account: accounts.alice.address, amount: '10000 MDL' },
        { account: accounts.bob.address, amount: '500.25 MDL' },
      ],
      validators: [{
        account: accounts.alice.address,
        aura: accounts.alice.address,
        grandpa: grandpa.address,
        scoring: accounts.alice.address,
        bond,
      }],
    };
  }

  function write(name, value) {
    const file = path.join(dir, name);
    writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
    return file;
  }

  before(async () => {
    await cryptoWaitReady();
    accounts = devAccounts();
    dir = mkdtempSync(path.join(tmpdir(), 'modelchain-production-'));
  });

  after(async () => {
    if (api) await api.disconnect();
    if (node) await node.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('build-spec refuses a declaration that could not run, saying why', async () => {
    const operators = write('low-bond.json', declaration({ bond: '999 MDL' }));
    const { code, stderr } = await runToExit(['build-spec', '--chain', `production:${operators}`, '--raw']);
    assert.notEqual(code, 0);
    assert.match(stderr, /operators. file .*: validator .* bonds 999000000000000, below the minimum bond/);
  });

  test('the raw spec starts a validator that produces and finalises blocks, with no sudo', async () => {
    const operators = write('operators.json', declaration());
    const built = await runToExit(['build-spec', '--chain', `production:${operators}`, '--raw']);
    assert.equal(built.code, 0, built.stderr);
    const spec = write('spec.json', built.stdout);
    assert.equal(JSON.parse(built.stdout).chainType, 'Live');

    node = await startNode({
      chain: spec,
      // `--alice` puts Alice's session keys in the node's keystore (what `author_insertKey` does for a
      // real operator); a validator needs a persistent network identity.
      extraArgs: ['--alice', '--node-key', randomBytes(32).toString('hex')],
    });
    api = await connect(node.wsUrl);
    assert.equal((await api.rpc.system.chain()).toString(), 'modelchain Production Test');
    await waitForHeader(api, { finalized: true, timeoutMs: 120_000, predicate: (h) => h.number.toNumber() >= 2 });

    // The declared validator, bonded; the declared endowments.
    const validators = (await api.query.session.validators()).map((v) => v.toString());
    assert.deepEqual(validators, [accounts.alice.address]);
    const scorer = (await api.query.scoring.scorers(accounts.alice.address)).unwrap();
    assert.equal(scorer.stake.toBigInt(), 2000n * UNIT);
    const bob = await api.query.system.account(accounts.bob.address);
    assert.equal(bob.data.free.toBigInt(), 500n * UNIT + UNIT / 4n);
    assert.equal((await api.query.system.account(accounts.charlie.address)).data.free.toBigInt(), 0n);

    // Production periods: a promotion is decided over a week; sessions last an hour.
    const timings = await api.query.governance.timings();
    assert.equal(timings.promotion.decision.toNumber(), 7 * 24 * 600);
    assert.equal((await api.query.validatorSet.sessionLength()).toNumber(), 600);

    // Nobody is sudo: Alice's sudo call is refused.
    assert.ok((await api.query.sudo.key()).isNone);
    await assert.rejects(
      sendAndInclude(api, api.tx.sudo.sudo(api.tx.system.remark('0x00')), accounts.alice),
      /sudo\.RequireSudo/,
    );
  });
});
