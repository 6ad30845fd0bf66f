import { describe, expect, it } from 'vitest';
import type { AnyFinding } from '../../src/model/finding.js';
import { headlineFigure } from '../../reports/terminal.js';

function finding(kind: string, title: string, figures: Record<string, number | string | null>): AnyFinding {
  return { kind, severity: 'high', title, explanation: '', figures, evidence: [] };
}

describe('the terminal headline figure of a finding', () => {
  it('is the figure its detector names as the headline, whatever comes first', () => {
    const knee = finding('client-timeout-knee', 'Clients give up before the backend answers', { timeoutSeconds: 5, requestsAtKnee: 1234 });
    expect(headlineFigure(knee)).toBe('requests at knee 1,234');
  });

  it('is, for a kind whose detector names none, the first number not already in the title', () => {
    const retries = finding('retry-storms', '17 clients retry within 2 s', { clients: 17, retries: 240 });
    expect(headlineFigure(retries)).toBe('retries 240');
  });
});
