// What counts as loopback, in one place: the bind address (no auth means loopback only), peer
// addresses, and the Host header of a request to a loopback-bound node (DNS rebinding: a page
// of evil.example resolved to 127.0.0.1 still sends `Host: evil.example`).
import { BlockList, isIP } from 'node:net';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** An IP address of the loopback interface in any spelling (`127.x.y.z`, `::1`, `0:0:0:0:0:0:0:1`, `::ffff:127.0.0.1`). */
export function isLoopbackAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  // BlockList maps IPv4-mapped IPv6 addresses (::ffff:127.0.0.1) onto their IPv4 subnet.
  return LOOPBACK.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** A bind address or host name that reaches only this machine: loopback addresses, `localhost` and `*.localhost`. */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  return isLoopbackAddress(name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1) : name);
}

/** The host part of a Host header (`name:port`, `[v6]:port`, or either without a port). */
export function hostOfHeader(header: string): string {
  const value = header.trim();
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    return end === -1 ? value : value.slice(1, end);
  }
  const colon = value.indexOf(':');
  // More than one colon without brackets is not a valid Host header; keep it whole (not loopback).
  return colon === -1 || value.indexOf(':', colon + 1) !== -1 ? value : value.slice(0, colon);
}
