/**
 * End to end with the sandbox provider: payments through the write API, the provider's Stripe
 * settlement report for that traffic imported through `POST /v1/statements`, and the
 * reconciliation read model read through the API. A clean report leaves nothing open; a report
 * with one fault of each class leaves exactly those discrepancies, each with its evidence.
 */
import { expect } from 'chai';
import { ReadStack } from '../readStack.js';

const seeded = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

type Row = Record<string, string>;

const PAYMENTS = 24;

const startWithTraffic = async () => {
  const stack = await ReadStack.start({
    write: {
      sandboxFaults: { failureRate: 0.25, settleRate: 0.5, duplicateRate: 0, latencyMs: { min: 0, max: 0 } },
      sandboxRandom: seeded(11),
    },
  });
  const merchant = (await stack.request('POST', '/v1/accounts', { ownerId: 'shop', currency: 'EUR', kind: 'merchant' })).body.id as string;
  const payments: { id: string; state: string; providerRef: string; fee: string | null }[] = [];
  for (let index = 0; index < PAYMENTS; index++) {
    const created = await stack.request(
      'POST',
      '/v1/payments',
      { merchantAccountId: merchant, amount: String(1000 + index * 37), currency: 'EUR', provider: 'sandbox', description: `order ${index}` },
      { 'idempotency-key': `pay-${index}` },
    );
    expect(created.status, created.text).to.equal(201);
    const submitted = await stack.request('POST', `/v1/payments/${created.body.id}/submit`, {}, { 'idempotency-key': `submit-${index}` });
    expect(submitted.status, submitted.text).to.equal(200);
  }
  const sandbox = stack.writeApi.sandbox('sandbox')!;
  await sandbox.idle();
  for (const charge of sandbox.charges()) payments.push((await stack.get(`/v1/payments/${charge.paymentId}`)).body);
  const csv = sandbox.settlementReport({ payoutId: 'po_e2e' });
  const [header, ...lines] = csv.trimEnd().split('\n');
  const columns = header!.split(',');
  const rows: Row[] = lines.map((line) => Object.fromEntries(line.split(',').map((value, index) => [columns[index]!, value])));
  const toCsv = (report: readonly Row[]) => [header, ...report.map((row) => columns.map((column) => row[column] ?? '').join(','))].join('\n') + '\n';
  return { stack, payments, rows, toCsv };
};

const importReport = async (stack: ReadStack, csv: string, fileName: string) => {
  const response = await fetch(`${stack.baseUrl}/v1/statements?provider=sandbox&format=stripe-balance&fileName=${fileName}`, {
    method: 'POST',
    headers: { 'content-type': 'text/csv' },
    body: csv,
  });
  const body = (await response.json()) as { position: string; fileHash: string };
  expect(response.status, JSON.stringify(body)).to.be.oneOf([200, 201]);
  expect(await stack.projections.waitFor(BigInt(body.position), 10_000)).to.equal(true);
  return body;
};

const openDiscrepancies = async (stack: ReadStack): Promise<any[]> => {
  const response = await stack.get('/v1/reconciliation/discrepancies?status=open&limit=100');
  expect(response.status, response.text).to.equal(200);
  return response.body.items;
};

const labelOf = (discrepancy: any) => `${discrepancy.code} ${discrepancy.detail.paymentId ?? discrepancy.detail.rowKey ?? discrepancy.detail.payoutId}`;

/**
 * The payout row the provider adds for a payout: its net is what left the balance, the negative
 * of its lines' nets (each balance transaction counted once).
 */
const payoutRowOf = (report: readonly Row[], payoutId: string): Row => {
  const lines = new Map(report.filter((row) => row.automatic_payout_id === payoutId && row.currency === 'eur').map((row) => [row.balance_transaction_id, row]));
  const total = [...lines.values()].reduce((sum, row) => sum + minor(row.net!), 0n);
  return {
    balance_transaction_id: `txn_${payoutId}`,
    created_utc: report[0]!.created_utc!,
    currency: 'eur',
    gross: decimal(-total),
    fee: '0.00',
    net: decimal(-total),
    reporting_category: 'payout',
    source_id: payoutId,
    automatic_payout_id: payoutId,
  };
};

/** Decimal text of the report ↔ minor units (EUR). */
const minor = (text: string): bigint => BigInt(text.replace('.', ''));
const decimal = (units: bigint): string => {
  const sign = units < 0n ? '-' : '';
  const digits = (units < 0n ? -units : units).toString().padStart(3, '0');
  return `${sign}${digits.slice(0, -2)}.${digits.slice(-2)}`;
};

