import { translatedErrors } from '../http/input.js';
import type { TFunction } from '../lib/i18n.js';
import { ROLES, type User } from './account.js';
import type { ListedUser } from './user-admin-service.js';

/** The invitation form as typed, and what is wrong with it (i18n keys per field). */
export interface InviteForm {
  values: { email: string; role: string };
  errors: Partial<Record<string, string>>;
}

export const EMPTY_INVITE: InviteForm = { values: { email: '', role: 'organizer' }, errors: {} };

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
    values: form.values,
    ...errors,
    errorList: refusal
      ? [{ field: null, message: t(refusal.messageKey, refusal.params) }, ...errors.errorList]
      : errors.errorList,
    notice,
  };
}
