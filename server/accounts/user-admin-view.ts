import { translatedErrors } from '../http/input.js';
import { INTERFACE_LANGUAGE_NAMES, INTERFACE_LANGUAGES, type TFunction } from '../lib/i18n.js';
import { ROLES, type User } from './account.js';
import type { ListedUser } from './user-admin-service.js';

/** The invitation form as typed, and what is wrong with it (i18n keys per field). */
export interface InviteForm {
  /** `language`: the invitation's, and the new account's e-mails' until they choose their own. */
  values: { email: string; role: string; language: string };
  errors: Partial<Record<string, string>>;
}

/** The invitation form before anything is typed: its language is the one the admin is using. */
export const emptyInvite = (language: string): InviteForm => ({
  values: { email: '', role: 'organizer', language },
  errors: {},
});

const roleOptions = (t: TFunction, chosen: string) =>
  ROLES.map((r) => ({ role: r, selected: r === chosen, label: t(`users.roles.${r}`) }));

/** The users page's context: every account with its role choices (one's own marked), and the invitation form. */
export function usersPageView(
  t: TFunction,
  me: User,
  users: readonly ListedUser[],
  form: InviteForm,
  notice: string | undefined,
  /** A step on the list that was refused (the last admin's role, say): said at the top of this page. */
  refusal?: { messageKey: string; params?: Record<string, unknown> | undefined },
) {
  const errors = translatedErrors(t, form.errors);
  return {
    pageTitle: t('users.title'),
    users: users.map((u) => ({ ...u, me: u.id === me.id, roles: roleOptions(t, u.role) })),
    roles: roleOptions(t, form.values.role),
    // Each language named in itself, as the switcher and the account page name them.
    languages: INTERFACE_LANGUAGES.map((code) => ({
      code,
      name: INTERFACE_LANGUAGE_NAMES[code],
      selected: code === form.values.language,
    })),
    values: form.values,
    ...errors,
    errorList: refusal
      ? [{ field: null, message: t(refusal.messageKey, refusal.params) }, ...errors.errorList]
      : errors.errorList,
    notice,
  };
}
