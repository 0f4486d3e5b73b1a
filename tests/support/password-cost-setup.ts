import { hashPasswordsAtCost } from '../../server/accounts/passwords.js';

// Every test file but the unit tests' (which check the production cost, tests/unit/accounts/password-cost.test.ts):
// Argon2id at its smallest cost, through the same code, so the suite's thousands of test accounts and
// logins do not each take ~50 ms of CPU per hash. Verifying reads the cost from the hash itself.
hashPasswordsAtCost({ memoryCost: 8, timeCost: 1, parallelism: 1 });
