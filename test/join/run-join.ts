import { emptyJoinStats, type JoinStats } from '../../src/join/join-stats.js';
import { joinStreams } from '../../src/join/join-streams.js';
import { DEFAULT_JOIN_OPTIONS, type JoinOptions } from '../../src/join/options.js';
import type { ApmTransaction, JoinedRequest, ProxyRecord } from '../../src/model/records.js';
import { JoinScenario, inBatches, scorePairs, type JoinScenarioOptions, type JoinScore } from '../generators/join-scenarios.js';

/** Runs the streaming join over arrays and collects every joined request. */
export async function runJoin(
  proxies: readonly ProxyRecord[],
  transactions: readonly ApmTransaction[] | null,
  options: Partial<JoinOptions> = {},
): Promise<{ requests: JoinedRequest[]; stats: JoinStats }> {
  const stats = emptyJoinStats();
  const requests: JoinedRequest[] = [];
  const apm = transactions === null ? null : inBatches(transactions);
  for await (const batch of joinStreams(inBatches(proxies), apm, { ...DEFAULT_JOIN_OPTIONS, ...options }, stats)) for (const request of batch) requests.push(request);
  return { requests, stats };
}

/** Generates a scenario, joins it, and scores the result against the truth. */
export async function measureScenario(
  scenario: Partial<JoinScenarioOptions>,
  options: Partial<JoinOptions> = {},
): Promise<{ score: JoinScore; stats: JoinStats; requests: JoinedRequest[] }> {
  const generator = new JoinScenario(scenario);
  const { proxies, transactions } = generator.collect();
  const { requests, stats } = await runJoin(proxies, transactions, options);
  return { score: scorePairs(requests, generator.truePairs), stats, requests };
}
