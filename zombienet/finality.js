// A zombienet custom-js check of the network's liveness around a validator that stops.
//   with "advances":  the node's finalised height grows by 5 blocks (run while a validator is stopped:
//                     3 of 4 GRANDPA voters are more than two thirds, so finality must continue);
//   with "caught-up": the node (a restarted validator) reaches the finalised height the others have now,
//                     and every node has the same block and the same state root at that height.
// Returns 1 when the check holds; throws (with what it saw) otherwise.
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function finalizedNumber(api) {
  const hash = await api.rpc.chain.getFinalizedHead();
  return (await api.rpc.chain.getHeader(hash)).number.toNumber();
}

async function waitFor(predicate, what, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(1000);
  }
}

async function run(nodeName, networkInfo, args) {
  const mode = args[0];
  // Only the nodes the check needs: a stopped node accepts a connection and never answers.
  const names = mode === 'caught-up' ? Object.keys(networkInfo.nodesByName) : [nodeName];
  const apis = {};
  for (const name of names) {
    apis[name] = await zombie.connect(networkInfo.nodesByName[name].wsUri);
  }
  try {
    const self = apis[nodeName];
    if (mode === 'advances') {
      const start = await finalizedNumber(self);
      await waitFor(async () => (await finalizedNumber(self)) >= start + 5,
        `${nodeName}'s finalised height to pass ${start + 5}`, 150000);
      return 1;
    }
    if (mode === 'caught-up') {
      const others = Object.keys(apis).filter((n) => n !== nodeName);
      const target = Math.max(...(await Promise.all(others.map((n) => finalizedNumber(apis[n])))));
      await waitFor(async () => (await finalizedNumber(self)) >= target,
        `${nodeName} to finalise #${target}`, 150000);
      const seen = {};
      for (const [name, api] of Object.entries(apis)) {
        await waitFor(async () => (await finalizedNumber(api)) >= target, `${name} to finalise #${target}`, 60000);
        const hash = await api.rpc.chain.getBlockHash(target);
        const header = await api.rpc.chain.getHeader(hash);
        seen[name] = `${hash.toHex()} ${header.stateRoot.toHex()}`;
      }
      if (new Set(Object.values(seen)).size !== 1) {
        throw new Error(`nodes disagree at #${target}: ${JSON.stringify(seen)}`);
      }
      return 1;
    }
    throw new Error(`unknown mode ${mode}`);
  } finally {
    await Promise.all(Object.values(apis).map((api) => api.disconnect()));
  }
}

module.exports = { run };
