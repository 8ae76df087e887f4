import { expect } from 'chai';
import { clientOf } from '../../src/security/clientAddress.js';

describe('clientOf', () => {
  it('knows an IPv6 address by its /64, however it is spelt', () => {
    const spellings = ['2001:db8:1:2::a', '2001:0DB8:0001:0002:0000:0000:0000:000a', '2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:db8:1:2::1%eth0'];
    expect(new Set(spellings.map(clientOf))).to.deep.equal(new Set(['2001:db8:1:2::/64']));
    expect(clientOf('2001:db8:1:3::a')).to.equal('2001:db8:1:3::/64');
    expect(clientOf('::1')).to.equal('0:0:0:0::/64');
    expect(clientOf('64:ff9b::198.51.100.7'), 'a dotted tail is the last two groups').to.equal('64:ff9b:0:0::/64');
  });

  it('knows an IPv4-mapped IPv6 address as its IPv4 address, and an IPv4 address as itself', () => {
    expect(clientOf('::ffff:198.51.100.7')).to.equal('198.51.100.7');
    expect(clientOf('::FFFF:c633:6407')).to.equal('198.51.100.7');
    expect(clientOf('0:0:0:0:0:ffff:198.51.100.7')).to.equal('198.51.100.7');
    expect(clientOf('198.51.100.7')).to.equal('198.51.100.7');
  });

  it('leaves anything that is no IP address as it is', () => {
    expect(clientOf('unknown')).to.equal('unknown');
  });
});
