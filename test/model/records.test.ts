import { describe, expect, it } from 'vitest';
import { answerNotDelivered, cutOffAfterTimedAttempt, cutOffBeforeAnswer, emptyProxyRecord, type ProxyRecord, upstreamMissing, upstreamTimed, upstreamUsed } from '../../src/model/records.js';

/** The record model's facts about the backend's answer, each defined once and used by every detector and summary. */

function record(fields: Partial<ProxyRecord>): ProxyRecord {
  return { ...emptyProxyRecord('nginx', 'access.log', 1, ''), upstreamLogged: true, ...fields };
}

const CASES: [what: string, record: ProxyRecord, facts: { missing: boolean; used: boolean; timed: boolean; cutOff: boolean; cutOffTimed: boolean; notDelivered: boolean }][] = [
  ['answered by the backend (nginx 200, upstream 200 in 0.63 s)',
    record({ status: 200, upstreamStatus: 200, upstreamTimeMs: 630, upstreamAttempts: 1, upstreamAddr: '10.0.0.1:80' }),
    { missing: false, used: true, timed: true, cutOff: false, cutOffTimed: false, notDelivered: false }],
  ['the client hung up while the backend worked (nginx 499, upstream status -)',
    record({ status: 499, clientClosed: true, upstreamTimeMs: 5000, upstreamAttempts: 1, upstreamAddr: '10.0.0.1:80' }),
    { missing: true, used: true, timed: false, cutOff: true, cutOffTimed: true, notDelivered: true }],
  ['the proxy stopped waiting for a backend it reached, logged with only its address ($upstream_addr, no upstream times)',
    record({ status: 404, upstreamAddr: '10.0.0.1:80' }),
    { missing: true, used: true, timed: false, cutOff: true, cutOffTimed: false, notDelivered: true }],
  ['made by the proxy without a backend (a local 404 or 429)',
    record({ status: 429 }),
    { missing: true, used: false, timed: false, cutOff: false, cutOffTimed: false, notDelivered: true }],
  ['a format that does not log the backend at all (nginx combined)',
    record({ status: 200, upstreamLogged: false }),
    { missing: false, used: false, timed: false, cutOff: false, cutOffTimed: false, notDelivered: false }],
  ['a client abort in a format without upstream fields (ALB 460)',
    record({ status: 460, clientClosed: true, upstreamLogged: false }),
    { missing: false, used: false, timed: false, cutOff: true, cutOffTimed: true, notDelivered: true }],
  ['an answer whose time the proxy did not log',
    record({ status: 200, upstreamStatus: 200, upstreamAttempts: 1 }),
    { missing: false, used: true, timed: false, cutOff: false, cutOffTimed: false, notDelivered: false }],
];

describe('what the record says about the backend\'s answer', () => {
  it.each(CASES)('%s', (_what, proxy, facts) => {
    expect({
      missing: upstreamMissing(proxy), used: upstreamUsed(proxy), timed: upstreamTimed(proxy),
      cutOff: cutOffBeforeAnswer(proxy), cutOffTimed: cutOffAfterTimedAttempt(proxy), notDelivered: answerNotDelivered(proxy),
    }).toEqual(facts);
  });
});
