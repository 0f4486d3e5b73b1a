import { inject } from 'vitest';
import { startWorkerFilesFrom } from '../../server/lib/worker-file.js';

// Every test file: the platforms' threads start from the run's build of server/ (worker-threads-global-setup.ts).
startWorkerFilesFrom(inject('workerFilesDir'));
