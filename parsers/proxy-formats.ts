import { apacheCombined, apacheCombinedMicros, apacheCombinedSeconds, apacheCommon, apacheVhostCombined, apacheVhostCommon } from './apache.js';
import { awsAlb } from './aws-alb.js';
import { awsApiGatewayClf, awsApiGatewayJson } from './aws-api-gateway.js';
import { awsElbClassic } from './aws-elb-classic.js';
import { caddy } from './caddy.js';
import { cloudfront } from './cloudfront.js';
import { envoy, envoyJson } from './envoy.js';
import type { FormatDef } from './format.js';
import { haproxy } from './haproxy.js';
import { haproxyClf } from './haproxy-clf.js';
import { kong } from './kong.js';
import { nginxCombined, nginxIngress, nginxIngressLegacy, nginxMain } from './nginx.js';
import { nginxJson } from './nginx-json.js';
import { traefikClf, traefikJson } from './traefik.js';
import { tyk } from './tyk.js';
import { tykAccessLog } from './tyk-access-log.js';

/**
 * Proxy and gateway formats, in detection order: specific before generic.
 * - JSON formats are told apart by their signature keys; nginx-json accepts any object with a
 *   time and a status, so it comes after the gateways whose keys are fixed.
 * - Fixed-column formats (ALB, ELB, Envoy, HAProxy, CloudFront) check field counts and quoting.
 * - The CLF family shares a prefix and differs in its tail: Traefik (`<n>ms`) and API Gateway
 *   (request ids) before Apache-with-duration and Apache's vhost formats, then ingress-nginx's upstreaminfo and nginx `main` (a `combined` line fits them
 *   loosely), nginx `combined`, and Apache `combined`, which is byte-for-byte the same layout:
 *   an ambiguous file goes to nginx, and only Apache's `\"` escaping makes Apache win.
 */
export const PROXY_FORMATS: readonly FormatDef[] = [
  kong,
  tyk,
  tykAccessLog,
  // Before Traefik's JSON: Caddy's entries are Go logger lines, which Traefik's reader ignores as its own.
  caddy,
  traefikJson,
  awsApiGatewayJson,
  envoyJson,
  nginxJson,
  awsAlb,
  awsElbClassic,
  envoy,
  haproxy,
  haproxyClf,
  cloudfront,
  traefikClf,
  awsApiGatewayClf,
  apacheCombinedMicros,
  apacheCombinedSeconds,
  // One field more than combined and common, the vhost: before nginx's formats, which read it loosely.
  apacheVhostCombined,
  apacheVhostCommon,
  nginxIngress,
  nginxIngressLegacy,
  nginxMain,
  nginxCombined,
  apacheCombined,
  apacheCommon,
];
