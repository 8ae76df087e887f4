/**
 * One-to-many, the bank's end: a payout (a provider's payout row, or Folio's own payout once paid)
 * arrives at the bank as one credit on a bank statement. Credits are matched to payouts by reference first (the
 * payout id the bank shows), then by amount, currency and date window; each credit consumes at
 * most one payout and each payout at most one credit, whichever side arrives first. A payout still
 * without its credit once the bank has reported its account past the day it was due is missing.
 */
import { paymentProviders, type StatementInfo, type StatementRow } from '@folio/shared';
import { classifyBankCredit, classifyPayoutAtBank, fittingPayouts, type BankCreditFacts, type ProviderPayoutFacts } from './bankCreditClassification.js';
import type { RowSubject, StatementSubject } from './reconciliationDocuments.js';
import type { MoneyFact, RowFacts } from './reconciliationFacts.js';
import { type Context, getSubject, putSubject, syncFindings } from './reconciliationContext.js';
import { instantOf } from './rowMatching.js';
import { payoutIdOfPayoutRow, payoutKeyOf } from './subjectEvaluation.js';

type BankPayoutSubject = StatementSubject & {
  bankPayout: ProviderPayoutFacts;
  /** The credit that consumed the payout. */
  credit?: string;
  /** Credits that were waiting and all fit it: reported, not guessed between. */
  ambiguousCredits?: string[];
  /** Credits that list it among the several payouts they fit: looked at again once it is taken. */
  ambiguousFor?: string[];
  /** Lookups the payout is listed under, to be taken out of when it changes. */
  listedUnder: string[];
};

type BankCreditSubject = StatementSubject & {
  bankCredit: BankCreditFacts;
  /** The payout the credit consumed. */
  payout?: string;
  /** Payouts that all fit it: reported, not guessed between. */
  candidates?: string[];
  /** Payouts that it, waiting, fitted among other credits: looked at again once it is taken. */
  ambiguousFor?: string[];
  /** Lookups it waits under for its payout. */
  listedUnder: string[];
};

interface IdList {
  _id: string;
  ids: string[];
}

const payoutByReference = (value: string) => `bank-payout-ref:${value}`;
const payoutByAmount = (currency: string, amount: bigint) => `bank-payout-amount:${currency}:${amount}`;
const creditByReference = (value: string) => `bank-credit-ref:${value}`;
const creditByAmount = (currency: string, amount: bigint) => `bank-credit-amount:${currency}:${amount}`;
const openPayouts = (currency: string) => `bank-payouts-open:${currency}`;
/** Until when the bank has reported accounts in a currency (latest booking or statement date seen). */
const bankReach = (currency: string) => `bank-reached:${currency}`;
const unconsumed = (key: string) => key.startsWith('bank-payout-amount:') || key.startsWith('bank-payouts-open:');

interface BankReach {
  _id: string;
  until: string;
}

const membersOf = async (context: Context, id: string): Promise<string[]> =>
  (await context.docs.get<IdList>(context.collections.lookups!, id))?.ids ?? [];

const list = async (context: Context, id: string, member: string): Promise<void> => {
  const lookups = context.collections.lookups!;
  const current = (await context.docs.get<IdList>(lookups, id)) ?? { _id: id, ids: [] };
  if (!current.ids.includes(member)) context.docs.put(lookups, { ...current, ids: [...current.ids, member] });
};

const unlist = async (context: Context, id: string, member: string): Promise<void> => {
  const lookups = context.collections.lookups!;
  const current = await context.docs.get<IdList>(lookups, id);
  if (current === undefined || !current.ids.includes(member)) return;
  const ids = current.ids.filter((existing) => existing !== member);
  if (ids.length === 0) context.docs.delete(lookups, id);
  else context.docs.put(lookups, { ...current, ids });
};

const unlistAll = async (context: Context, subject: BankPayoutSubject | BankCreditSubject): Promise<void> => {
  for (const id of subject.listedUnder) await unlist(context, id, subject._id);
  subject.listedUnder = [];
};

/** Amounts within the tolerance of `amount`. */
const near = (context: Context, amount: string): bigint[] => {
  const tolerance = BigInt(context.rules.amountToleranceMinorUnits);
  const amounts: bigint[] = [];
  for (let candidate = BigInt(amount) - tolerance; candidate <= BigInt(amount) + tolerance; candidate++) amounts.push(candidate);
  return amounts;
};

