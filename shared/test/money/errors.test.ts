import { expect } from 'chai';
import { FolioError, ValidationError } from '../../src/errors/folioError.js';
import {
  CurrencyMismatchError,
  InvalidAmountError,
  MoneyOutOfRangeError,
  UnknownCurrencyError,
} from '../../src/money/index.js';

describe('money errors', () => {
  const errors: [Error, string][] = [
    [new InvalidAmountError('bad amount'), 'InvalidAmountError'],
    [new CurrencyMismatchError('USD', 'EUR'), 'CurrencyMismatchError'],
    [new MoneyOutOfRangeError('too large'), 'MoneyOutOfRangeError'],
    [new UnknownCurrencyError('no such currency'), 'UnknownCurrencyError'],
  ];

  it('are validation errors, mapped to HTTP 400, named after their class', () => {
    for (const [error, name] of errors) {
      expect(error).to.be.instanceOf(ValidationError).and.instanceOf(FolioError).and.instanceOf(Error);
      expect(error).to.include({ status: 400, type: 'validation', name });
    }
  });

  it('name both currencies of a mismatch', () => {
    const error = new CurrencyMismatchError('USD', 'EUR');
    expect(error).to.include({ expected: 'USD', actual: 'EUR' });
    expect(error.message).to.equal('currency mismatch: expected an amount in USD, got one in EUR');
  });
});
