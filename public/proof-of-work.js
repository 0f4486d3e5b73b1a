// The signing form's proof of work: the ALTCHA widget (loaded just before this file, from our own
// origin) solves our PBKDF2 challenges in a worker served from our origin too. The widget's "external"
// build ships no workers of its own, so it is told where ours is; nothing is fetched from elsewhere.
const createWorker = () => new Worker('/assets/altcha/pbkdf2-worker.js');
for (const algorithm of ['PBKDF2/SHA-256', 'PBKDF2/SHA-384', 'PBKDF2/SHA-512']) {
  globalThis.$altcha.algorithms.set(algorithm, createWorker);
}