const referenceValues = (row: RowSubject): string[] => [...new Set(row.facts.references.map((reference) => reference.value))];

/** What a payout row's references say at the bank: only those naming the payout, not an account with many. */
const payoutReferenceValues = (context: Context, facts: RowFacts): string[] =>
  facts.references.filter((reference) => context.rules.bankPayoutReferenceKinds.includes(reference.kind)).map((reference) => reference.value);

const link = async (context: Context, credit: BankCreditSubject, payout: BankPayoutSubject): Promise<void> => {
  credit.payout = payout._id;
  delete credit.candidates;
  await unlistAll(context, credit);
  payout.credit = credit._id;
  delete payout.ambiguousCredits;
  const ambiguous = (payout.ambiguousFor ?? []).filter((id) => id !== credit._id);
  delete payout.ambiguousFor;
  const waitedFor = (credit.ambiguousFor ?? []).filter((id) => id !== payout._id);
  delete credit.ambiguousFor;
  // A consumed payout stays findable by reference (a second credit naming it is no match), not by amount.
  for (const id of payout.listedUnder.filter(unconsumed)) await unlist(context, id, payout._id);
  payout.listedUnder = payout.listedUnder.filter((key) => !unconsumed(key));
  await judgePayout(context, payout);
  await rematchCredits(context, payout._id, ambiguous);
  await reofferPayouts(context, credit._id, waitedFor);
};

/** Credits that fitted a payout among others, once it is taken, withdrawn or changed: matched again against the payouts still free. */
const rematchCredits = async (context: Context, payoutId: string, creditIds: readonly string[]): Promise<void> => {
  for (const id of creditIds) {
    const credit = await getSubject<BankCreditSubject>(context, id);
    if (credit === undefined || credit.payout !== undefined || !(credit.candidates ?? []).includes(payoutId)) continue;
    await unlistAll(context, credit);
    await matchCredit(context, credit);
    await judge(context, credit);
  }
};

/** Payouts a waiting credit fitted among others, once it is taken, withdrawn or changed: offered again to the credits left. */
const reofferPayouts = async (context: Context, creditId: string, payoutIds: readonly string[]): Promise<void> => {
  for (const id of payoutIds) {
    const payout = await getSubject<BankPayoutSubject>(context, id);
    if (payout === undefined || payout.credit !== undefined || !(payout.ambiguousCredits ?? []).includes(creditId)) continue;
    await offerPayout(context, payout._id, payout.sortableLastPosition, payout.bankPayout);
  }
};

const judgePayout = async (context: Context, payout: BankPayoutSubject): Promise<void> => {
  const facts = payout.bankPayout;
  const reach = await context.docs.get<BankReach>(context.collections.lookups!, bankReach(facts.paidOut.currency));
  const ambiguous: BankCreditFacts[] = [];
  for (const id of payout.ambiguousCredits ?? []) {
    const credit = await getSubject<BankCreditSubject>(context, id);
    if (credit !== undefined) ambiguous.push(credit.bankCredit);
  }
  const findings = classifyPayoutAtBank(facts, payout.credit !== undefined, reach?.until, context.rules, ambiguous);
  await syncFindings(context, payout, findings, facts.provider, facts.paidOut.currency);
  putSubject(context, payout);
};

/** The bank has reported an account in `currency` up to `date`: payouts due by then are judged again. */
const bankReported = async (context: Context, currency: string, date: string): Promise<void> => {
  const lookups = context.collections.lookups!;
  const reach = await context.docs.get<BankReach>(lookups, bankReach(currency));
  if (reach !== undefined && instantOf(reach.until) >= instantOf(date)) return;
  context.docs.put(lookups, { _id: bankReach(currency), until: date });
  for (const id of await membersOf(context, openPayouts(currency))) {
    const payout = await getSubject<BankPayoutSubject>(context, id);
    if (payout !== undefined && payout.credit === undefined) await judgePayout(context, payout);
  }
};

/**
 * Bank statement formats, names the rules list as banks, and a generic CSV imported under a name
 * that is no payment provider's (a bank's own export).
 */
const isBankSource = (context: Context, provider: string, format: string): boolean =>
  context.rules.bankFormats.includes(format) ||
  context.rules.bankProviders.includes(provider) ||
  (format === 'csv' && !(paymentProviders as readonly string[]).includes(provider));

