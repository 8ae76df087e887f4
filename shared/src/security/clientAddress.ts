/**
 * The client an address stands for, as the buckets by address know it. An IPv6 client is given a
 * /64 at least and may take a fresh address of it for every request, so it is known by its /64;
 * an IPv4-mapped IPv6 address (`::ffff:198.51.100.7`, how a dual-stack socket shows an IPv4 peer)
 * is its IPv4 client.
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/** The client at `address`: its IPv6 /64, its IPv4 address, or the string itself when it is no IP address. */
export const clientOf = (address: string): string => {
  // Node's check first: ipaddr.js also reads legacy IPv4 spellings (`0x7f.1`, `2130706433`) as addresses.
  if (isIP(address) === 0) return address;
  const parsed = ipaddr.process(address);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  return `${(parsed as ipaddr.IPv6).parts.slice(0, 4).map((group) => group.toString(16)).join(':')}::/64`;
};
