/**
 * Words as search finds them: runs of letters, digits and the marks on them, in NFC (the form
 * every text is stored in). Both sides of a search split with this one rule: what is indexed and
 * what is asked. FTS5's own tokenizer keeps characters its tables do not know (private use, the
 * newest emoji) inside a word, which a query split here would never find.
 */
const WORD = /[\p{L}\p{N}\p{M}]+/gu;
const HAS_LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;

export const searchWordsOf = (text: string): string[] =>
  (text.normalize('NFC').match(WORD) ?? []).filter((word) => HAS_LETTER_OR_DIGIT.test(word));