describe('reconciliation end to end with the sandbox provider', function () {
  this.timeout(60_000);

  it('finds nothing in a clean settlement report', async () => {
    const { stack, rows, toCsv } = await startWithTraffic();
    try {
      await importReport(stack, toCsv([...rows, payoutRowOf(rows, 'po_e2e')]), 'clean.csv');
      expect((await openDiscrepancies(stack)).map(labelOf)).to.deep.equal([]);
      const summary = (await stack.get('/v1/reconciliation/summary')).body.items[0];
      expect(summary).to.include({ provider: 'sandbox', currency: 'EUR', openTotal: 0, delta: '0' });
      expect(summary.matched).to.equal(rows.length);
    } finally {
      await stack.stop();
    }
  });

  it('finds exactly the injected faults, with their evidence, and follows a late correction', async () => {
    const { stack, payments, rows, toCsv } = await startWithTraffic();
    try {
      const failed = payments.find((payment) => payment.state === 'FAILED')!;
      const settledRow = rows.find((row) => row.fee !== '0.00')!;
      const others = rows.filter((row) => row !== settledRow);
      expect(failed, 'the seed leaves a failed payment').to.not.equal(undefined);
      expect(others.length, 'the seed leaves enough captured payments').to.be.at.least(8);
      const [dropped, repeated, skewed, scaled, foreign, broken, doubled] = others as [Row, Row, Row, Row, Row, Row, Row];
      const id = (row: Row) => row['payment_metadata[folio_payment_id]']!;
      const txn = (row: Row) => row.balance_transaction_id!;

      const faulty: Row[] = [];
      for (const row of rows) {
        if (row === dropped) continue;
        if (row === skewed) faulty.push({ ...row, gross: decimal(minor(row.gross!) + 1n), net: decimal(minor(row.net!) + 1n) });
        else if (row === scaled) faulty.push({ ...row, gross: decimal(minor(row.gross!) * 100n), net: decimal(minor(row.gross!) * 100n - minor(row.fee!)) });
        else if (row === foreign) faulty.push({ ...row, currency: 'usd' });
        else if (row === broken) faulty.push({ ...row, net: decimal(minor(row.net!) + 5n) });
        else if (row === settledRow) faulty.push({ ...row, fee: decimal(minor(row.fee!) + 1n), net: decimal(minor(row.net!) - 1n) });
        else faulty.push(row);
        if (row === repeated) faulty.push(row);
        if (row === doubled) faulty.push({ ...row, balance_transaction_id: 'txn_second_charge' });
      }
      const template = rows[0]!;
      // An amount no payment has: the rules cannot tie it to one either.
      faulty.push({
        ...template,
        balance_transaction_id: 'txn_ghost',
        charge_id: 'ch_ghost',
        payment_intent_id: 'pi_ghost',
        source_id: 'ch_ghost',
        'payment_metadata[folio_payment_id]': '',
        gross: '7.77',
        fee: '0.00',
        net: '7.77',
      });
      faulty.push({
        ...template,
        balance_transaction_id: 'txn_after_failure',
        charge_id: failed.providerRef,
        payment_intent_id: failed.providerRef,
        source_id: failed.providerRef,
        'payment_metadata[folio_payment_id]': failed.id,
      });

      // The provider's payout pays out the lines as they really were.
      faulty.push(payoutRowOf(rows, 'po_e2e'));
      const payoutBroken = payoutRowOf(faulty, 'po_e2e').net !== payoutRowOf(rows, 'po_e2e').net;
      const first = await importReport(stack, toCsv(faulty), 'faulty.csv');
      const expected = [
        `INTERNAL_UNMATCHED ${id(dropped)}`,
        `DUPLICATE_PROVIDER_ROW ${txn(repeated)}`,
        `AMOUNT_MISMATCH ${id(skewed)}`,
        `UNIT_EXPONENT_MISMATCH ${id(scaled)}`,
        `CURRENCY_MISMATCH ${id(foreign)}`,
        `NET_INCONSISTENT ${txn(broken)}`,
        `FEE_MISMATCH ${id(settledRow)}`,
        `DUPLICATE_CHARGE ${id(doubled)}`,
        'PROVIDER_UNMATCHED txn_ghost',
        `STATUS_SUPERSEDED ${failed.id}`,
        ...(payoutBroken ? ['PAYOUT_LINES_MISMATCH po_e2e'] : []),
      ];
      expect(payoutBroken, 'the seed changes lines of the payout').to.equal(true);
      const found = await openDiscrepancies(stack);
      expect(found.map(labelOf).sort()).to.deep.equal([...expected].sort());

      const amount = found.find((discrepancy) => discrepancy.code === 'AMOUNT_MISMATCH');
      expect(amount.detail).to.include({ difference: '1', currency: 'EUR' });
      const rowEvidence = amount.evidence.find((evidence: any) => evidence.kind === 'statement-row');
      expect(rowEvidence).to.include({ fileHash: first.fileHash });
      expect(amount.evidence.filter((evidence: any) => evidence.kind === 'ledger-event').map((evidence: any) => evidence.type)).to.include('PaymentCaptured');

      // The provider restates the skewed row in its next report: the correction wins.
      const corrected = faulty.map((row) => (row.balance_transaction_id === txn(skewed) ? skewed : row));
      await importReport(stack, toCsv(corrected), 'corrected.csv');
      const after = (await openDiscrepancies(stack)).map(labelOf).sort();
      expect(after).to.deep.equal(
        [
          ...expected.filter((label) => !label.startsWith('AMOUNT_MISMATCH') && (payoutRowOf(corrected, 'po_e2e').net !== payoutRowOf(rows, 'po_e2e').net || !label.startsWith('PAYOUT'))),
          `PROVIDER_ROW_RESTATED ${txn(skewed)}`,
        ].sort(),
      );
    } finally {
      await stack.stop();
    }
  });
});
