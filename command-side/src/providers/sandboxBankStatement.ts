import { formatDecimalAmount, type CurrencyCode } from '@folio/shared';

/** Money the provider paid into the merchant's bank account: one payout. */
export interface BankCredit {
  /** What the bank shows as the credit's reference: the payout id. */
  reference: string;
  /** Negative when the payout took money from the account (its refunds and fees exceeded its charges): a debit entry. */
  amount: bigint;
  currency: CurrencyCode;
  bookedAt: Date;
}

/**
 * Faults a bank statement can carry, each aimed at what it names, so a check knows exactly
 * which discrepancy each one must cause.
 */
export interface BankStatementFaults {
  /** Statements of the sequence never delivered before this one (its number jumps by that many). */
  skippedStatements: number;
  /** Minor units the closing balance is off from opening + entries. */
  closingBalanceSkew: bigint;
  /** Credits (by reference) left off the statement. */
  missingCredits: readonly string[];
  /** Credits (by reference) booked for one minor unit more than was paid. */
  skewedCredits: readonly string[];
  /** Credits (by reference) booked without their reference: only amount and date can match them. */
  unreferencedCredits: readonly string[];
  /** Credits (minor units) that no payout explains. */
  unknownCredits: readonly bigint[];
}

export interface BankStatementRequest {
  /** The account (IBAN) the provider pays out to. */
  account: string;
  currency: CurrencyCode;
  sequenceNumber: bigint;
  /** Booked balance before the statement's entries. */
  openingBalance: bigint;
  credits: readonly BankCredit[];
  createdAt: Date;
  faults?: Partial<BankStatementFaults>;
}

const escape = (text: string): string => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
const day = (at: Date): string => at.toISOString().slice(0, 10);

/**
 * The bank's ISO 20022 camt.053 statement of the account a provider pays out to: one booked
 * entry per payout (a credit, or a debit for a negative one), with the payout id as end-to-end
 * reference, opening and closing booked balances, control totals that match the entries as
 * written (faults included), and the faults asked for. Answers the file and the closing
 * balance as booked (the next statement's opening).
 */
export const sandboxBankStatement = (request: BankStatementRequest): { xml: string; closingBalance: bigint; sequenceNumber: bigint } => {
  const faults = request.faults ?? {};
  const { currency } = request;
  const entries: { reference?: string; amount: bigint; bookedAt: Date; serial: number }[] = [];
  let serial = 0;
  for (const credit of request.credits) {
    serial += 1;
    if (faults.missingCredits?.includes(credit.reference)) continue;
    entries.push({
      ...(faults.unreferencedCredits?.includes(credit.reference) ? {} : { reference: credit.reference }),
      amount: credit.amount + (faults.skewedCredits?.includes(credit.reference) ? 1n : 0n),
      bookedAt: credit.bookedAt,
      serial,
    });
  }
  for (const amount of faults.unknownCredits ?? []) entries.push({ amount, bookedAt: request.createdAt, serial: ++serial });

  const sequenceNumber = request.sequenceNumber + BigInt(faults.skippedStatements ?? 0);
  const credits = entries.filter((entry) => entry.amount >= 0n);
  const debits = entries.filter((entry) => entry.amount < 0n);
  const sumOf = (items: readonly { amount: bigint }[]) => items.reduce((sum, item) => sum + item.amount, 0n);
  const closingBalance = request.openingBalance + sumOf(entries);
  const statementId = `SBX-${request.account}-${sequenceNumber}`;
  const amount = (units: bigint) => `<Amt Ccy="${currency}">${formatDecimalAmount(units < 0n ? -units : units, currency)}</Amt>`;
  const balance = (code: string, units: bigint) =>
    `<Bal><Tp><CdOrPrtry><Cd>${code}</Cd></CdOrPrtry></Tp>${amount(units)}<CdtDbtInd>${units < 0n ? 'DBIT' : 'CRDT'}</CdtDbtInd><Dt><Dt>${day(request.createdAt)}</Dt></Dt></Bal>`;
  const entry = (item: (typeof entries)[number]) =>
    [
      '<Ntry>',
      `<NtryRef>${sequenceNumber}-${item.serial}</NtryRef>`,
      amount(item.amount),
      `<CdtDbtInd>${item.amount < 0n ? 'DBIT' : 'CRDT'}</CdtDbtInd><RvslInd>false</RvslInd><Sts><Cd>BOOK</Cd></Sts>`,
      `<BookgDt><Dt>${day(item.bookedAt)}</Dt></BookgDt><ValDt><Dt>${day(item.bookedAt)}</Dt></ValDt>`,
      `<AcctSvcrRef>${escape(statementId)}-${item.serial}</AcctSvcrRef>`,
      // A credit transfer received, or a direct debit the provider collected from the account.
      item.amount < 0n
        ? '<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RDDT</Cd><SubFmlyCd>ESDD</SubFmlyCd></Fmly></Domn></BkTxCd>'
        : '<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>',
      '<NtryDtls><TxDtls>',
      item.reference === undefined ? '' : `<Refs><EndToEndId>${escape(item.reference)}</EndToEndId></Refs>`,
      `<AmtDtls><TxAmt>${amount(item.amount)}</TxAmt></AmtDtls>`,
      item.amount < 0n ? '<RltdPties><Cdtr><Pty><Nm>Payment provider</Nm></Pty></Cdtr></RltdPties>' : '<RltdPties><Dbtr><Pty><Nm>Payment provider</Nm></Pty></Dbtr></RltdPties>',
      item.reference === undefined ? '<RmtInf><Ustrd>Payout</Ustrd></RmtInf>' : `<RmtInf><Ustrd>Payout ${escape(item.reference)}</Ustrd></RmtInf>`,
      '</TxDtls></NtryDtls>',
      '</Ntry>',
    ].join('');
  const xml = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>',
    `<GrpHdr><MsgId>${escape(statementId)}</MsgId><CreDtTm>${request.createdAt.toISOString()}</CreDtTm></GrpHdr>`,
    '<Stmt>',
    `<Id>${escape(statementId)}</Id><ElctrncSeqNb>${sequenceNumber}</ElctrncSeqNb><CreDtTm>${request.createdAt.toISOString()}</CreDtTm>`,
    `<Acct><Id><IBAN>${escape(request.account)}</IBAN></Id><Ccy>${currency}</Ccy></Acct>`,
    balance('OPBD', request.openingBalance),
    balance('CLBD', closingBalance + (faults.closingBalanceSkew ?? 0n)),
    `<TxsSummry><TtlCdtNtries><NbOfNtries>${credits.length}</NbOfNtries><Sum>${formatDecimalAmount(sumOf(credits), currency)}</Sum></TtlCdtNtries>`,
    `<TtlDbtNtries><NbOfNtries>${debits.length}</NbOfNtries><Sum>${formatDecimalAmount(-sumOf(debits), currency)}</Sum></TtlDbtNtries></TxsSummry>`,
    ...entries.map(entry),
    '</Stmt>',
    '</BkToCstmrStmt></Document>',
    '',
  ].join('\n');
  return { xml, closingBalance, sequenceNumber };
};
