/**
 * The client an address stands for, as the buckets by address know it. An IPv6 client is given a
 * /64 at least and may take a fresh address of it for every request, so it is known by its /64;
 * an IPv4-mapped IPv6 address (`::ffff:198.51.100.7`, how a dual-stack socket shows an IPv4 peer)
 * is its IPv4 client.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** The eight 16-bit groups of a valid IPv6 address, its zone left out. */
const ipv6Groups = (address: string): number[] => {
  const [unzoned = ''] = address.split('%', 1);
  // A trailing dotted IPv4 part holds the last two groups.
  const dotted = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(unzoned);
  const hex =
    dotted === null
      ? unzoned
      : `${dotted[1]}${((Number(dotted[2]) << 8) | Number(dotted[3])).toString(16)}:${((Number(dotted[4]) << 8) | Number(dotted[5])).toString(16)}`;
  const [head = '', tail] = hex.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const leading = parse(head);
  const trailing = tail === undefined ? [] : parse(tail);
  return [...leading, ...new Array<number>(8 - leading.length - trailing.length).fill(0), ...trailing];
};

/** The client at `address`: its IPv6 /64, its IPv4 address, or the string itself when it is no IP address. */
export const clientOf = (address: string): string => {
  if (isIPv4(address) || !isIPv6(address)) return address;
  const groups = ipv6Groups(address);
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  }
  return `${groups.slice(0, 4).map((group) => group.toString(16)).join(':')}::/64`;
};
