import { z } from 'zod';
import { looksLikeEmailAddress } from '../lib/email-address.js';
import { interfaceLanguage, type InterfaceLanguage } from '../lib/i18n.js';
import { PASSWORD_MIN_LENGTH, safeNextPath } from './account.js';

// A field that is missing, repeated or not text reads as '' (a crafted body cannot smuggle arrays in).
const text = z
  .unknown()
  .optional()
  .transform((value) => (typeof value === 'string' ? value : ''));

/** The login form: the address as typed (trimmed), the password, and where to go after (a local path). */
export type LoginForm =
  | { ok: true; email: string; password: string; next: string }
  | { ok: false; values: { email: string; next: string }; errorKey: string };

const loginSchema = z.object({ email: text, password: text, next: z.unknown().optional() });

/** Reads the login form; both fields are needed (the password itself is checked by the service). */
export function parseLogin(body: Record<string, unknown>): LoginForm {
  const form = loginSchema.parse(body);
  const values = { email: form.email.trim(), next: safeNextPath(form.next) };
  if (!values.email || !form.password)
    return { ok: false, values, errorKey: 'account.errors.missingCredentials' };
  return { ok: true, ...values, password: form.password };
}

/** A new password typed twice (invitation, reset, change), and the current one where the form asks for it. */
export type NewPasswordForm =
  | { ok: true; password: string; current: string }
  | { ok: false; errors: { confirm: string; password?: string } };

const newPasswordSchema = z.object({ password: text, confirm: text, current: text });

/** Reads a new-password form: the two copies must be the same (the service checks the password's rules). */
export function parseNewPassword(body: Record<string, unknown>): NewPasswordForm {
  const form = newPasswordSchema.parse(body);
  if (form.password !== form.confirm) {
    // The length said with the mismatch: otherwise a person fixes the copy only to learn it is too short.
    const short = [...form.password].length < PASSWORD_MIN_LENGTH;
    return {
      ok: false,
      // In the form's order, as the summary lists them.
      errors: {
        ...(short ? { password: 'account.errors.passwordTooShort' } : {}),
        confirm: 'account.errors.passwordsDiffer',
      },
    };
  }
  return { ok: true, password: form.password, current: form.current };
}

/** The form asking for a reset link: an address, or the address as typed and why it is refused. */
export type ResetRequestForm =
  { ok: true; email: string } | { ok: false; values: { email: string }; errors: { email: string } };

const resetRequestSchema = z.object({ email: text.transform((value) => value.trim()) });

/** Reads the form asking for a reset link: something shaped like an e-mail address. */
export function parseResetRequest(body: Record<string, unknown>): ResetRequestForm {
  const { email } = resetRequestSchema.parse(body);
  if (!looksLikeEmailAddress(email))
    return { ok: false, values: { email }, errors: { email: 'account.errors.emailInvalid' } };
  return { ok: true, email };
}

/** The form choosing the language of one's e-mails: one of the interface languages, or why it is refused. */
export type EmailLanguageForm =
  { ok: true; language: InterfaceLanguage } | { ok: false; errors: { language: string } };

const emailLanguageSchema = z.object({ language: text });

/** Reads the e-mail language form: exactly one of the interface languages' codes ("ko", not "ko-KR" or "Korean"). */
export function parseEmailLanguage(body: Record<string, unknown>): EmailLanguageForm {
  const { language } = emailLanguageSchema.parse(body);
  const chosen = interfaceLanguage(language);
  if (chosen === undefined || chosen !== language)
    return { ok: false, errors: { language: 'account.emailLanguage.invalid' } };
  return { ok: true, language: chosen };
}
