import type { TFunction } from '../lib/i18n.js';

/**
 * The texts public/verify.js writes into /verify, in the page's language, as data-t-<name> attributes
 * (the script cannot read the catalogs). Placeholders stay as {name} for the script to fill: it alone
 * knows the receipt, which never reaches the server.
 */
export function verifyScriptTexts(t: TFunction): { name: string; text: string }[] {
  const open = (...names: string[]) => Object.fromEntries(names.map((name) => [name, `{${name}}`]));
  const texts: Record<string, string> = {
    validHeading: t('verify.result.validHeading'),
    invalidHeading: t('verify.result.invalidHeading'),
    valid: t('verify.result.valid', open('round', 'letter', 'total', 'root')),
    invalidRoot: t('verify.result.invalidRoot'),
    invalidSize: t('verify.result.invalidSize', open('receiptTotal', 'total')),
    invalidPath: t('verify.result.invalidPath'),
    needReceipt: t('verify.result.needReceipt'),
    needPublished: t('verify.result.needPublished'),
    noCrypto: t('verify.result.noCrypto'),
    looking: t('verify.published.looking'),
    fromRecord: t('verify.published.fromRecord', open('round', 'letter')),
    typed: t('verify.published.typed'),
    notFound: t('verify.published.notFound', open('round', 'letter')),
    unavailable: t('verify.published.unavailable'),
    fileUnreadable: t('verify.receipt.fileUnreadable'),
    malformed: t('verify.problem.malformed', open('problem')),
    problemTooLarge: t('verify.problem.tooLarge'),
    problemJson: t('verify.problem.json'),
    problemVersion: t('verify.problem.version'),
    problemField: t('verify.problem.field', open('field')),
    stepLeafData: t('verify.steps.leafData'),
    stepLeafHash: t('verify.steps.leafHash'),
    stepLeft: t('verify.steps.left', open('n', 'sibling')),
    stepRight: t('verify.steps.right', open('n', 'sibling')),
    stepReached: t('verify.steps.reached'),
    stepPublished: t('verify.steps.published'),
    consistencyNeedInput: t('verify.consistency.needInput'),
    consistencyValid: t('verify.consistency.valid', open('from', 'to', 'fromTotal', 'toTotal', 'letter')),
    consistencyInvalid: t('verify.consistency.invalid', open('from', 'to', 'letter')),
    consistencyRootDiffers: t('verify.consistency.rootDiffers', open('from', 'letter')),
    consistencyNotFound: t('verify.consistency.notFound', open('letter')),
    consistencyNotExtension: t('verify.consistency.notExtension', open('from', 'to', 'letter')),
  };
  // camelCase → the kebab-case of a data-* attribute, which the script reads back through dataset.
  return Object.entries(texts).map(([name, text]) => ({
    name: name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`),
    text,
  }));
}

/**
 * The two checks of docs/verification.md (§4 and §6) as the /verify/how page shows them: code, the same
 * in every language, beside translated explanations.
 */
export const HOW_CODE = {
  inclusion: [
    'if leafIndex >= treeSize: invalid',
    'fn = leafIndex; sn = treeSize - 1; r = leafHash',
    'for each p in proof:',
    '  if sn == 0: invalid',
    '  if fn is odd or fn == sn:',
    '    r = SHA-256(0x01 ‖ p ‖ r)',
    '    while fn is even and fn != 0: fn = fn >> 1; sn = sn >> 1',
    '  else:',
    '    r = SHA-256(0x01 ‖ r ‖ p)',
    '  fn = fn >> 1; sn = sn >> 1',
    'valid if sn == 0 and r == root',
  ].join('\n'),
  consistency: [
    'if m < 1 or m > n: invalid',
    'if m == n: valid if proof is empty and the roots are equal',
    'c = proof, with the earlier root put first when m is a power of two',
    'fn = m - 1; sn = n - 1',
    'while fn is odd: fn = fn >> 1; sn = sn >> 1',
    'fr = c[0]; sr = c[0]',
    'for each h in c after the first:',
    '  if sn == 0: invalid',
    '  if fn is odd or fn == sn:',
    '    fr = SHA-256(0x01 ‖ h ‖ fr); sr = SHA-256(0x01 ‖ h ‖ sr)',
    '    while fn is even and fn != 0: fn = fn >> 1; sn = sn >> 1',
    '  else:',
    '    sr = SHA-256(0x01 ‖ sr ‖ h)',
    '  fn = fn >> 1; sn = sn >> 1',
    'valid if fr == earlier root and sr == later root and sn == 0',
  ].join('\n'),
};