/** A bank statement imported: the bank has reported its account up to the statement's end. */
export const bankStatementSeen = async (context: Context, provider: string, format: string, statement: StatementInfo): Promise<void> => {
  if (!isBankSource(context, provider, format)) return;
  const closing = statement.balances.find((balance) => balance.type === 'CLBD' || balance.type === '62F');
  const date = closing?.date ?? statement.periodEnd ?? statement.createdAt;
  const currency = statement.currency ?? closing?.currency;
  if (date !== undefined && currency !== undefined) await bankReported(context, currency, date);
};

const judge = async (context: Context, credit: BankCreditSubject): Promise<void> => {
  const facts = credit.bankCredit;
  const payout = credit.payout === undefined ? undefined : await getSubject<BankPayoutSubject>(context, credit.payout);
  const candidates: BankPayoutSubject[] = [];
  for (const id of credit.candidates ?? []) {
    const candidate = await getSubject<BankPayoutSubject>(context, id);
    if (candidate !== undefined) candidates.push(candidate);
  }
  const findings = classifyBankCredit(
    facts,
    payout === undefined ? { candidates: candidates.map((candidate) => candidate.bankPayout) } : { payout: payout.bankPayout },
    context.rules,
  );
  await syncFindings(context, credit, findings, facts.provider, facts.credited.currency);
  putSubject(context, credit);
};

/** The payouts a credit's references name, in the order it names them. */
const payoutsNamedBy = async (context: Context, credit: BankCreditFacts): Promise<BankPayoutSubject[]> => {
  const named: BankPayoutSubject[] = [];
  for (const value of credit.references)
    for (const id of await membersOf(context, payoutByReference(value))) {
      const payout = await getSubject<BankPayoutSubject>(context, id);
      if (payout !== undefined) named.push(payout);
    }
  return named;
};

/**
 * Whether a credit names a payout that another credit took: it is that payout's second credit, and
 * is given no other payout by amount, whichever of it and that other payout arrived first.
 */
const namesTakenPayout = async (context: Context, credit: BankCreditFacts): Promise<boolean> =>
  (await payoutsNamedBy(context, credit)).some((payout) => payout.credit !== undefined);

/** Looks for the payout a credit is: by reference, else by the rules; else it waits for one. */
const matchCredit = async (context: Context, credit: BankCreditSubject): Promise<void> => {
  const facts = credit.bankCredit;
  const named = await payoutsNamedBy(context, facts);
  const free = named.find((payout) => payout.credit === undefined);
  if (free !== undefined) return link(context, credit, free);
  const open: BankPayoutSubject[] = [];
  // Every payout it names is taken: it is a second credit for one of them, not another's by amount.
  for (const amount of named.length > 0 ? [] : near(context, facts.credited.amount))
    for (const id of await membersOf(context, payoutByAmount(facts.credited.currency, amount))) {
      const payout = await getSubject<BankPayoutSubject>(context, id);
      if (payout !== undefined && payout.credit === undefined) open.push(payout);
    }
  const fitting = fittingPayouts(facts, open.map((payout) => payout.bankPayout), context.rules);
  const fittingSubjects = open.filter((payout) => fitting.includes(payout.bankPayout));
  const only = fittingSubjects.length === 1 ? fittingSubjects[0]! : undefined;
  // A payout that several waiting credits already fit is theirs to share: the credit waits with them.
  if (only !== undefined && only.ambiguousCredits === undefined) return link(context, credit, only);
  if (fittingSubjects.length > 1) {
    credit.candidates = fittingSubjects.map((payout) => payout._id).sort();
    for (const payout of fittingSubjects) {
      if (payout.ambiguousFor?.includes(credit._id)) continue;
      payout.ambiguousFor = [...(payout.ambiguousFor ?? []), credit._id];
      putSubject(context, payout);
    }
  } else delete credit.candidates;
  await listCredit(context, credit);
  if (only === undefined) return;
  // Stored first: the payout looks again among the waiting credits, this one with them.
  putSubject(context, credit);
  await offerPayout(context, only._id, only.sortableLastPosition, only.bankPayout);
};

