/**
 * Who and what the demo writes about: fictional customers and merchants in five currencies
 * (JPY without minor units, OMR with three), and the words their movements carry. Amounts are
 * drawn in euro cents and converted by a rough rate, so every currency sees plausible sizes.
 */

export interface DemoCurrency {
  code: string;
  /** Minor units of this currency per euro cent, as a fraction. */
  rate: readonly [numerator: bigint, denominator: bigint];
  customers: readonly string[];
  merchants: readonly DemoMerchant[];
}

export interface DemoMerchant {
  name: string;
  /** What its customers buy, for descriptions. */
  goods: readonly string[];
}

export const DEMO_CURRENCIES: readonly DemoCurrency[] = [
  {
    code: 'EUR',
    rate: [1n, 1n],
    customers: ['Lukas Becker', 'Sofia Rossi', 'Chloé Martin', 'Jonas Schmidt', 'Léa Dubois', 'Mia Müller'],
    merchants: [
      { name: 'Kaffeehaus Lindner', goods: ['flat white and croissant', 'coffee beans 1 kg', 'breakfast for two'] },
      { name: 'Nordlicht Books', goods: ['hardcover novel', 'travel guide', 'children’s picture book'] },
      { name: 'Urban Rail Tickets', goods: ['monthly pass', 'day ticket zones A–C', 'airport transfer'] },
    ],
  },
  {
    code: 'USD',
    rate: [108n, 100n],
    customers: ['Emma Johnson', 'Noah Williams', 'Ava Davis', 'Mateo García'],
    merchants: [
      { name: 'Pinecrest Grocers', goods: ['weekly groceries', 'organic produce box', 'household supplies'] },
      { name: 'Atlas Cloud Hosting', goods: ['VPS monthly plan', 'object storage 1 TB', 'domain renewal'] },
    ],
  },
  {
    code: 'GBP',
    rate: [85n, 100n],
    customers: ['Oliver Smith', 'Isla Brown', 'Amara Okafor'],
    merchants: [
      { name: 'Harbour & Vine', goods: ['dinner for two', 'wine tasting', 'Sunday roast'] },
      { name: 'Thames Cycle Co', goods: ['bike service', 'inner tubes', 'commuter helmet'] },
    ],
  },
  {
    code: 'JPY',
    rate: [160n, 100n],
    customers: ['Haruto Sato', 'Yui Tanaka', 'Aiko Suzuki', 'Ren Kobayashi'],
    merchants: [
      { name: 'Sakura Electronics', goods: ['wireless earbuds', 'USB-C charger', 'mechanical keyboard'] },
      { name: 'Kyoto Tea House', goods: ['matcha set', 'sencha 200 g', 'tea ceremony lesson'] },
    ],
  },
  {
    code: 'OMR',
    rate: [415n, 100n],
    customers: ['Fatma Al-Balushi', 'Omar Al-Harthy', 'Layla Al-Riyami'],
    merchants: [{ name: 'Muscat Souq Traders', goods: ['frankincense gift box', 'silver khanjar replica', 'dates assortment'] }],
  },
];

export const EMPLOYERS = ['Acme Logistics', 'Helios Energy', 'Brightwater Health', 'Northwind Traders', 'Bluefin Analytics'];

export const P2P_REASONS = ['Split dinner', 'Rent share', 'Concert tickets', 'Birthday gift', 'Holiday cottage deposit', 'Football club fees'];

export const CHANNELS = ['web', 'mobile', 'pos'] as const;

export const FREEZE_REASONS = ['compliance review of merchant documents', 'chargeback ratio above threshold', 'sanctions screening hit under review'];

/** A stable owner id for a person or business: `cust-lukas-becker`, `merch-nordlicht-books`. */
export const ownerIdOf = (prefix: 'cust' | 'merch', name: string): string =>
  `${prefix}-${name
    .normalize('NFD')
    .replace(/[^A-Za-z0-9 ]/g, '')
    .trim()
    .toLowerCase()
    .replace(/\s+/g, '-')}`;
