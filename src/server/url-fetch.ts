// Fetching an image by URL without becoming a proxy into the private network (SSRF):
// - http and https only, no credentials in the URL, ports as the URL says;
// - every address the host resolves to must be public: loopback, private (RFC 1918, CGNAT),
//   link-local (cloud metadata 169.254.169.254 and fd00:ec2::254 included), multicast, reserved,
//   documentation ranges and their IPv6 forms (IPv4-mapped, NAT64, ULA, link-local) are refused;
// - the connection uses the address that was checked (lookup hook), so DNS rebinding between the
//   check and the connect cannot swap it;
// - redirects are followed by hand, at most 3, each target checked again;
// - 5 s overall, 5 MB cap (Content-Length and counted), image content types only.
import { BlockList, isIP } from 'node:net';
import { lookup as dnsLookup } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { ApiError } from './errors.ts';

const blocked = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) blocked.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128], ['::1', 128], ['::', 96] /* IPv4-compatible */, ['64:ff9b::', 96] /* NAT64, checked below too */,
  ['64:ff9b:1::', 48], ['100::', 64], ['2001::', 23], ['2001:db8::', 32], ['2002::', 16] /* 6to4 */, ['fc00::', 7], ['fe80::', 10],
  ['fec0::', 10], ['ff00::', 8],
] as const) blocked.addSubnet(net, bits, 'ipv6');

/** True when the address may be fetched from (a public unicast address). */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !blocked.check(address, 'ipv4');
  if (family === 6) {
    const lower = address.toLowerCase();
    // IPv4-mapped (::ffff:a.b.c.d or ::ffff:hhhh:hhhh) and NAT64 (64:ff9b::/96): judge the IPv4 inside.
    const mapped = /^(?:0*:)*?:?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower) ?? /^64:ff9b::(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
    if (mapped) return isPublicAddress(mapped[1]);
    const hexMapped = /^(?:0*:)*?:?ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
    if (hexMapped) {
      const hi = parseInt(hexMapped[1], 16);
      const lo = parseInt(hexMapped[2], 16);
      return isPublicAddress(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
    }
    return !blocked.check(address, 'ipv6');
  }
  return false;
}

export interface FetchPolicy {
  /** TEST ONLY: allow loopback addresses (a local test server). Off by default. */
  allowLoopback: boolean;
  timeoutMs: number;
  maxBytes: number;
  maxRedirects: number;
}

export const defaultFetchPolicy = (maxBytes: number): FetchPolicy => ({ allowLoopback: false, timeoutMs: 5000, maxBytes, maxRedirects: 3 });

const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/jpg', 'image/webp', 'image/gif']);

function allowed(address: string, policy: FetchPolicy): boolean {
  if (isPublicAddress(address)) return true;
  return policy.allowLoopback && (address === '127.0.0.1' || address === '::1');
}

const refused = (host: string, address: string) =>
  new ApiError(400, 'url_not_allowed', `the URL's host ${host} resolves to ${address}, which is not a public address (loopback, private, link-local, metadata, multicast and reserved addresses are refused)`);

function checkedLookup(policy: FetchPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const bad = addresses.find((a) => !allowed(a.address, policy));
      if (bad || addresses.length === 0) return callback(refused(hostname, bad?.address ?? 'nothing') as unknown as NodeJS.ErrnoException, '', 0);
      const first = addresses[0];
      if ((options as { all?: boolean }).all) (callback as unknown as (e: null, a: typeof addresses) => void)(null, addresses);
      else callback(null, first.address, first.family);
    });
  };
}

function parseTarget(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ApiError(400, 'bad_url', `not a valid absolute URL: ${JSON.stringify(raw.slice(0, 200))}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ApiError(400, 'bad_url', `only http and https URLs are fetched, not ${url.protocol}`);
  if (url.username || url.password) throw new ApiError(400, 'bad_url', 'URLs with credentials are not fetched');
  return url;
}

function getOnce(url: URL, policy: FetchPolicy, signal: AbortSignal): Promise<{ status: number; location?: string; type: string; body: Buffer }> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && !allowed(host, policy)) throw refused(host, host);
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(url, { method: 'GET', lookup: checkedLookup(policy), signal, headers: { 'user-agent': 'inkling/0.1 (+image fetch)', accept: 'image/*' } }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        return resolve({ status, location: res.headers.location, type: '', body: Buffer.alloc(0) });
      }
      if (status < 200 || status >= 300) {
        res.resume();
        return reject(new ApiError(502, 'url_fetch_failed', `the URL answered HTTP ${status}`));
      }
      const type = String(res.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      if (!IMAGE_TYPES.has(type)) {
        res.resume();
        return reject(new ApiError(415, 'unsupported_media_type', `the URL's content type is ${JSON.stringify(type || 'missing')}; only PNG, JPEG, WebP and GIF images are fetched`));
      }
      const declared = Number(res.headers['content-length'] ?? 0);
      if (declared > policy.maxBytes) {
        res.destroy();
        return reject(new ApiError(413, 'payload_too_large', `the image at the URL is ${declared} bytes; the limit is ${policy.maxBytes}`));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > policy.maxBytes) {
          res.destroy();
          reject(new ApiError(413, 'payload_too_large', `the image at the URL is over the ${policy.maxBytes}-byte limit`));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => resolve({ status, type, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Fetches an image URL under the policy; every failure is an ApiError with a clear message. */
export async function fetchImage(raw: string, policy: FetchPolicy): Promise<Buffer> {
  let url = parseTarget(raw);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), policy.timeoutMs);
  try {
    for (let hop = 0; ; hop++) {
      let r;
      try {
        r = await getOnce(url, policy, controller.signal);
      } catch (err) {
        if (err instanceof ApiError) throw err;
        if (controller.signal.aborted) throw new ApiError(504, 'url_timeout', `the URL did not answer within ${policy.timeoutMs / 1000} s`);
        throw new ApiError(502, 'url_fetch_failed', `could not fetch the URL: ${(err as Error).message}`);
      }
      if (r.location === undefined) return r.body;
      if (hop >= policy.maxRedirects) throw new ApiError(502, 'url_fetch_failed', `more than ${policy.maxRedirects} redirects`);
      url = parseTarget(new URL(r.location, url).toString());
    }
  } finally {
    clearTimeout(timer);
  }
}