/** Lists a credit no payout took under its amount and the references it shows, for payouts to come. */
const listCredit = async (context: Context, credit: BankCreditSubject): Promise<void> => {
  const { credited, references } = credit.bankCredit;
  await unlistAll(context, credit);
  credit.listedUnder = [creditByAmount(credited.currency, BigInt(credited.amount)), ...references.map(creditByReference)];
  for (const key of credit.listedUnder) await list(context, key, credit._id);
};

/** The money a credit brought in, or a payout sent. */
const moneyOf = (facts: BankCreditFacts | ProviderPayoutFacts): MoneyFact => ('credited' in facts ? facts.credited : facts.paidOut);

/** Whether a credit's or a payout's new version can be matched by anything its last version could not. */
const matchedDifferently = <Facts extends BankCreditFacts | ProviderPayoutFacts>(previous: Facts, current: Facts): boolean =>
  moneyOf(previous).amount !== moneyOf(current).amount ||
  moneyOf(previous).currency !== moneyOf(current).currency ||
  previous.date !== current.date ||
  previous.references.join('\n') !== current.references.join('\n');

/**
 * Gives back the payout a credit's last version took, listed again as a payout no credit took:
 * the new version is matched as a new credit would be, and may take it back first.
 */
const releasePayout = async (context: Context, credit: BankCreditSubject): Promise<BankPayoutSubject | undefined> => {
  const payout = credit.payout === undefined ? undefined : await getSubject<BankPayoutSubject>(context, credit.payout);
  delete credit.payout;
  if (payout === undefined) return undefined;
  delete payout.credit;
  await listPayout(context, payout);
  return payout;
};

const placeCredit = async (context: Context, row: RowSubject, credited: { amount: string; currency: string }): Promise<void> => {
  const id = `bank-credit:${row.facts.stream}`;
  const facts: BankCreditFacts = {
    provider: row.facts.provider,
    rowKey: row.facts.rowKey,
    credited,
    ...(row.facts.date === undefined ? {} : { date: row.facts.date }),
    references: referenceValues(row),
    evidence: row.facts.evidence,
  };
  const existing = await getSubject<BankCreditSubject>(context, id);
  const credit: BankCreditSubject = {
    ...(existing ?? { _id: id, kind: 'statement' as const, findings: {}, listedUnder: [] }),
    sortableLastPosition: row.sortableLastPosition,
    bankCredit: facts,
  };
  const released = existing?.payout !== undefined && matchedDifferently(existing.bankCredit, facts) ? await releasePayout(context, credit) : undefined;
  if (credit.payout === undefined) {
    const waitedFor = credit.ambiguousFor ?? [];
    delete credit.ambiguousFor;
    await unlistAll(context, credit);
    await matchCredit(context, credit);
    // Stored first: the payouts it fitted look again among the waiting credits, its new version with them.
    putSubject(context, credit);
    await reofferPayouts(context, credit._id, waitedFor);
  }
  // Not taken back by the new version: the payout waits for, or takes, another credit.
  if (released !== undefined && released.credit === undefined) await offerPayout(context, released._id, released.sortableLastPosition, released.bankPayout);
  await judge(context, credit);
};

/**
 * A credit whose row was restated into no credit (reversed, no longer booked): it stops being
 * looked for and what it reported is cleared; the payout it had consumed waits for another.
 */
const withdrawCredit = async (context: Context, row: RowSubject): Promise<void> => {
  const credit = await getSubject<BankCreditSubject>(context, `bank-credit:${row.facts.stream}`);
  if (credit === undefined) return;
  await unlistAll(context, credit);
  const payoutId = credit.payout;
  const waitedFor = credit.ambiguousFor ?? [];
  delete credit.payout;
  delete credit.candidates;
  delete credit.ambiguousFor;
  await syncFindings(context, credit, [], credit.bankCredit.provider, credit.bankCredit.credited.currency);
  putSubject(context, credit);
  await reofferPayouts(context, credit._id, waitedFor);
  const payout = payoutId === undefined ? undefined : await getSubject<BankPayoutSubject>(context, payoutId);
  if (payout === undefined) return;
  delete payout.credit;
  await offerPayout(context, payout._id, payout.sortableLastPosition, payout.bankPayout);
};

