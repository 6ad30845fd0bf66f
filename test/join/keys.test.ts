import { describe, expect, it } from 'vitest';
import { apmJoinKey, apmKeyParts, normalisePath, proxyJoinKey, routeFromName, RouteTemplates, templatePattern } from '../../src/join/keys.js';
import { emptyApmTransaction, emptyProxyRecord } from '../../src/model/records.js';

function proxy(method: string | null, path: string | null) {
  const record = emptyProxyRecord('nginx', 'a.log', 1, '');
  record.method = method;
  record.path = path;
  return record;
}

function apm(method: string | null, path: string | null, name: string | null = null) {
  const transaction = emptyApmTransaction('nr', 'b.csv', 2, '');
  transaction.method = method;
  transaction.path = path;
  transaction.name = name;
  return transaction;
}

describe('normalisePath', () => {
  it.each([
    ['/v1/orders/', '/v1/orders'],
    ['//v1//orders', '/v1/orders'],
    ['/', '/'],
    ['/V1/Orders', '/V1/Orders'],
  ])('%s → %s', (input, expected) => expect(normalisePath(input)).toBe(expected));
});

describe('concrete keys', () => {
  it('agree across layers on the normalised path', () => {
    expect(proxyJoinKey(proxy('GET', '/v1/orders/'))).toBe(apmJoinKey(apm('GET', '/v1/orders')));
  });
  it('leave the method out: an export without request.method keys like one with it (the method is evidence, pair-cost.ts)', () => {
    expect(apmJoinKey(apm(null, '/v1/orders'))).toBe(proxyJoinKey(proxy('GET', '/v1/orders')));
    expect(proxyJoinKey(proxy(null, '/v1/orders'))).toBe(apmJoinKey(apm('GET', '/v1/orders')));
  });
  it('differ where the path differs, and case matters in paths', () => {
    expect(proxyJoinKey(proxy('GET', '/v1/Orders'))).not.toBe(apmJoinKey(apm('GET', '/v1/orders')));
  });
  it('are null without a path (nothing to join on)', () => {
    expect(proxyJoinKey(proxy('GET', null))).toBeNull();
    expect(apmJoinKey(apm('GET', null, 'OtherTransaction/Sidekiq/Job'))).toBeNull();
  });
});

describe('route templates', () => {
  it('come out of New Relic, OTel and Datadog names', () => {
    expect(routeFromName('WebTransaction/Expressjs/GET//v2/applications/:id/metrics.json')).toEqual({ method: 'GET', template: '/v2/applications/:id/metrics.json' });
    expect(routeFromName('GET /v1/orders/{orderId}')).toEqual({ method: 'GET', template: '/v1/orders/{orderId}' });
    expect(routeFromName('WebTransaction/Controller/v2/metrics/index')).toBeNull();
  });

  it('normalise parameters to *, keeping suffixes', () => {
    expect(templatePattern('/v2/servers/:id.json')).toBe('/v2/servers/*.json');
    expect(templatePattern('/v1/orders/{orderId}/items')).toBe('/v1/orders/*/items');
  });

  it('key name-only transactions apart from concrete paths (a ~ prefix), and by template', () => {
    expect(apmKeyParts(apm(null, null, 'WebTransaction/Expressjs/GET//v2/servers/:id.json'))).toEqual({ kind: '~', path: '/v2/servers/*.json' });
    expect(apmKeyParts(apm('GET', '/v1/orders/:id'))).toEqual({ kind: '~', path: '/v1/orders/*' });
    expect(apmKeyParts(apm('GET', '/v1/orders/7'))).toEqual({ kind: '', path: '/v1/orders/7' });
  });

  it('reduce proxy paths by id-like segments when no template is given', () => {
    const templates = new RouteTemplates();
    expect(templates.patternOf('/v2/applications/1234/metrics.json')).toBe('/v2/applications/*/metrics.json');
    expect(templates.patternOf('/v2/servers/5003.json')).toBe('/v2/servers/*.json');
    expect(templates.patternOf('/v1/users/3f2504e0-4f89-11d3-9a0c-0305e82c3301')).toBe('/v1/users/*');
    expect(templates.patternOf('/v1/users/alice')).toBe('/v1/users/alice');
  });

  it('try the template with more literal segments first, whatever the order they came in', () => {
    const templates = new RouteTemplates(['/v1/orders/:id', '/v1/orders/summary']);
    expect(templates.patternOf('/v1/orders/summary')).toBe('/v1/orders/summary');
    expect(templates.patternOf('/v1/orders/abc')).toBe('/v1/orders/*');
  });

  it('key a proxy-side template (API Gateway resourcePath) by its pattern', () => {
    expect(proxyJoinKey(proxy('GET', '/pets/{petId}'))).toBe('~/pets/*');
  });

  it('use given templates first (slugs are not id-like)', () => {
    const templates = new RouteTemplates(['/v1/users/:name', '/v1/users/:name/repos/{repo}']);
    expect(templates.patternOf('/v1/users/alice')).toBe('/v1/users/*');
    expect(templates.patternOf('/v1/users/alice/repos/alf')).toBe('/v1/users/*/repos/*');
    expect(templates.proxyTemplateKey(proxy('GET', '/v1/users/alice/'))).toBe('~/v1/users/*');
  });
});
