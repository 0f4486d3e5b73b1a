import { expect } from 'vitest';
import type { Role, User } from '../../server/accounts/account.js';
import { hashPassword } from '../../server/accounts/passwords.js';
import type { Platform } from '../../server/wiring.js';
import { Visitor } from './http.js';

/** The password every test account gets once it is past its one-time password. */
export const TEST_PASSWORD = 'a long test password, not a real one';

let sequence = 0;

/**
 * An account ready to use: created as an admin would (one-time password), then given TEST_PASSWORD
 * directly, so tests that are not about the first login skip the password change.
 */
export async function createAccount(platform: Platform, role: Role, email?: string): Promise<User> {
  sequence += 1;
  const { user } = await platform.accounts.createUser(email ?? `${role}-${sequence}@example.org`, role);
  await platform.repositories.users.setPassword(
    user.id,
    await hashPassword(TEST_PASSWORD),
    false,
    platform.clock.now(),
  );
  return (await platform.repositories.users.findById(user.id))!;
}

/** Logs a new visitor in through the login form and checks that it worked. */
export async function loginAs(
  app: ConstructorParameters<typeof Visitor>[0],
  user: Pick<User, 'email'>,
  password = TEST_PASSWORD,
): Promise<Visitor> {
  const visitor = new Visitor(app);
  const response = await visitor.submit('/login', '/login', { email: user.email, password, next: '/admin' });
  expect(response.status, `login of ${user.email}`).toBe(303);
  expect(response.headers.location).toBe('/admin');
  return visitor;
}

/** Creates an account with `role` and logs it in. */
export async function signedIn(
  app: ConstructorParameters<typeof Visitor>[0],
  platform: Platform,
  role: Role,
): Promise<{ user: User; visitor: Visitor }> {
  const user = await createAccount(platform, role);
  return { user, visitor: await loginAs(app, user) };
}