/** A payout whose row was restated into no payout: the credit it had consumed looks for another. */
const withdrawPayout = async (context: Context, id: string): Promise<void> => {
  const payout = await getSubject<BankPayoutSubject>(context, id);
  if (payout === undefined) return;
  await unlistAll(context, payout);
  const creditId = payout.credit;
  const contested = payout.ambiguousFor ?? [];
  delete payout.credit;
  // No longer a payout: it neither waits among credits nor is one of a credit's candidates.
  delete payout.ambiguousCredits;
  delete payout.ambiguousFor;
  await syncFindings(context, payout, [], payout.bankPayout.provider, payout.bankPayout.paidOut.currency);
  putSubject(context, payout);
  await rematchCredits(context, id, contested);
  const credit = creditId === undefined ? undefined : await getSubject<BankCreditSubject>(context, creditId);
  if (credit === undefined) return;
  delete credit.payout;
  await matchCredit(context, credit);
  await judge(context, credit);
};

/** The payout a provider's payout row (a version of it) is, as the bank should show it. */
const bankPayoutOf = (context: Context, facts: RowFacts): { id: string; payoutId: string } | undefined => {
  if (!context.rules.payoutCategories.includes(facts.category)) return undefined;
  const payoutId = payoutIdOfPayoutRow(facts, context.rules);
  if (payoutId === undefined) return undefined;
  return { id: `bank-payout:${payoutKeyOf(facts, payoutId)}`, payoutId };
};

/** A provider's payout row, new or changed: a payout the bank should show. */
const offerPayoutRow = async (context: Context, row: RowSubject): Promise<void> => {
  const facts = row.facts;
  const payout = bankPayoutOf(context, facts);
  if (payout === undefined) return;
  const { id, payoutId } = payout;
  const net = facts.net ?? facts.gross;
  if (net === undefined || BigInt(net.amount) >= 0n) return withdrawPayout(context, id);
  // A changed payout may no longer fit the credits that fitted it among others: they look again.
  const contested = (await getSubject<BankPayoutSubject>(context, id))?.ambiguousFor ?? [];
  await offerPayout(context, id, row.sortableLastPosition, {
    provider: facts.provider,
    payoutId,
    paidOut: { amount: (-BigInt(net.amount)).toString(), currency: net.currency },
    ...(facts.date === undefined ? {} : { date: facts.date }),
    // A batch keyed by its account (an Adyen merchant account's) shares its number with other accounts' batches, and
    // the bank line does not say which account: that number names none of them, the amount and date find it.
    references: [...new Set([...(facts.account === undefined ? [payoutId] : []), ...payoutReferenceValues(context, facts)])],
    evidence: facts.evidence,
  });
  if (contested.length === 0) return;
  const offered = (await getSubject<BankPayoutSubject>(context, id))!;
  delete offered.ambiguousFor;
  putSubject(context, offered);
  await rematchCredits(context, id, contested);
};

/** Lists a payout under the references the bank may show for it and, while no credit took it, under its amount and as open. */
const listPayout = async (context: Context, payout: BankPayoutSubject): Promise<void> => {
  const { paidOut, references } = payout.bankPayout;
  await unlistAll(context, payout);
  payout.listedUnder = [
    ...references.map(payoutByReference),
    ...(payout.credit === undefined ? [payoutByAmount(paidOut.currency, BigInt(paidOut.amount)), openPayouts(paidOut.currency)] : []),
  ];
  for (const key of payout.listedUnder) await list(context, key, payout._id);
};

/**
 * Gives back the credit a payout's last version took, listed again as a credit no payout took: the
 * new version is matched as a new payout would be, and may take it back. A credit naming the new
 * version keeps it (and reports the difference): a second credit naming it is not its credit.
 */
const releaseCredit = async (context: Context, payout: BankPayoutSubject): Promise<BankCreditSubject | undefined> => {
  const credit = payout.credit === undefined ? undefined : await getSubject<BankCreditSubject>(context, payout.credit);
  if (credit?.bankCredit.references.some((value) => payout.bankPayout.references.includes(value)) === true) return undefined;
  delete payout.credit;
  if (credit === undefined) return undefined;
  delete credit.payout;
  await listCredit(context, credit);
  return credit;
};

/**
 * A payout the bank should show (a provider's payout row, or Folio's own payout once paid), new or
 * changed: listed for credits to come, and given a credit already waiting for it.
 */
