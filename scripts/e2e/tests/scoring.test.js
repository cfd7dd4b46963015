// Validator scoring end to end: a dev node whose validator (Alice) has her scoring key from `--dev`, a
// loopback HTTP server serving the fixtures, and polkadot.js driving the chain. A model with an
// evaluation plan gets two versions: one whose file matches its digest, one whose file does not. Within
// a bounded number of blocks the offchain worker has fetched, verified and evaluated both, committed and
// revealed, and the chain has concluded: the first is `Validated` with exactly the score onnxruntime
// computes, the second `Rejected` for a digest mismatch. A third version is a 3 KB model whose analysis
// asks for a 10 GB tensor: the node's evaluation sandbox reports it too costly, and the node lives on.
// Two scikit-learn exports (ONNX-ML operators, ZipMap outputs) are validated with onnxruntime's scores.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { u8aToHex } from '@polkadot/util';

import { artifactOf, reference, serveFixtures } from '../lib/artifacts.js';
import { connect, devAccounts, eventData, sendAndInclude } from '../lib/chain.js';
import { startNode } from '../lib/node.js';

describe('validator scoring', () => {
  let node;
  let api;
  let server;
  let alice;

  before(async () => {
    server = await serveFixtures();
    node = await startNode({ chain: 'dev' });
    api = await connect(node.wsUrl);
    ({ alice } = devAccounts());
  });

  after(async () => {
    if (api) await api.disconnect();
    if (node) await node.stop();
    if (server) await server.close();
  });

  // A golden dataset of `samples` samples, a model scored on it by accuracy, and its evaluation plan.
  const modelScoredOn = async (goldenFile, samples, name, license) => {
    const golden = artifactOf(goldenFile, server.url(`/files/${goldenFile}`), 'Safetensors');
    const datasetEvents = (await sendAndInclude(
      api, api.tx.modelRegistry.registerDataset(golden, samples, 'BSD-3-Clause', null), alice,
    )).events;
    const goldenId = eventData(datasetEvents, 'modelRegistry', 'DatasetRegistered').dataset.toNumber();
    const modelEvents = (await sendAndInclude(api, api.tx.modelRegistry.registerModel(
      name, 'Classification', license, `https://models.example.org/${name}/card.md`,
      ['test'], { AtLeast: 900_000_000 },
    ), alice)).events;
    const modelId = eventData(modelEvents, 'modelRegistry', 'ModelRegistered').model.toNumber();
    await sendAndInclude(
      api, api.tx.modelRegistry.setEvaluationPlan(modelId, { golden: goldenId, metric: 'Accuracy' }), alice,
    );
    return modelId;
  };

  // Publishes `artifact` as an initial version of `modelId`: its version and scoring job.
  const publish = async (modelId, artifact) => {
    const { events } = await sendAndInclude(api, api.tx.modelRegistry.publishVersion(
      modelId, artifact, 'Initial', [], null, [], [],
    ), alice);
    const requested = eventData(events, 'modelRegistry', 'EvaluationRequested');
    return { version: requested.version.toNumber(), job: requested.job.toNumber() };
  };
  const onnx = (file) => artifactOf(file, server.url(`/files/${file}`), 'Onnx');

  // The statuses of `versions` once none is a candidate any more. Commit window 10 blocks, reveal window
  // 5, concluded on the next block: at most 30 blocks.
  const concluded = async (versions) => {
    const start = (await api.rpc.chain.getHeader()).number.toNumber();
    const statuses = {};
    await new Promise((resolve, reject) => {
      let unsub = null;
      const check = async (header) => {
        for (const [name, { version }] of Object.entries(versions)) {
          statuses[name] = (await api.query.modelRegistry.versions(version)).unwrap().status;
        }
        if (Object.values(statuses).every((status) => !status.isCandidate)) {
          if (unsub) unsub();
          resolve();
        } else if (header.number.toNumber() > start + 30) {
          if (unsub) unsub();
          reject(new Error(`still candidates 30 blocks later:\n${node.logs().slice(-4000)}`));
        }
      };
      api.rpc.chain.subscribeNewHeads((header) => { check(header).catch(reject); })
        .then((u) => { unsub = u; });
    });
    return statuses;
  };

  test('a published version is scored by the validators and validated or rejected', async () => {
    // Alice is a scorer from genesis, her stake held.
    const scorer = (await api.query.scoring.scorers(alice.address)).unwrap();
    assert.equal(scorer.key.toHex(), u8aToHex(alice.publicKey));
    const modelId = await modelScoredOn('digits_golden.safetensors', 540, 'digits-mlp', 'Apache-2.0');

    // The honest model, one whose file is not the one its digest pins, and an exhausting one.
    const honest = await publish(modelId, onnx('digits_mlp.onnx'));
    // The tampered version pins a digest no file on the server has (validators cache files by digest, so
    // it must not be one they already hold): its URI serves other bytes of the right size.
    const tampered = await publish(
      modelId, { ...onnx('digits_mlp_poisoned.onnx'), digest: '0x' + 'ab'.repeat(32) },
    );
    const bomb = await publish(modelId, onnx('bomb_constant.onnx'));
    const {
      honest: honestStatus, tampered: tamperedStatus, bomb: bombStatus,
    } = await concluded({ honest, tampered, bomb });

    const expected = BigInt(reference().digits_mlp.accuracy.ppb);
    assert.ok(honestStatus.isValidated, `honest version: ${honestStatus.toString()}`);
    assert.equal(honestStatus.asValidated.score.toBigInt(), expected);
    assert.ok(tamperedStatus.isRejected, `tampered version: ${tamperedStatus.toString()}`);
    assert.ok(tamperedStatus.asRejected.reason.isDigestMismatch);
    assert.ok(bombStatus.isRejected, `exhausting version: ${bombStatus.toString()}`);
    assert.ok(bombStatus.asRejected.reason.isInvalidModel);
    const bombResult = (await api.query.scoring.results(bomb.job)).unwrap();
    assert.ok(bombResult.outcome.asInvalid.isTooCostly, bombResult.outcome.toString());
    assert.match(node.logs(), /too costly to evaluate: needs more memory/);

    // The jobs' results: Alice committed and revealed on each.
    for (const { job } of [honest, tampered, bomb]) {
      const result = (await api.query.scoring.results(job)).unwrap();
      assert.equal(result.commits.toNumber(), 1);
      assert.equal(result.reveals.toNumber(), 1);
    }
    const honestResult = (await api.query.scoring.results(honest.job)).unwrap();
    assert.equal(honestResult.outcome.asScored.toBigInt(), expected);
    const participation = (await api.query.scoring.participations(honest.job, alice.address)).unwrap();
    assert.ok(participation.assessment.unwrap().isScored);
    assert.equal(participation.assessment.unwrap().asScored.deviation.toNumber(), 0);
  });

  test('scikit-learn exports are scored as onnxruntime scores them', async () => {
    // skl2onnx's default exports: a scaled logistic regression (Scaler, LinearClassifier, Normalizer,
    // ZipMap) and a random forest (TreeEnsembleClassifier, ZipMap), versions of one model on iris.
    const modelId = await modelScoredOn('iris_golden.safetensors', 60, 'iris-sklearn', 'BSD-3-Clause');
    const versions = {};
    for (const name of ['sk_logreg_scaled', 'sk_forest']) {
      versions[name] = await publish(modelId, onnx(`${name}.onnx`));
    }
    const statuses = await concluded(versions);
    for (const [name, status] of Object.entries(statuses)) {
      assert.ok(status.isValidated, `${name}: ${status.toString()}`);
      assert.equal(status.asValidated.score.toBigInt(), BigInt(reference()[name].accuracy.ppb), name);
    }
  });

  test('commits from an account that is not a scorer never reach a block', async () => {
    const { bob } = devAccounts();
    // A signed commit: refused at dispatch, as commits are authorized by a scoring key, not signed.
    const tx = api.tx.scoring.commitScore(0, '0x' + '11'.repeat(32), u8aToHex(bob.publicKey), '0x' + '22'.repeat(64));
    await assert.rejects(sendAndInclude(api, tx, bob), /BadOrigin|Invalid|1010/);
  });
});