export const offerPayout = async (context: Context, id: string, sortableLastPosition: string, bankPayout: ProviderPayoutFacts): Promise<void> => {
  const existing = await getSubject<BankPayoutSubject>(context, id);
  const payout: BankPayoutSubject = {
    ...(existing ?? { _id: id, kind: 'statement' as const, findings: {}, listedUnder: [] }),
    sortableLastPosition,
    bankPayout,
  };
  const released = existing?.credit !== undefined && matchedDifferently(existing.bankPayout, bankPayout) ? await releaseCredit(context, payout) : undefined;
  await listPayout(context, payout);
  // Judged only once its credit has been looked for: a payout a waiting credit takes now was never missing.
  if (payout.credit !== undefined) {
    await judgePayout(context, payout);
    const credit = await getSubject<BankCreditSubject>(context, payout.credit);
    if (credit !== undefined) await judge(context, credit);
    return;
  }
  await matchPayout(context, payout);
  // Not taken back by the new version: the credit takes, or waits for, another payout.
  if (released !== undefined && released.payout === undefined) {
    await matchCredit(context, released);
    await judge(context, released);
  }
};

/** Looks for the credit a payout is among the credits waiting: by reference, else by the rules; else it waits for one. */
const matchPayout = async (context: Context, payout: BankPayoutSubject): Promise<void> => {
  const { _id: id, bankPayout } = payout;
  const { paidOut } = bankPayout;
  for (const value of bankPayout.references)
    for (const creditId of await membersOf(context, creditByReference(value))) {
      const credit = await getSubject<BankCreditSubject>(context, creditId);
      if (credit === undefined || credit.payout !== undefined) continue;
      await link(context, credit, payout);
      return judge(context, credit);
    }
  const fitting: BankCreditSubject[] = [];
  for (const amount of near(context, paidOut.amount))
    for (const creditId of await membersOf(context, creditByAmount(paidOut.currency, amount))) {
      const credit = await getSubject<BankCreditSubject>(context, creditId);
      // A credit that already fits several payouts stays reported: one more does not settle it.
      if (credit === undefined || credit.payout !== undefined || credit.candidates !== undefined) continue;
      if (await namesTakenPayout(context, credit.bankCredit)) continue;
      if (fittingPayouts(credit.bankCredit, [bankPayout], context.rules).length === 1) fitting.push(credit);
    }
  if (fitting.length === 1) {
    await link(context, fitting[0]!, payout);
    return judge(context, fitting[0]!);
  }
  if (fitting.length > 1) {
    payout.ambiguousCredits = fitting.map((credit) => credit._id).sort();
    for (const credit of fitting) {
      if (credit.ambiguousFor?.includes(id)) continue;
      credit.ambiguousFor = [...(credit.ambiguousFor ?? []), id];
      putSubject(context, credit);
    }
  } else delete payout.ambiguousCredits;
  await judgePayout(context, payout);
};

/** Whether a row is money arriving on a bank account: a credit of a bank statement. */
const bankCreditOf = (row: RowSubject, statementRow: StatementRow): { amount: string; currency: string } | undefined => {
  if (statementRow.reversal === true || (statementRow.status !== undefined && statementRow.status !== 'BOOK')) return undefined;
  const amount = row.facts.net ?? row.facts.gross;
  return amount === undefined || BigInt(amount.amount) <= 0n ? undefined : amount;
};

/**
 * The bank side of a row's new version: a provider payout row, or a bank credit. A payout row
 * restated into another payout (or none) withdraws the one its last version (`previous`) was.
 */
export const reconcileBankSide = async (context: Context, row: RowSubject, statementRow: StatementRow, format: string, previous?: RowFacts): Promise<void> => {
  const left = previous === undefined ? undefined : bankPayoutOf(context, previous);
  if (left !== undefined && left.id !== bankPayoutOf(context, row.facts)?.id) await withdrawPayout(context, left.id);
  if (context.rules.payoutCategories.includes(row.facts.category)) return offerPayoutRow(context, row);
  if (!isBankSource(context, row.facts.provider, format)) return;
  const credited = bankCreditOf(row, statementRow);
  if (credited !== undefined) await placeCredit(context, row, credited);
  else await withdrawCredit(context, row);
  const amount = row.facts.net ?? row.facts.gross;
  if (amount !== undefined && row.facts.date !== undefined) await bankReported(context, amount.currency, row.facts.date);
};
